"""Reminders at a date and the inquiry memo, pure."""

from __future__ import annotations

import datetime as dt

from etcbook.domain.memo import (
    Memo,
    MemoCard,
    MemoChange,
    MemoFigure,
    MemoTrip,
    memo_text,
    subject_for,
    trip_sentence,
)
from etcbook.domain.points import ExchangeUnit
from etcbook.domain.reminders import (
    CardReminderFacts,
    IncidentNote,
    PointLot,
    UpcomingGrant,
    card_expiry_date,
    next_twentieth,
    reminder_json,
    reminders_at,
    statement_window_closes,
)

D = dt.date.fromisoformat
AS_OF = D("2026-11-22")


def kinds(card: CardReminderFacts, as_of: dt.date = AS_OF) -> dict[str, object]:
    return {r.kind: r for r in reminders_at(as_of, [card])}


def test_card_expiry_within_60_days() -> None:
    assert card_expiry_date("2026-12") == D("2026-12-31")
    found = kinds(CardReminderFacts("5678", expires="2026-12"))
    assert found["card_expiry"].days_left == 39  # type: ignore[attr-defined]
    assert "2026年12月31日" in found["card_expiry"].message  # type: ignore[attr-defined]
    assert "card_expiry" not in kinds(CardReminderFacts("5678", expires="2027-03"))
    assert "card_expiry" not in kinds(
        CardReminderFacts("5678", expires="2026-12", status="replaced")
    )


def test_login_older_than_365_days_names_the_cancellation_day() -> None:
    card = CardReminderFacts("5678", login_id="yamada.hanako", last_login_on=D("2025-09-14"))
    reminder = kinds(card)["login_inactive"]
    assert reminder.due == D("2026-12-08") and reminder.days_left == 16  # type: ignore[attr-defined]
    assert reminder.severity == "warning"  # type: ignore[attr-defined]
    assert "login_inactive" not in kinds(
        CardReminderFacts("5678", login_id="x", last_login_on=D("2025-11-23"))
    )
    late = kinds(card, D("2027-01-10"))["login_inactive"]
    assert "取り消された可能性" in late.message and late.severity == "urgent"  # type: ignore[attr-defined]


def test_statements_about_to_leave_the_window_and_not_in_the_vault() -> None:
    assert statement_window_closes(D("2025-08-01")) == D("2026-12-01")
    months = frozenset({D("2025-07-01"), D("2025-08-01"), D("2025-09-01"), D("2025-10-01")})
    card = CardReminderFacts("1234", trip_months=months, vault_months=frozenset({D("2025-09-01")}))
    reminder = kinds(card)["statement_window"]
    assert reminder.months == ("2025-08",)  # type: ignore[attr-defined]
    assert reminder.days_left == 9 and reminder.severity == "urgent"  # type: ignore[attr-defined]
    assert "statement_window" not in kinds(
        CardReminderFacts("1234", trip_months=months, vault_months=None)
    )


def test_points_expiring_within_90_days_and_inactivity() -> None:
    card = CardReminderFacts(
        "1234",
        lots=(
            PointLot("nexco", "NEXCO", D("2027-03-31"), 1200),
            PointLot("nexco", "NEXCO", D("2028-03-31"), 500),
        ),
        last_change_at=dt.datetime(2024, 12, 1, 10, 0),
    )
    found = kinds(card, D("2027-01-15"))
    assert found["points_expiring"].points == 1200  # type: ignore[attr-defined]
    assert found["points_expiring"].days_left == 75  # type: ignore[attr-defined]
    inactivity = found["inactivity"]
    assert inactivity.due == D("2026-12-01")  # type: ignore[attr-defined] # notice at 730 days
    assert "2027年3月1日に登録取消" in inactivity.message  # type: ignore[attr-defined]
    assert "inactivity" not in kinds(card, D("2026-08-01"))  # day 608: not yet
    # The notice date is past: told as past, the cancellation still to come.
    assert "予告が出ているはず" in inactivity.message  # type: ignore[attr-defined]
    assert "（あと45日）" in inactivity.message  # type: ignore[attr-defined]
    ahead = kinds(card, D("2026-10-01"))["inactivity"].message  # type: ignore[attr-defined]
    assert "2026年12月1日に登録取消の予告" in ahead and "はず" not in ahead
    gone = kinds(card, D("2027-04-01"))["inactivity"].message  # type: ignore[attr-defined]
    assert "失われた可能性があります" in gone and "すべて失われます" not in gone


