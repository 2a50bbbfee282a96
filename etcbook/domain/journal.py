"""仕訳 (journal entries) for accounting software: which trips are booked, on which accounts.

One entry per business trip, for exactly the amount the expense claim uses for that trip
(:attr:`etcbook.domain.claims.ClaimLine.claimed`), so that the journal's total equals the
claim's 精算額 for the same trips. The debit is 旅費交通費 (editable); the credit depends on
how the card is paid (:class:`CreditSide`). A negative adjustment row becomes a reversed entry
with a positive amount. How ETCマイレージ 還元額 is booked is a setting (:data:`TREATMENTS`).

The product writers (etcbook.export.journal) turn entries into each product's file; account
names and tax labels are the user's settings because each product accepts only names that
exist in the user's own data.

Pure: no Qt, no SQL, no files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from etcbook.domain.claims import ClaimLine, claimed_amount

# -- settings -------------------------------------------------------------------------------------


class Treatment(StrEnum):
    """How ETCマイレージ 還元額 (rebate) used on a trip is booked (research note §5)."""

    NET = "net"
    """§5 a (default): the rebate is a reduction (値引き・仕入返還) of the trip's own toll, so the
    trip is booked at the billed amount and 旅費交通費 and its 10 % tax are reduced by it. The
    rebate deducted is named in the entry's memo."""
    INCOME = "income"
    """§5 b: 旅費交通費 at the toll before rebate; the rebate as income (雑収入, 対象外) or, for
    a private card, 事業主借 (the account is a setting)."""
    BILLED = "billed"
    """§5 c (簡略): only what the card billed is booked; the rebate is not recorded at all."""


TREATMENT_LABELS: dict[Treatment, str] = {
    Treatment.NET: "差引後の額で計上（還元額は通行料金の値引き）",
    Treatment.INCOME: "通行料金で計上し、還元額は雑収入",
    Treatment.BILLED: "請求された額だけを計上（簡略）",
}

TAX_ADVICE = "還元額の処理は、会計方針と消費税の扱いによって変わります。どの方法にするかは税理士に確認してください。"


class CreditKind(StrEnum):
    """How the card is paid: decides the credit (貸方) side of every entry of that card."""

    COMPANY = "company"
    """A company's (or business's own) card: 未払金 with the card as 補助科目."""
    PRIVATE = "private"
    """A sole proprietor's private card: 事業主借."""
    EMPLOYEE = "employee"
    """An employee's own card, reimbursed by the company: 未払金 / 未払費用 with the employee."""


CREDIT_LABELS: dict[CreditKind, str] = {
    CreditKind.COMPANY: "会社・事業用のカード（未払金）",
    CreditKind.PRIVATE: "個人事業主の私用カード（事業主借）",
    CreditKind.EMPLOYEE: "従業員個人のカード（未払金・未払費用）",
}

ACCOUNTING_METHODS = ("税込", "税抜")
"""経理方式: 税込経理 or 税抜経理 (decides 弥生's default tax label)."""


