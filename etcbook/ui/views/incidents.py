"""Page 紛失・トラブル: a lost, stolen or damaged card walked through DOMAIN.md §5's steps, the
contact log, the card change and the trips made on the card after it was stopped.

Thin: checks and effects live in :mod:`etcbook.domain.incidents` and
:mod:`etcbook.models.reconcile`; the page collects input and shows what was recorded.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from etcbook.domain.incidents import (
    INCIDENT_KIND_LABELS,
    INCIDENT_KINDS,
    STEPS,
    ContactEntry,
    Incident,
    StepProgress,
    SuspiciousTrip,
    progress,
)
from etcbook.models.card_name import CardName
from etcbook.ui.formatting import card_title
from etcbook.ui.page import Page, page_title
from etcbook.ui.tables import Column, RecordTableModel, RememberingTableView

if TYPE_CHECKING:
    from etcbook.ui.context import AppContext

STATE_LABELS = {"done": "済", "next": "次", "pending": "", "not_needed": "不要"}


def _next_label(incident: Incident) -> str:
    for item in progress(incident):
        if item.state == "next":
            return item.spec.label
    return "（すべて記録済み）"


def _refs(item: StepProgress) -> str:
    from etcbook.domain.incidents import DETAIL_LABELS

    record = item.record
    if record is None:
        return ""
    parts = [record.desk, record.reference, record.person]
    parts += [f"{DETAIL_LABELS.get(k, k)} {v}" for k, v in record.details.items()]
    return " ".join(p for p in parts if p)


INCIDENT_COLUMNS: list[Column[Incident]] = [
    Column("ID", lambda i: i.incident_id, "int"),
    Column("カード", lambda i: i.card),
    Column("種別", lambda i: INCIDENT_KIND_LABELS[i.kind]),
    Column("気づいた日時", lambda i: i.noticed_at, "datetime"),
    Column("次の手順", _next_label),
    Column("完了", lambda i: i.closed_at, "datetime"),
]

STEP_COLUMNS: list[Column[StepProgress]] = [
    Column("状態", lambda p: STATE_LABELS[p.state]),
    Column("手順", lambda p: p.spec.label, tooltip=lambda p: p.spec.guidance),
    Column("日時", lambda p: None if p.record is None else p.record.at, "datetime"),
    Column("窓口・番号", _refs),
]

CONTACT_COLUMNS: list[Column[ContactEntry]] = [
    Column("日時", lambda c: c.at, "datetime"),
    Column("窓口", lambda c: c.desk),
    Column("担当者", lambda c: c.person),
    Column("受付番号", lambda c: c.reference),
    Column("内容", lambda c: c.summary, tooltip=lambda c: c.summary),
]

SUSPICIOUS_COLUMNS: list[Column[SuspiciousTrip]] = [
    Column("ID", lambda s: s.trip.trip_id, "int"),
    Column("カード", lambda s: s.trip.card),
    Column("出口日時", lambda s: s.trip.exit_at, "datetime"),
    Column("入口", lambda s: s.trip.entry_ic or "（本線）"),
    Column("出口", lambda s: s.trip.exit_ic),
    Column("通行料金", lambda s: s.trip.toll, "yen"),
    Column("理由", lambda s: s.reason, tooltip=lambda s: s.reason),
]


def _datetime_edit() -> QDateTimeEdit:
    edit = QDateTimeEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy/MM/dd HH:mm")
    return edit


def _value(edit: QDateTimeEdit) -> dt.datetime:
    value = edit.dateTime()
    d, t = value.date(), value.time()
    return dt.datetime(d.year(), d.month(), d.day(), t.hour(), t.minute())


def _set_now(edit: QDateTimeEdit) -> None:
    from etcbook import clock

    now = clock.now()
    edit.setDateTime(QDateTime(now.year, now.month, now.day, now.hour, now.minute, 0))


class IncidentsPage(Page):
    """紛失・トラブル page."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self._card_names: dict[int, CardName] = {}
        self.incidents: RecordTableModel[Incident] = RecordTableModel(INCIDENT_COLUMNS, self)
        self.incidents_view = RememberingTableView(context.settings, "incidents/list")
        self.incidents_view.setModel(self.incidents)
        self.incidents_view.selectionModel().selectionChanged.connect(self._incident_selected)

        # new incident
        self.new_card = QComboBox()
        self.new_kind = QComboBox()
        for kind in INCIDENT_KINDS:
            self.new_kind.addItem(INCIDENT_KIND_LABELS[kind], kind)
        self.new_noticed = _datetime_edit()
        self.open_button = QPushButton("記録を始める")
        self.open_button.clicked.connect(lambda: self.open_incident())
        new_box = QGroupBox("紛失・盗難・破損を記録する")
        new_form = QFormLayout(new_box)
        new_form.addRow("カード", self.new_card)
        new_form.addRow("種別", self.new_kind)
        new_form.addRow("気づいた日時", self.new_noticed)
        new_form.addRow(self.open_button)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("記録"))
        left_layout.addWidget(self.incidents_view, 1)
        left_layout.addWidget(new_box)

        # the selected incident
        self.title = QLabel("記録を選ぶか、新しく始めてください。")
        self.title.setWordWrap(True)
        self.guidance = QLabel()
        self.guidance.setWordWrap(True)
        self.steps: RecordTableModel[StepProgress] = RecordTableModel(STEP_COLUMNS, self)
        self.steps_view = RememberingTableView(context.settings, "incidents/steps")
        self.steps_view.setModel(self.steps)

        self.step = QComboBox()
        for spec in STEPS:
            self.step.addItem(spec.label, spec.key)
        self.step.currentIndexChanged.connect(self._step_changed)
        self.step_at = _datetime_edit()
        self.desk = QLineEdit()
        self.reference = QLineEdit()
        self.person = QLineEdit()
        self.police_station = QLineEdit()
        self.accepted_number = QLineEdit()
        self.accepted_on = QLineEdit()
        self.accepted_on.setPlaceholderText("YYYY-MM-DD")
        self.new_card_for_step = QComboBox()
        self.step_note = QLineEdit()
        self.record_button = QPushButton("この手順を記録")
        self.record_button.clicked.connect(lambda: self.record_step())
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        step_box = QGroupBox("手順を記録する")
        self.step_form = QFormLayout(step_box)
        self.step_form.addRow("手順", self.step)
        self.step_form.addRow("日時", self.step_at)
        self.step_form.addRow("窓口", self.desk)
        self.step_form.addRow("受付番号", self.reference)
        self.step_form.addRow("担当者", self.person)
        self.step_form.addRow("警察署", self.police_station)
        self.step_form.addRow("受理番号", self.accepted_number)
        self.step_form.addRow("受理年月日", self.accepted_on)
        self.step_form.addRow("新カード", self.new_card_for_step)
        self.step_form.addRow("メモ", self.step_note)
        self.step_form.addRow(self.record_button)

        self.contacts: RecordTableModel[ContactEntry] = RecordTableModel(CONTACT_COLUMNS, self)
        self.contacts_view = RememberingTableView(context.settings, "incidents/contacts")
        self.contacts_view.setModel(self.contacts)
        self.contact_at = _datetime_edit()
        self.contact_desk = QLineEdit()
        self.contact_person = QLineEdit()
        self.contact_reference = QLineEdit()
        self.contact_summary = QLineEdit()
        self.contact_button = QPushButton("連絡記録に追加")
        self.contact_button.clicked.connect(lambda: self.add_contact())
        contact_box = QGroupBox("連絡を記録する")
        contact_form = QFormLayout(contact_box)
        contact_form.addRow("日時", self.contact_at)
        contact_form.addRow("窓口", self.contact_desk)
        contact_form.addRow("担当者", self.contact_person)
        contact_form.addRow("受付番号", self.contact_reference)
        contact_form.addRow("内容・合意したこと", self.contact_summary)
        contact_form.addRow(self.contact_button)

        self.close_button = QPushButton("完了にする")
        self.close_button.clicked.connect(lambda: self.close_incident())

        steps_tab = QWidget()
        steps_layout = QHBoxLayout(steps_tab)
        steps_layout.addWidget(self.steps_view, 3)
        steps_layout.addWidget(step_box, 2)
        contacts_tab = QWidget()
        contacts_layout = QHBoxLayout(contacts_tab)
        contacts_layout.addWidget(self.contacts_view, 3)
        contacts_layout.addWidget(contact_box, 2)
        self.tabs = QTabWidget()
        self.tabs.addTab(steps_tab, "手順")
        self.tabs.addTab(contacts_tab, "連絡記録")

        self.suspicious: RecordTableModel[SuspiciousTrip] = RecordTableModel(
            SUSPICIOUS_COLUMNS, self
        )
        self.suspicious_view = RememberingTableView(context.settings, "incidents/suspicious")
        self.suspicious_view.setModel(self.suspicious)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.close_button)
        right_layout.addLayout(header)
        right_layout.addWidget(self.guidance)
        right_layout.addWidget(self.tabs, 3)
        right_layout.addWidget(self.message)
        right_layout.addWidget(QLabel("停止・カード変更の後の走行（不正利用の疑い）"))
        right_layout.addWidget(self.suspicious_view, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([380, 820])
        layout = QVBoxLayout(self)
        layout.addWidget(page_title("紛失・トラブル"))
        layout.addWidget(splitter)
        for edit in (self.new_noticed, self.step_at, self.contact_at):
            _set_now(edit)
        for view, widths in (
            (self.incidents_view, (40, 50, 50, 130, 200)),
            (self.steps_view, (40, 230, 130)),
            (self.contacts_view, (130, 160, 80, 100)),
            (self.suspicious_view, (60, 50, 130, 90, 90, 80)),
        ):
            if not view.restore_columns():
                for column, width in enumerate(widths):
                    view.setColumnWidth(column, width)
        self._step_changed()
        self._show_incident(None)

    # -- loading ------------------------------------------------------------------------------

    def refresh(self) -> None:
        from sqlalchemy import text

        from etcbook.models.reconcile import list_incidents, suspicious_trip_list

        selected = self.current_incident()
        with self.context.connection() as connection:
            cards = connection.execute(
                text(
                    "SELECT last4, holder, label, id FROM cards"
                    " ORDER BY household, holder, last4, id"
                )
            ).all()
            items = list_incidents(connection=connection)
            suspicious = suspicious_trip_list(connection=connection)
        card_filter = self.context.card_filter
        cards = card_filter.narrow(cards, lambda row: row[3])
        items = card_filter.narrow(items, lambda incident: incident.card)
        suspicious = card_filter.narrow(suspicious, lambda found: found.trip.card)
        # By card id: cards of a fleet may share their last 4 digits.
        self._card_names = {
            card_id: CardName.of(last4, card_id) for last4, _h, _l, card_id in cards
        }
        for combo in (self.new_card, self.new_card_for_step):
            current = combo.currentData()
            combo.clear()
            for last4, holder, label, card_id in cards:
                combo.addItem(card_title(last4, label, holder), card_id)
            combo.setCurrentIndex(max(combo.findData(current), 0))
        self.incidents.set_records(items)
        self.suspicious.set_records(suspicious)
        ids = [i.incident_id for i in items]
        wanted = None if selected is None else selected.incident_id
        if wanted in ids:
            self.incidents_view.selectRow(ids.index(wanted))
        elif items:
            self.incidents_view.selectRow(0)
        else:
            self._show_incident(None)

    def current_incident(self) -> Incident | None:
        rows = self.incidents_view.selectionModel().selectedRows()
        return None if not rows else self.incidents.record(rows[0].row())

    def _incident_selected(self, *_args: object) -> None:
        self._show_incident(self.current_incident())

    def _show_incident(self, incident: Incident | None) -> None:
        enabled = incident is not None and incident.closed_at is None
        for widget in (self.record_button, self.contact_button, self.close_button):
            widget.setEnabled(enabled)
        if incident is None:
            self.title.setText("記録を選ぶか、新しく始めてください。")
            self.guidance.setText("")
            self.steps.set_records([])
            self.contacts.set_records([])
            return
        items = progress(incident)
        closed = "（完了）" if incident.closed_at is not None else ""
        self.title.setText(
            f"記録 ID {incident.incident_id}: カード末尾{incident.card}の"
            f"{INCIDENT_KIND_LABELS[incident.kind]}{closed}"
        )
        upcoming = next((p for p in items if p.state == "next"), None)
        self.guidance.setText(
            "" if upcoming is None else f"次: {upcoming.spec.label} — {upcoming.spec.guidance}"
        )
        if upcoming is not None:
            self.step.setCurrentIndex(self.step.findData(upcoming.spec.key))
        self.steps.set_records(list(items))
        self.contacts.set_records(list(incident.contacts))

    def select_card(self, combo: QComboBox, card: int | str) -> None:
        """Choose a card in ``combo`` by its id, or by its last 4 digits (the first card that
        has them)."""
        if isinstance(card, str):
            card = next((i for i, name in self._card_names.items() if name == card), -1)
        combo.setCurrentIndex(max(combo.findData(card), 0))

    def _step_changed(self, *_args: object) -> None:
        key = self.step.currentData()
        police = key == "police_report"
        card = key in ("reissue_received", "card_change")
        for widget, shown in (
            (self.police_station, police),
            (self.accepted_number, police),
            (self.accepted_on, police),
            (self.new_card_for_step, card),
        ):
            self.step_form.setRowVisible(widget, shown)

    # -- actions ------------------------------------------------------------------------------

    def _run(self, action: Any) -> bool:
        """Run a write; show its refusal, or refresh the page and tell the ledger it changed."""
        from etcbook.domain.incidents import CardChangeRefused
        from etcbook.models.cards import AmbiguousCard, CardNotFound
        from etcbook.models.reconcile import IncidentError

        try:
            with self.context.transaction() as connection:
                warnings = action(connection) or []
        except (IncidentError, CardChangeRefused, CardNotFound, AmbiguousCard, ValueError) as error:
            self.message.setText(f"記録できません: {error}")
            return False
        self.message.setText(" ".join(f"注意: {w}" for w in warnings))
        self.context.ledger_changed.emit()
        self.refresh()
        return True

    def open_incident(self) -> bool:
        """Start an incident for the chosen card."""
        from etcbook.models.reconcile import open_incident

        card = self._card_names.get(self.new_card.currentData())
        kind = self.new_kind.currentData()
        noticed = _value(self.new_noticed)
        if card is None:
            self.message.setText("先にカードを登録してください。")
            return False

        def action(connection: Any) -> list[str]:
            self._opened = open_incident(
                connection=connection, card=card, kind=kind, noticed_at=noticed
            )
            return []

        done = self._run(action)
        if done:
            ids = [i.incident_id for i in self.incidents.records]
            if self._opened in ids:
                self.incidents_view.selectRow(ids.index(self._opened))
        return done

    def record_step(self) -> bool:
        """Record the chosen step on the selected incident."""
        from etcbook.domain.incidents import StepRecord
        from etcbook.models.reconcile import record_step

        incident = self.current_incident()
        if incident is None or incident.incident_id is None:
            return False
        key = self.step.currentData()
        details = {}
        if key == "police_report":
            details = {
                "police_station": self.police_station.text().strip(),
                "accepted_number": self.accepted_number.text().strip(),
                "accepted_on": self.accepted_on.text().strip().replace("/", "-"),
            }
        elif key in ("reissue_received", "card_change"):
            chosen = self._card_names.get(self.new_card_for_step.currentData())
            details = {"new_card": chosen or ""}
        record = StepRecord(
            step=key,
            at=_value(self.step_at),
            desk=self.desk.text().strip(),
            reference=self.reference.text().strip(),
            person=self.person.text().strip(),
            details={k: v for k, v in details.items() if v},
            note=self.step_note.text().strip(),
        )
        incident_id = incident.incident_id

        def action(connection: Any) -> list[str]:
            _, warnings = record_step(connection=connection, incident_id=incident_id, record=record)
            return warnings

        done = self._run(action)
        if done:
            for edit in (self.desk, self.reference, self.person, self.step_note):
                edit.clear()
        return done

    def add_contact(self) -> bool:
        """Append the contact typed to the selected incident's log."""
        from etcbook.models.reconcile import add_contact

        incident = self.current_incident()
        if incident is None or incident.incident_id is None:
            return False
        entry = ContactEntry(
            at=_value(self.contact_at),
            desk=self.contact_desk.text().strip(),
            person=self.contact_person.text().strip(),
            reference=self.contact_reference.text().strip(),
            summary=self.contact_summary.text().strip(),
        )
        incident_id = incident.incident_id

        def action(connection: Any) -> list[str]:
            add_contact(connection=connection, incident_id=incident_id, entry=entry)
            return []

        done = self._run(action)
        if done:
            for edit in (
                self.contact_desk,
                self.contact_person,
                self.contact_reference,
                self.contact_summary,
            ):
                edit.clear()
        return done

    def close_incident(self) -> bool:
        """Mark the selected incident done."""
        from etcbook import clock
        from etcbook.models.reconcile import close_incident

        incident = self.current_incident()
        if incident is None or incident.incident_id is None:
            return False
        incident_id = incident.incident_id
        return self._run(
            lambda connection: close_incident(
                connection=connection, incident_id=incident_id, at=clock.now()
            )
        )

    def save_settings(self) -> None:
        for view in (
            self.incidents_view,
            self.steps_view,
            self.contacts_view,
            self.suspicious_view,
        ):
            view.save_settings()
