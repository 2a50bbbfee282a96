"""Add or edit a card, with validation as you type.

Each checked field shows its problem under it while the user types (the rules are
:mod:`etcbook.domain.cards`, the same the CLI uses), and 保存 stays disabled until all are
valid. Only the last four digits of a card number are ever kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from etcbook.domain import cards as rules
from etcbook.ui import formatting
from etcbook.ui.context import AppContext

STATUS_LABELS = {
    "active": "有効",
    "details_missing": "詳細未入力",
    "stopped": "利用停止中",
    "replaced": "変更済み（旧カード）",
    "retired": "解約・廃止",
}


class _CheckedField(QWidget):
    """A line edit with a live message under it; ``check`` raises ValueError when invalid."""

    changed = Signal()

    def __init__(
        self,
        check: Callable[[str], Any] | None,
        *,
        placeholder: str = "",
        required: bool = False,
        hint: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__()
        self._check = check
        self._required = required
        self._hint = hint
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        small = self.message.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        self.message.setFont(small)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.message)
        self.edit.textChanged.connect(self._validate)
        self.error: str | None = None
        self._validate(self.edit.text())

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, value: str | None) -> None:
        self.edit.setText(value or "")

    @property
    def valid(self) -> bool:
        return self.error is None

    def _validate(self, raw: str) -> None:
        text = raw.strip()
        self.error = None
        if not text:
            if self._required:
                self.error = "入力してください"
        elif self._check is not None:
            try:
                self._check(text)
            except ValueError as problem:
                self.error = str(problem)
        if self.error:
            self.message.setText(self.error)
            self.message.setStyleSheet("color: #c0392b;")
        else:
            self.message.setStyleSheet("")
            self.message.setText(self._hint(text) if self._hint and text else "")
        self.message.setVisible(bool(self.message.text()))
        self.changed.emit()


def _obu_hint(text: str) -> str:
    digits = "".join(c for c in text if c.isdigit())
    return f"{len(digits)}/19桁"


def _expiry_hint(text: str) -> str:
    try:
        return f"{rules.check_expiry(text).replace('-', '年')}月末まで"
    except ValueError:
        return ""


def _last4_check(text: str) -> str:
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise ValueError("カード末尾4桁は数字4桁で入力してください（カード番号全体は保存しません）")
    return rules.check_last4(text)


class CardDialog(QDialog):
    """カードの登録・編集. ``card`` is a :class:`etcbook.models.tables.Card` to edit, or None."""

    saved = Signal(str)

    def __init__(
        self, context: AppContext, card: Any = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.card = card
        self.version: int | None = card.version if card is not None else None
        """The card's version when the dialog read it: saving a card changed since is refused."""
        self.setWindowTitle("カードを編集" if card is not None else "カードを登録")
        self.setMinimumWidth(520)

        self.last4 = _CheckedField(_last4_check, placeholder="例: 1234", required=True)
        self.last4.edit.setMaxLength(4)
        self.holder = _CheckedField(None, placeholder="カードの名義（例: 山田太郎）", required=True)
        self.driver = QLineEdit()
        self.driver.setPlaceholderText("主に運転する人（空欄なら名義と同じ）")
        self.kind = QComboBox()
        for key in rules.CARD_KINDS:
            self.kind.addItem(rules.CARD_KIND_LABELS[key], key)
        self.expires = _CheckedField(
            rules.check_expiry, placeholder="YYYY-MM または MM/YY", hint=_expiry_hint
        )
        self.mileage_id = QLineEdit()
        self.login_id = QLineEdit()
        self.login_known = QCheckBox("記録する")
        self.last_login = QDateEdit()
        self.last_login.setCalendarPopup(True)
        self.last_login.setDisplayFormat("yyyy/MM/dd")
        self.last_login.setDate(formatting.today_qdate())  # Japan's date, as the header
        self.last_login.setEnabled(False)
        self.login_known.toggled.connect(self.last_login.setEnabled)
        self.obu = _CheckedField(
            rules.check_obu_number, placeholder="19桁（ハイフン・空白可）", hint=_obu_hint
        )
        self.plate = QLineEdit()
        self.plate.setPlaceholderText("例: 品川 300 あ 12-34")
        self.household = QLineEdit()
        self.household.setPlaceholderText("世帯名または会社名（同じ名前のカードをまとめて表示）")
        self.auto_exchange = QCheckBox("ポイント自動還元を利用する")
        self.status = QComboBox()
        for key, label in STATUS_LABELS.items():
            self.status.addItem(label, key)
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(60)

        login_row = QHBoxLayout()
        login_row.addWidget(self.login_known)
        login_row.addWidget(self.last_login, 1)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("カード末尾4桁", self.last4)
        form.addRow("名義", self.holder)
        form.addRow("利用者", self.driver)
        form.addRow("種別", self.kind)
        form.addRow("有効期限", self.expires)
        form.addRow("マイレージID", self.mileage_id)
        form.addRow("ETC利用照会ID", self.login_id)
        form.addRow("利用照会の最終ログイン", login_row)
        form.addRow("車載器管理番号", self.obu)
        form.addRow("車両番号", self.plate)
        form.addRow("世帯・法人", self.household)
        form.addRow("", self.auto_exchange)
        form.addRow("状態", self.status)
        form.addRow("メモ", self.notes)

        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c0392b;")
        self.problem.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("保存")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("キャンセル")
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

        for field in (self.last4, self.holder, self.expires, self.obu):
            field.changed.connect(self._update_save)
        if card is not None:
            self._load(card)
        self._update_save()

    @property
    def save_button(self) -> Any:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def _load(self, card: Any) -> None:
        self.last4.set_text(card.last4)
        self.last4.edit.setReadOnly(True)
        self.last4.edit.setToolTip("末尾4桁は変更できません（再発行は新しいカードとして登録）")
        self.holder.set_text(card.holder)
        self.driver.setText(card.driver or "")
        self.kind.setCurrentIndex(max(0, self.kind.findData(card.kind)))
        self.expires.set_text(card.expires)
        self.mileage_id.setText(card.mileage_id or "")
        self.login_id.setText(card.login_id or "")
        if card.last_login_on:
            self.login_known.setChecked(True)
            day = card.last_login_on
            self.last_login.setDate(QDate(day.year, day.month, day.day))
        self.obu.set_text(card.obu_number)
        self.plate.setText(card.plate or "")
        self.household.setText(card.household or "")
        self.auto_exchange.setChecked(bool(card.auto_exchange))
        self.status.setCurrentIndex(max(0, self.status.findData(card.status)))
        self.notes.setPlainText(card.notes or "")

    def _update_save(self) -> None:
        fields = (self.last4, self.holder, self.expires, self.obu)
        self.save_button.setEnabled(all(field.valid for field in fields))

    def values(self) -> dict[str, Any]:
        """The fields as the store's card functions take them."""
        login: dt.date | None = None
        if self.login_known.isChecked():
            qdate = self.last_login.date()
            login = dt.date(qdate.year(), qdate.month(), qdate.day())
        status = self.status.currentData()
        if self.card is None and status == "details_missing":
            status = "active"
        return {
            "holder": self.holder.text(),
            "driver": self.driver.text().strip() or self.holder.text(),
            "kind": self.kind.currentData(),
            "expires": self.expires.text() or None,
            "mileage_id": self.mileage_id.text().strip() or None,
            "login_id": self.login_id.text().strip() or None,
            "last_login_on": login,
            "obu_number": self.obu.text() or None,
            "plate": self.plate.text().strip() or None,
            "household": self.household.text().strip() or None,
            "auto_exchange": self.auto_exchange.isChecked(),
            "status": status,
            "notes": self.notes.toPlainText().strip(),
        }

    def _save(self) -> None:
        from etcbook.models.cards import create_card, get_card, update_card
        from etcbook.models.versions import StaleEdit
        from etcbook.ui.messages import tell

        values = self.values()
        try:
            with self.context.store.session(write=True) as session:
                if self.card is None:
                    card = create_card(session=session, last4=self.last4.text(), **values)
                else:
                    card = update_card(
                        session=session,
                        last4=self.card.last4,
                        card_id=self.card.id,  # cards of a fleet may share their digits
                        expected_version=self.version,
                        **values,
                    )
        except StaleEdit as stale:
            # Another client changed the card: show its sentence, then what the card is now.
            assert self.card is not None
            with self.context.store.session() as session:
                self.card = get_card(session=session, card_id=self.card.id)
            self.version = self.card.version
            self._load(self.card)
            self.context.ledger_changed.emit()
            tell(self, "カードを編集", str(stale))
            return
        except ValueError as problem:
            self.problem.setText(str(problem))
            self.problem.show()
            return
        self.saved.emit(card.last4)
        self.context.ledger_changed.emit()
        self.accept()


def status_label(status: str) -> str:
    """The Japanese label of a card status."""
    return STATUS_LABELS.get(status, status)