@dataclass(frozen=True, slots=True)
class JournalSettings:
    """Account names and tax labels, as they are named in the user's accounting data.

    Attributes:
        debit_account: 借方勘定科目 for tolls (旅費交通費; some firms use 車両費).
        debit_sub: 借方補助科目, empty for none.
        department: 部門, empty for none.
        accounting: 経理方式, ``税込`` or ``税抜``.
        treatment: how the rebate is booked.
        rebate_account: the account credited with the rebate under :attr:`Treatment.INCOME`.
        yayoi_tax: 弥生's 税区分 for the toll; empty means the default for :attr:`accounting`.
        yayoi_tax_none: 弥生's 税区分 for the other side (対象外).
        freee_tax: freee's 税区分 for the toll.
        freee_tax_none: freee's 税区分 for the rebate income line.
        freee_tax_calc: freee's 税計算区分 (内税: the amount includes the tax).
        mf_tax: マネーフォワード's 税区分 for the toll.
        mf_tax_none: マネーフォワード's 税区分 for the other side.
        mf_invoice: マネーフォワード's 借方インボイス (適格; empty lets MF set it from the 税区分).
    """

    debit_account: str = "旅費交通費"
    debit_sub: str = ""
    department: str = ""
    accounting: str = "税込"
    treatment: Treatment = Treatment.NET
    rebate_account: str = "雑収入"
    yayoi_tax: str = ""
    yayoi_tax_none: str = "対象外"
    freee_tax: str = "課対仕入10%"
    freee_tax_none: str = "対象外"
    freee_tax_calc: str = "内税"
    mf_tax: str = "課税仕入 10%"
    mf_tax_none: str = "対象外"
    mf_invoice: str = "適格"

    @property
    def yayoi_tax_label(self) -> str:
        """弥生's label: the one set, else 課対仕入込10%適格 (税込) / 課対仕入内10%適格 (税抜)."""
        if self.yayoi_tax:
            return self.yayoi_tax
        return "課対仕入内10%適格" if self.accounting == "税抜" else "課対仕入込10%適格"


@dataclass(frozen=True, slots=True)
class CreditSide:
    """The credit (貸方) side for one card's entries.

    Attributes:
        kind: how the card is paid.
        account: 貸方勘定科目 (未払金, 事業主借, 未払費用 …).
        sub: 貸方補助科目 (the card, or the employee), empty for none.
        wallet: freee's 決済口座 (an 口座 registered in freee, e.g. プライベート資金); empty
            leaves the freee 取引 unsettled (未決済).
    """

    kind: CreditKind
    account: str
    sub: str
    wallet: str


GLOBAL_KEYS: dict[str, str] = {
    "debit_account": "借方勘定科目（通行料金）",
    "debit_sub": "借方補助科目",
    "department": "部門",
    "accounting": "経理方式（税込 / 税抜）",
    "rebate_treatment": "還元額の処理（net / income / billed）",
    "rebate_account": "還元額を計上する科目（income のとき）",
    "yayoi.tax": "弥生: 通行料金の税区分（空欄なら経理方式で決まる）",
    "yayoi.tax_none": "弥生: 相手側の税区分",
    "freee.tax": "freee: 通行料金の税区分",
    "freee.tax_none": "freee: 還元額の税区分",
    "freee.tax_calc": "freee: 税計算区分",
    "mf.tax": "マネーフォワード: 通行料金の税区分",
    "mf.tax_none": "マネーフォワード: 相手側の税区分",
    "mf.invoice": "マネーフォワード: 借方インボイス",
}
"""Settings for all cards: key → what it is (the window's and ``journal-settings``'s words)."""

CARD_KEYS: dict[str, str] = {
    "credit": "支払い方（company / private / employee）",
    "credit_account": "貸方勘定科目",
    "credit_sub": "貸方補助科目",
    "freee.wallet": "freee: 決済口座（空欄なら未決済）",
}
"""Settings per card (``--card``)."""

_FIELD_OF_KEY = {
    "debit_account": "debit_account",
    "debit_sub": "debit_sub",
    "department": "department",
    "accounting": "accounting",
    "rebate_account": "rebate_account",
    "yayoi.tax": "yayoi_tax",
    "yayoi.tax_none": "yayoi_tax_none",
    "freee.tax": "freee_tax",
    "freee.tax_none": "freee_tax_none",
    "freee.tax_calc": "freee_tax_calc",
    "mf.tax": "mf_tax",
    "mf.tax_none": "mf_tax_none",
    "mf.invoice": "mf_invoice",
}
_REQUIRED = {"debit_account", "accounting", "rebate_treatment", "rebate_account", "credit"}
_REQUIRED |= {"credit_account", "yayoi.tax_none", "freee.tax", "mf.tax"}


