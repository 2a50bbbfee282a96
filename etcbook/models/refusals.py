"""The database's refusals of a role's or a rule's limits, told as sentences.

Row-level security, privileges and the triggers of migration roles_0001 and
:mod:`etcbook.models.roles` raise errors; :func:`refusal` turns them into one Japanese sentence
(never the database's words). In every case the transaction was rolled back.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Connection

_TABLE_NAMES = {
    "trips": "走行",
    "trip_history": "走行",
    "cards": "カード",
    "card_holders": "カードの担当",
    "closed_months": "月締め",
    "claims": "申請",
    "claim_trips": "申請",
    "audit_log": "監査ログ",
    "point_exchanges": "ポイント交換",
    "mileage_adjustments": "ポイントの調整",
    "documents": "証憑",
    "document_chunks": "証憑",
    "claim_files": "申請の書類",
    "claim_file_chunks": "申請の書類",
}


def _error_text(exc: BaseException) -> str:
    seen: set[int] = set()
    current: BaseException | None = exc
    parts = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(str(current))
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return "\n".join(parts)


def refusal(exc: BaseException) -> str | None:
    """A sentence for a refusal by the ledger's rules or the user's role, else None."""
    from etcbook.models.instance import _server_error, _sqlite_error

    if _server_error(exc) is None and _sqlite_error(exc) is None:
        return None  # only the database's refusals
    message = _error_text(exc)
    closed = re.search(r"etcbook:closed_month(?::(\d{4}-\d{2}))?", message)
    if closed:
        month = closed.group(1)
        which = f"{month} は" if month else "この月は"
        return (
            f"{which}月締め済みです。締めた月の走行は追加・取り込み・変更・削除できません"
            "（経理担当が etcbook month reopen で解除できます）。何も変更していません。"
        )
    if "etcbook:approved_claim" in message:
        return (
            "承認済みの申請に含まれる走行・申請は変更できません（用途・業務割合・金額）。"
            "何も変更していません。"
        )
    if "etcbook:original_frozen" in message:
        return (
            "保管した証憑と申請の書類は変更・削除できません（訂正は新しい版として追加します）。"
            "何も変更していません。"
        )
    if "etcbook:accounts_only" in message:
        return "申請の承認・差し戻しは経理担当だけができます。何も変更していません。"
    if "row-level security" in message:
        table = re.search(r'table "(\w+)"', message)
        name = _TABLE_NAMES.get(table.group(1), "記録") if table else "記録"
        return (
            f"このカードの{name}は編集できません（担当のカードではありません）。"
            "何も変更していません。"
        )
    if "permission denied" in message:
        table = re.search(r"(?:table|relation) (\w+)", message)
        name = _TABLE_NAMES.get(table.group(1), "この記録") if table else "この記録"
        if name == "監査ログ":
            return "監査ログは追記だけができ、変更・削除はできません。何も変更していません。"
        return (
            f"{name}の追加・変更はこの役割ではできません（経理担当に依頼してください）。"
            "何も変更していません。"
        )
    if "append-only" in message:
        return "監査ログは追記だけができ、変更・削除はできません。何も変更していません。"
    return None


def not_yours_sentence(table: str) -> str:
    """「このカードの走行は編集できません（担当のカードではありません）」 for a row of ``table``."""
    name = _TABLE_NAMES.get(table, "記録")
    return (
        f"このカードの{name}は編集できません（担当のカードではありません）。何も変更していません。"
    )


def _has_function(connection: Connection, signature: str) -> bool:
    from etcbook.models.dialect import is_postgresql, run

    if not is_postgresql(connection):
        return False  # one person, every row
    found = run(connection, "SELECT to_regprocedure(:f)", {"f": signature}).scalar()
    return found is not None


def not_yours(connection: Connection, table: str, row_id: int) -> str | None:
    """When a row the caller cannot see exists on a card that is not theirs (a driver on a
    shared ledger): the sentence saying so, else None (the row does not exist).

    Row-level security hides other drivers' rows, so without asking a driver would be told
    「ありません」; ``row_not_mine`` (etcbook.models.roles) answers yes or no only.
    """
    from sqlalchemy import text

    if not _has_function(connection, "row_not_mine(text, bigint)"):
        return None
    hidden = connection.execute(
        text("SELECT row_not_mine(:t, :i)"), {"t": table, "i": row_id}
    ).scalar()
    return not_yours_sentence(table) if hidden else None


def card_not_yours(connection: Connection, reference: str) -> str | None:
    """The sentence for a card reference (``--card``) naming another driver's card, else None."""
    from etcbook.models.dialect import run

    if not _has_function(connection, "card_not_mine(text)"):
        return None
    if run(connection, "SELECT card_not_mine(:r)", {"r": reference}).scalar():
        return (
            f"カード「{reference}」は担当のカードではありません（このカードの記録は見ることも"
            "編集することもできません）。何も変更していません。"
        )
    return None
