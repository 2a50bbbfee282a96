"""経費精算 (expense claims): which part of a trip's toll an employee claims, and the totals.

A claim states, per trip, the amount billed to the card after rebate (差引後請求額, 後納料金)
and the business share of it. The claimed amount is ``billed × share %`` rounded down to the
yen (:func:`claimed_amount`); what is not claimed is private use and is shown as excluded.

Pure: no Qt, no SQL, no files. The store adapter and the exporters feed and read these values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

FULL_SHARE = 100
"""A business share (業務割合) is a whole percentage from 0 to 100."""


def claimed_amount(billed: int, business_share: int) -> int:
    """The claimable yen of one trip: ``billed × business_share / 100``, rounded down (切り捨て).

    Rounding is toward minus infinity, also for a negative adjustment row, so the claimant never
    claims a yen more than the business part of what the card was billed.

    >>> claimed_amount(1530, 80)
    1224
    >>> claimed_amount(999, 33)
    329
    >>> claimed_amount(-1050, 50)
    -525
    """
    _check_share(business_share)
    return (billed * business_share) // FULL_SHARE


def _check_share(business_share: int) -> None:
    if isinstance(business_share, bool) or not isinstance(business_share, int):
        raise TypeError(f"business share must be an int percentage, not {business_share!r}")
    if not 0 <= business_share <= FULL_SHARE:
        raise ValueError(f"business share must be 0..100 %, not {business_share}")


@dataclass(frozen=True, slots=True)
class ClaimHeader:
    """Who claims what: the block at the top of a 経費精算書.

    Attributes:
        claimant: 申請者, the employee claiming.
        department: 所属.
        holder: カード名義, the card holder (may differ from the claimant for a company card).
        card_last4: ETCカード末尾4桁; the app never knows more of the number.
        period_start: first day of the claimed period (対象期間), inclusive.
        period_end: last day of the claimed period, inclusive.
        mileage_id: ETCマイレージ member ID, or ``None`` to leave it off the claim.
        prepared_on: 作成日, the day the claim is drawn up.
        private_use_basis: 私用分除外の根拠, the user's own words for how the business share
            was set (e.g. "業務日誌により業務使用割合を80%とする"); empty for none given.
        approved_by: 承認者, who approved the claim (the accounts desk's login); empty before.
        approved_on: the day it was approved.
    """

    claimant: str
    department: str
    holder: str
    card_last4: str
    period_start: dt.date
    period_end: dt.date
    mileage_id: str | None = None
    prepared_on: dt.date | None = None
    private_use_basis: str = ""
    approved_by: str = ""
    approved_on: dt.date | None = None

    def __post_init__(self) -> None:
        if len(self.card_last4) != 4 or not self.card_last4.isdigit():
            raise ValueError(f"card_last4 must be 4 digits, not {self.card_last4!r}")
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")


@dataclass(frozen=True, slots=True)
class ClaimLine:
    """One trip on a claim, dated by its exit time (出口).

    Attributes:
        exit_at: exit date-time (利用年月日・時分（至）); decides the day and month of the trip.
            For a charge at an entry gate (no exit), the entry date-time, which dates it.
        entry_ic: 利用IC（自); empty for a charge at a single mainline gate.
        exit_ic: 利用IC（至); empty for a charge at an entry gate.
        operator: road operator (道路事業者) as it should be printed.
        vehicle: the vehicle (車両), e.g. ``CarA`` or the plate serial.
        purpose: 目的 (business purpose of the trip).
        toll: 通行料金 (after ETC discounts, before rebate).
        rebate_applied: 還元額充当, the part paid from ETCマイレージ rebate, not billed.
        business_share: 業務割合, whole percent 0..100.
        entry_at: entry date-time when known.
    """

    exit_at: dt.datetime
    entry_ic: str
    exit_ic: str
    operator: str
    vehicle: str
    purpose: str
    toll: int
    rebate_applied: int
    business_share: int
    entry_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        _check_share(self.business_share)

    @property
    def billed(self) -> int:
        """差引後請求額 (後納料金): the toll less the rebate applied, what the card is billed."""
        return self.toll - self.rebate_applied

    @property
    def claimed(self) -> int:
        """The claimable yen of this trip (see :func:`claimed_amount`)."""
        return claimed_amount(self.billed, self.business_share)

    @property
    def private_excluded(self) -> int:
        """私用分: the billed yen left out of the claim."""
        return self.billed - self.claimed

    @property
    def charged_at_entry(self) -> bool:
        """A charge at an entry gate: an entry IC and no exit (``exit_at`` is then the entry's
        time, which dates the trip; there is no exit time to show)."""
        return bool(self.entry_ic) and not self.exit_ic

    @property
    def route(self) -> str:
        """``入口IC → 出口IC``, the exit IC alone for a single-gate charge, or the entry IC with
        （入口で課金） for a charge at an entry gate."""
        if self.charged_at_entry:
            return f"{self.entry_ic}（入口で課金）"
        return f"{self.entry_ic} → {self.exit_ic}" if self.entry_ic else self.exit_ic


@dataclass(frozen=True, slots=True)
class AttachedOriginal:
    """An electronic original (電子原本) attached to a claim, identified by its digest.

    Attributes:
        file_name: the name it carries in the bundle (and the vault).
        kind: document kind key (``statement``, ``certificate``, ``detail_csv``, ...).
        size: bytes.
        sha256: lowercase hex SHA-256 of its bytes.
    """

    file_name: str
    kind: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ClaimTotals:
    """Sums over the lines of a claim (all integer yen).

    Attributes:
        trips: number of lines.
        toll: Σ 通行料金.
        rebate_applied: Σ 還元額充当.
        billed: Σ 差引後請求額.
        claimed: Σ 精算額, the amount to be paid to the claimant.
        private_excluded: Σ 私用分 (billed − claimed).
    """

    trips: int
    toll: int
    rebate_applied: int
    billed: int
    claimed: int
    private_excluded: int


@dataclass(frozen=True, slots=True)
class ShareGroup:
    """The lines of one business share, summed: the basis of the excluded private part.

    Attributes:
        business_share: the share in percent.
        trips: lines with that share.
        billed: their Σ billed.
        claimed: their Σ claimed.
        private_excluded: their Σ private part.
    """

    business_share: int
    trips: int
    billed: int
    claimed: int
    private_excluded: int


def totals_of(lines: Iterable[ClaimLine]) -> ClaimTotals:
    """Sum the lines; the claimed total is the sum of the per-trip (floored) claimed amounts."""
    trips = toll = rebate = billed = claimed = 0
    for line in lines:
        trips += 1
        toll += line.toll
        rebate += line.rebate_applied
        billed += line.billed
        claimed += line.claimed
    return ClaimTotals(
        trips=trips,
        toll=toll,
        rebate_applied=rebate,
        billed=billed,
        claimed=claimed,
        private_excluded=billed - claimed,
    )


def share_groups(lines: Iterable[ClaimLine]) -> tuple[ShareGroup, ...]:
    """The lines grouped by business share, highest share first."""
    sums: dict[int, list[int]] = {}
    for line in lines:
        acc = sums.setdefault(line.business_share, [0, 0, 0])
        acc[0] += 1
        acc[1] += line.billed
        acc[2] += line.claimed
    return tuple(
        ShareGroup(
            business_share=share,
            trips=trips,
            billed=billed,
            claimed=claimed,
            private_excluded=billed - claimed,
        )
        for share, (trips, billed, claimed) in sorted(sums.items(), reverse=True)
    )


def claimable_lines(lines: Iterable[ClaimLine]) -> tuple[ClaimLine, ...]:
    """The default choice of trips to claim: those with a business share, in exit-time order."""
    return tuple(sorted((ln for ln in lines if ln.business_share > 0), key=lambda ln: ln.exit_at))


@dataclass(frozen=True, slots=True)
class Claim:
    """A whole expense claim: header, the trips claimed and the originals attached.

    Attributes:
        header: who claims, for which card and period.
        lines: the trips, in the order they are printed.
        attachments: the electronic originals attached to the claim.
    """

    header: ClaimHeader
    lines: tuple[ClaimLine, ...]
    attachments: tuple[AttachedOriginal, ...] = field(default=())

    @property
    def totals(self) -> ClaimTotals:
        """Totals over :attr:`lines`."""
        return totals_of(self.lines)

    @property
    def month_label(self) -> str:
        """``YYYY-MM`` of the period, or ``YYYY-MM_YYYY-MM`` when it spans several months."""
        start = self.header.period_start
        end = self.header.period_end
        first = f"{start.year:04d}-{start.month:02d}"
        last = f"{end.year:04d}-{end.month:02d}"
        return first if first == last else f"{first}_{last}"

    @property
    def file_stem(self) -> str:
        """The base name of the claim's files: ``2025-11_CARD1234_経費精算``."""
        return f"{self.month_label}_CARD{self.header.card_last4}_経費精算"