def check_setting(key: str, value: str, *, per_card: bool) -> str | None:
    """Why ``key = value`` cannot be stored (a sentence), or ``None`` when it can."""
    keys = CARD_KEYS if per_card else GLOBAL_KEYS
    if key not in keys:
        other = GLOBAL_KEYS if per_card else CARD_KEYS
        hint = "（カードごとの設定です: --card を付けてください）" if key in other else ""
        if per_card and key in GLOBAL_KEYS:
            hint = "（全カード共通の設定です: --card を外してください）"
        return f"設定「{key}」はありません{hint}。使える設定: {', '.join(keys)}"
    if key in _REQUIRED and not value.strip():
        return f"設定「{key}」は空にできません"
    if value != value.strip() or any(c in value for c in "\r\n"):
        return f"設定「{key}」の値の前後に空白や改行は入れられません"
    if key == "accounting" and value not in ACCOUNTING_METHODS:
        return f"経理方式は {' / '.join(ACCOUNTING_METHODS)} のどちらかです: {value!r}"
    if key == "rebate_treatment" and value not in set(Treatment):
        return f"還元額の処理は {' / '.join(Treatment)} のどれかです: {value!r}"
    if key == "credit" and value not in set(CreditKind):
        return f"支払い方は {' / '.join(CreditKind)} のどれかです: {value!r}"
    return None


def settings_from(values: Mapping[str, str]) -> JournalSettings:
    """The settings from stored ``key → value`` pairs (missing keys keep their defaults)."""
    fields: dict[str, str] = {}
    for key, value in values.items():
        if key in _FIELD_OF_KEY:
            fields[_FIELD_OF_KEY[key]] = value
    treatment = Treatment(values.get("rebate_treatment", Treatment.NET))
    return JournalSettings(treatment=treatment, **fields)


def settings_values(settings: JournalSettings) -> dict[str, str]:
    """``key → value`` of every global setting (the inverse of :func:`settings_from`)."""
    values = {key: str(getattr(settings, name)) for key, name in _FIELD_OF_KEY.items()}
    values["rebate_treatment"] = str(settings.treatment)
    return {key: values[key] for key in GLOBAL_KEYS}


def default_credit_kind(card_kind: str) -> CreditKind:
    """ETCコーポレートカード → a company card; any other card → an individual's private card."""
    return CreditKind.COMPANY if card_kind == "corporate" else CreditKind.PRIVATE


def credit_side_from(
    values: Mapping[str, str], *, card_last4: str, card_kind: str, holder: str
) -> CreditSide:
    """A card's credit side from its stored settings, defaults filled in by how it is paid."""
    kind = CreditKind(values.get("credit", default_credit_kind(card_kind)))
    account = {
        CreditKind.COMPANY: "未払金",
        CreditKind.PRIVATE: "事業主借",
        CreditKind.EMPLOYEE: "未払金",
    }[kind]
    sub = {
        CreditKind.COMPANY: f"ETCカード{card_last4}",
        CreditKind.PRIVATE: "",
        CreditKind.EMPLOYEE: holder,
    }[kind]
    wallet = "プライベート資金" if kind is CreditKind.PRIVATE else ""
    return CreditSide(
        kind=kind,
        account=values.get("credit_account", account),
        sub=values.get("credit_sub", sub),
        wallet=values.get("freee.wallet", wallet),
    )


def credit_side_values(side: CreditSide) -> dict[str, str]:
    """``key → value`` of a card's settings (the inverse of :func:`credit_side_from`)."""
    return {
        "credit": str(side.kind),
        "credit_account": side.account,
        "credit_sub": side.sub,
        "freee.wallet": side.wallet,
    }