def test_next_twentieth_grants_and_auto_exchange() -> None:
    assert next_twentieth(D("2026-10-05")) == D("2026-10-20")
    assert next_twentieth(D("2026-10-20")) == D("2026-11-20")
    card = CardReminderFacts(
        "5678",
        lots=(PointLot("nexco", "NEXCO", D("2028-03-31"), 4500),),
        next_grants=(UpcomingGrant("nexco", "NEXCO", 930),),
        next_rebate_credit=1395,
        auto_exchange=True,
        auto_units={"nexco": ExchangeUnit(5000, 5000)},
    )
    reminder = kinds(card, D("2026-10-05"))["next_twentieth"]
    assert "NEXCO 930Pの付与と平日朝夕割引 1,395円の還元" in reminder.message  # type: ignore[attr-defined]
    assert "自動還元でNEXCO 5,000P→5,000円" in reminder.message  # type: ignore[attr-defined]


def test_unreconciled_changed_incidents_suspicious_and_order() -> None:
    card = CardReminderFacts(
        "1234",
        trip_months=frozenset({D("2026-09-01"), D("2026-10-01"), D("2026-11-01")}),
        reconciled_months=frozenset({D("2026-09-01")}),
        changed_months=frozenset({D("2026-09-01")}),
        incidents=(IncidentNote(3, "紛失", "警察へ遺失届・盗難届", D("2026-11-10")),),
        suspicious_trips=2,
    )
    items = reminders_at(AS_OF, [card])
    assert [r.kind for r in items] == [
        "suspicious_trips",
        "reconciled_changed",
        "incident_open",
        "unreconciled_months",
    ]
    assert items[-1].months == ("2026-10",)  # the current month is not past yet
    assert "警察へ遺失届" in items[2].message and items[2].ref == 3
    assert reminder_json(items[0])["severity"] == "urgent"


MEMO = Memo(
    created_on=D("2025-08-25"),
    subject=subject_for(
        (), (MemoFigure("ポイント（NEXCO 3社・宮城県道路公社）", 1183, 1100, "points"),)
    ),
    card=MemoCard("1234", "山田太郎", "M0012345678", "1234567890123456789", "品川 300 あ 12-34"),
    trips=(
        MemoTrip(12, dt.datetime(2025, 7, 12, 11, 20), "東京", "静岡", 2347, 0, 2347, 234),
        MemoTrip(40, dt.datetime(2025, 7, 31, 23, 58), None, "首都高本線", 1320, 0, 1320, None),
    ),
    figures=(MemoFigure("ポイント（NEXCO 3社・宮城県道路公社）", 1183, 1100, "points"),),
    notes=("7月の走行分は8月20日付与です。",),
    changes=(
        MemoChange(D("2025-06-21"), "登録カード変更 末尾9999→末尾1234（6月22日0:00から新カード）"),
    ),
)


def test_trip_sentence_has_the_desk_template_form() -> None:
    assert trip_sentence(MEMO.trips[0]) == "7月12日11時、入口東京→出口静岡、請求額2,347円"
    assert (
        trip_sentence(MEMO.trips[1])
        == "7月31日23時、入口（本線料金所）→出口首都高本線、請求額1,320円"
    )


def test_memo_text_exactly() -> None:
    assert memo_text(MEMO) == (
        "ETCマイレージ お問い合わせメモ（2025年8月25日作成）\n"
        "用件: ポイント（NEXCO 3社・宮城県道路公社）が期待と83P違います\n"
        "\n"
        "■ 会員・カード\n"
        "カード末尾4桁: 1234（名義 山田太郎）\n"
        "マイレージID: M0012345678\n"
        "車載器管理番号: 1234567890123456789\n"
        "車両番号: 品川 300 あ 12-34\n"
        "\n"
        "■ 走行（請求額は還元額充当後）\n"
        "1. 7月12日11時、入口東京→出口静岡、請求額2,347円\n"
        "   （出口 2025-07-12 11:20、通行料金 2,347円、期待ポイント 234P、走行ID 12）\n"
        "2. 7月31日23時、入口（本線料金所）→出口首都高本線、請求額1,320円\n"
        "   （出口 2025-07-31 23:58、通行料金 1,320円、走行ID 40）\n"
        "計 2件、請求額合計 3,667円\n"
        "\n"
        "■ 期待と実績\n"
        "ポイント（NEXCO 3社・宮城県道路公社）: 期待 1,183P ／ 実績 1,100P ／ 差 −83P\n"
        "\n"
        "■ 確認済みのこと\n"
        "・7月の走行分は8月20日付与です。\n"
        "\n"
        "■ 最近のカード・住所の変更\n"
        "2025年6月21日 登録カード変更 末尾9999→末尾1234（6月22日0:00から新カード）\n"
    )


def test_memo_pdf_embeds_the_japanese_font(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    from etcbook.export.memo_pdf import write_memo_pdf

    path = write_memo_pdf(MEMO, tmp_path / "memo.pdf")
    reader = PdfReader(path)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "7月12日11時、入口東京→出口静岡、請求額2,347円" in text.replace("\n", "")
    fonts = {
        str(font["/BaseFont"])
        for font in (reader.pages[0]["/Resources"]["/Font"]).values()  # type: ignore[union-attr]
    }
    assert any("IPAexGothic" in name for name in fonts)