# -- what is booked -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JournalTrip:
    """A trip offered to the journal.

    Attributes:
        trip_id: etcbook's id of the trip (carried in 仕訳メモ / 管理番号).
        card: カード末尾4桁.
        status: 備考's status (``確定``, ``確認中``) or ``None`` for a trip entered by hand.
        flags: the row's flags (``passage`` for a gate passage without a toll of its own).
        line: the trip as the claim sees it; ``None`` when the trip has no toll.
        exported: when and where it was already exported, or ``None``.
        exported_amount: the amount it was exported with, when it was.
        label: how the trip is named to the user (``2026/10/21 東京→川崎``).
        business_share: 業務割合 of a trip without a line (a passage row); a line has its own.
    """

    trip_id: int
    card: str
    status: str | None
    line: ClaimLine | None
    flags: tuple[str, ...] = ()
    exported: str | None = None
    exported_amount: int | None = None
    label: str = ""
    business_share: int = 0

    @property
    def is_business(self) -> bool:
        """The trip has a business share: it is a candidate for the journal."""
        share = self.line.business_share if self.line is not None else self.business_share
        return share > 0


PROVISIONAL = "確認中"
PASSAGE_FLAG = "passage"


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a posting.

    Attributes:
        account: 勘定科目.
        sub: 補助科目 (empty for none).
        taxable: ``True`` for the toll's purchase tax label, ``False`` for 対象外.
    """

    account: str
    sub: str
    taxable: bool


@dataclass(frozen=True, slots=True)
class Posting:
    """A balanced line: ``amount`` yen debited to :attr:`debit` and credited to :attr:`credit`."""

    debit: Side
    credit: Side
    amount: int


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One trip's entry (one 仕訳; two lines when the rebate is booked separately).

    Attributes:
        trip_id: etcbook's trip id.
        card: card last 4.
        date: 取引日, the exit date of the trip.
        description: 摘要 (``ETC 入口IC→出口IC 目的``), before any product's cut.
        memo: 仕訳メモ / 管理番号: ``etcbook:trip-<id>`` and, for a net booking, the rebate.
        claimed: the claim's amount for the trip (signed; negative for an adjustment row).
        rebate_part: the business part of the rebate booked separately (INCOME), else 0.
        reversed: the entry is a reversal (debit and credit swapped) of a negative row.
        postings: the balanced lines, amounts positive.
        credit: the card's credit side (for freee's 決済口座).
    """

    trip_id: int
    card: str
    date: dt.date
    description: str
    memo: str
    claimed: int
    rebate_part: int
    reversed: bool
    postings: tuple[Posting, ...]
    credit: CreditSide

    @property
    def debit_total(self) -> int:
        """Σ of the postings' amounts (each posting debits and credits the same)."""
        return sum(p.amount for p in self.postings)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A trip left out of the journal, and why (the sentence the user reads), with its label."""

    trip_id: int
    reason: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class Booking:
    """The result of :func:`book`: entries in date order and what was left out.

    Attributes:
        entries: the entries to write.
        skipped: trips not booked, with their reasons.
    """

    entries: tuple[JournalEntry, ...]
    skipped: tuple[Skipped, ...] = field(default=())

    @property
    def total(self) -> int:
        """Σ of the entries' claimed amounts: what the claim's 精算額 is for the same trips."""
        return sum(e.claimed for e in self.entries)


def trip_id_memo(trip_id: int) -> str:
    """The id an entry carries in 仕訳メモ / 管理番号: ``etcbook:trip-123``."""
    return f"etcbook:trip-{trip_id}"


def description_of(line: ClaimLine) -> str:
    """摘要: ``ETC 入口IC→出口IC`` (the exit IC alone for a single gate) and the purpose."""
    route = f"{line.entry_ic}→{line.exit_ic}" if line.entry_ic else line.exit_ic
    text = f"ETC {route}"
    if line.billed < 0:
        text += " 調整"
    if line.purpose:
        text += f" {line.purpose}"
    return text


def rebate_part(line: ClaimLine) -> int:
    """The business part of the rebate applied to the trip: what the claim would have been
    without the rebate, less what it is (both rounded as the claim rounds)."""
    return claimed_amount(line.toll, line.business_share) - line.claimed


def _posting(debit: Side, credit: Side, amount: int) -> Posting:
    """A balanced line for a signed amount: a negative amount swaps debit and credit."""
    if amount < 0:
        return Posting(debit=credit, credit=debit, amount=-amount)
    return Posting(debit=debit, credit=credit, amount=amount)


def entry_for(
    trip: JournalTrip, line: ClaimLine, settings: JournalSettings, credit: CreditSide
) -> JournalEntry | None:
    """The entry of one trip, or ``None`` when there is nothing to book (0 yen)."""
    travel = Side(settings.debit_account, settings.debit_sub, taxable=True)
    payable = Side(credit.account, credit.sub, taxable=False)
    claimed = line.claimed
    part = rebate_part(line) if settings.treatment is Treatment.INCOME else 0
    postings = []
    if claimed:
        postings.append(_posting(travel, payable, claimed))
    if part:
        income = Side(settings.rebate_account, "", taxable=False)
        postings.append(_posting(travel, income, part))
    if not postings:
        return None
    memo = trip_id_memo(trip.trip_id)
    if settings.treatment is Treatment.NET and line.rebate_applied:
        memo += f" 還元額{line.rebate_applied}円控除"
    return JournalEntry(
        trip_id=trip.trip_id,
        card=trip.card,
        date=line.exit_at.date(),
        description=description_of(line),
        memo=memo,
        claimed=claimed,
        rebate_part=part,
        reversed=claimed < 0,
        postings=tuple(postings),
        credit=credit,
    )


def _left_out_because(trip: JournalTrip, *, include_provisional: bool, again: bool) -> str | None:
    """Why a business trip is not booked, or ``None`` when it is."""
    line = trip.line
    if line is None or PASSAGE_FLAG in trip.flags:
        return "通行料金のない通過記録（料金は別の行）"
    if trip.status == PROVISIONAL and not include_provisional:
        return "確認中（金額が変わることがあり、利用証明書がまだ適格請求書でない）"
    if trip.exported is not None and not again:
        reason = f"書き出し済み（{trip.exported}）"
        if trip.exported_amount is not None and trip.exported_amount != line.claimed:
            reason += (
                f"。その後金額が {trip.exported_amount:,} 円から {line.claimed:,} 円に"
                "変わりました: 前の仕訳を直してください"
            )
        return reason
    return None


def book(
    trips: Iterable[JournalTrip],
    settings: JournalSettings,
    credits: Mapping[str, CreditSide],
    *,
    include_provisional: bool = False,
    again: bool = False,
) -> Booking:
    """The entries for the business trips among ``trips``, and the trips left out with why.

    Left out: trips without a toll (gate passages: the journey's charge is on another row),
    確認中 trips unless ``include_provisional`` (their 利用証明書 is not yet an invoice and
    their amount can still change), trips already exported unless ``again``, and trips whose
    claimable amount is 0 yen. Private trips (business share 0 %, passages included) are not
    candidates at all.
    """
    entries: list[JournalEntry] = []
    skipped: list[Skipped] = []
    for trip in trips:
        if not trip.is_business:
            continue
        line = trip.line
        reason = _left_out_because(trip, include_provisional=include_provisional, again=again)
        entry = None
        if reason is None:
            assert line is not None
            entry = entry_for(trip, line, settings, credits[trip.card])
            if entry is None:
                reason = (
                    "精算額 0 円（全額が還元額で支払われた）"
                    if line.billed == 0
                    else "精算額 0 円（業務分が1円未満）"
                )
        if entry is None:
            skipped.append(Skipped(trip.trip_id, label=trip.label, reason=reason or ""))
        else:
            entries.append(entry)
    entries.sort(key=lambda e: (e.date, e.trip_id))
    return Booking(entries=tuple(entries), skipped=tuple(skipped))
