"""証憑: the vault of electronic originals — add (drop, file dialog, Ctrl+V), search, preview,
the months still lacking a statement or certificate, and removal to the trash with a reason.

Thin: the vault rules live in :mod:`etcbook.models.vault`; this page only collects input and
shows results.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from etcbook import clock
from etcbook.domain.evidence import DOCUMENT_KINDS, SCREEN_KINDS, kind_label
from etcbook.ui.context import AppContext
from etcbook.ui.formatting import card_digits, card_title
from etcbook.ui.page import Page, page_title
from etcbook.ui.tables import Column, RecordTableModel, RememberingTableView, sortable_proxy

if TYPE_CHECKING:
    from etcbook.models.vault import DocumentRecord, MonthCoverage

PREVIEW_WIDTH = 360
ADD_FOLDER_SETTING = "evidence/folder"


def previous_month(today: dt.date) -> str:
    first = today.replace(day=1) - dt.timedelta(days=1)
    return first.strftime("%Y-%m")


def _parse_date(text: str) -> dt.date | None:
    text = text.strip().replace("/", "-")
    return dt.date.fromisoformat(text) if text else None


def _parse_yen(text: str) -> int | None:
    text = text.strip().replace(",", "").replace("円", "")
    return int(text) if text else None


CardCell = Callable[[str, int | None], str]
"""A card's text in a table from its last 4 digits and id (None: an original kept under digits
no card had yet)."""


def document_columns(card: CardCell) -> list[Column[DocumentRecord]]:
    """The documents table's columns, its cards named by ``card``."""
    return [
        Column("ID", lambda d: d.id, "int"),
        Column("月", lambda d: d.month.replace("-", "/"), tooltip=lambda d: d.month),
        Column("カード", lambda d: card(d.card, d.card_id)),
        Column("種類", lambda d: kind_label(d.kind)),
        Column("版", lambda d: f"v{d.version}"),
        Column("取引日", lambda d: d.date, "date"),
        Column("金額", lambda d: d.amount, "yen"),
        Column("取引先", lambda d: d.counterparty),
        # The name (the 月 column already says the YYYY/MM folder); the path and digest on hover.
        Column("ファイル", lambda d: d.name, tooltip=lambda d: f"{d.relpath}\nSHA-256 {d.sha256}"),
    ]


def month_columns(card: CardCell) -> list[Column[MonthCoverage]]:
    """The 足りない月 table's columns, its cards named by ``card``."""
    return [
        Column("カード", lambda m: card(m.card, m.card_id), tooltip=lambda m: f"id:{m.card_id}"),
        Column("月", lambda m: m.month.replace("-", "/")),
        Column("走行", lambda m: m.trips, "int"),
        Column("請求書", lambda m: "あり" if m.statement else "なし"),
        Column("利用証明書", lambda m: "あり" if m.certificate else "なし"),
    ]


def render_preview(
    path: PurePath,
    width: int = PREVIEW_WIDTH,
    pixel_ratio: float = 1.0,
    *,
    data: bytes | None = None,
) -> QPixmap | str:
    """The first page of a PDF (pypdfium2) or the image, scaled; the first lines of a text file.

    ``data`` are the file's bytes (an original read from the vault, checked); without them the
    file at ``path`` is read. ``width`` is in logical pixels; the picture is made with
    ``pixel_ratio`` device pixels per logical one (the screen's ratio: 2 on Retina, 1.25–2 on
    scaled Windows), so it stays sharp.
    """
    if data is None:
        data = Path(path).read_bytes()
    suffix = path.suffix.lower()
    pixel_ratio = max(1.0, pixel_ratio)
    device_width = round(width * pixel_ratio)
    if suffix == ".pdf":
        from etcbook.ui.pdf_pages import render_pdf_pages

        return render_pdf_pages(data, width, pixel_ratio, first_only=True)[0]
    if suffix in {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"}:
        pixmap = QPixmap()
        if not pixmap.loadFromData(data) or pixmap.isNull():
            return "画像を読めません"
        shown = pixmap.scaledToWidth(device_width, Qt.TransformationMode.SmoothTransformation)
        shown.setDevicePixelRatio(pixel_ratio)
        return shown
    raw = data[:4000]
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return "\n".join(raw.decode(encoding).splitlines()[:20])
        except UnicodeDecodeError:
            continue
    return "プレビューできない形式です"


class EvidencePage(Page):
    """証憑 page."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.setAcceptDrops(True)
        self._last4: dict[int, str] = {}
        """Each card's last 4 digits by id (the card choices hold ids)."""
        self._shared: set[str] = set()
        """Last 4 digits several cards share."""
        self._cell_names: dict[int, str] = {}
        """Each card's text in the tables by id (see :meth:`_card_cell`)."""
        layout = QVBoxLayout(self)
        layout.addWidget(page_title("証憑"))
        layout.addWidget(self._build_add_box())
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_search_tab(), "検索")
        self.tabs.addTab(self._build_missing_tab(), "足りない月（直近15か月）")
        splitter.addWidget(self.tabs)
        self.preview = QLabel("証憑を選ぶとここに表示します")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.preview.setMinimumWidth(PREVIEW_WIDTH)
        self.preview.setWordWrap(True)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout.addWidget(splitter, 1)
        bottom = QHBoxLayout()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.count = QLabel("")
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.count)
        layout.addLayout(bottom)
        paste = QShortcut(QKeySequence.StandardKey.Paste, self)
        paste.activated.connect(self.paste_screenshot)

    # -- building ------------------------------------------------------------------------------

    def _build_add_box(self) -> QGroupBox:
        box = QGroupBox(
            "追加（ファイルをここにドロップ、または Ctrl+V でスクリーンショットを貼り付け）"
        )
        grid = QGridLayout(box)
        self.kind = QComboBox()
        for kind in DOCUMENT_KINDS:
            self.kind.addItem(kind.label, kind.key)
        self.card = QComboBox()
        self.month = QLineEdit(previous_month(clock.today()))
        self.month.setPlaceholderText("YYYY-MM")
        self.date = QLineEdit()
        self.date.setPlaceholderText("取引日 YYYY-MM-DD")
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("金額（円）")
        self.counterparty = QLineEdit()
        self.counterparty.setPlaceholderText("取引先")
        self.counterparty.setToolTip("取引先（カード会社・道路事業者）")
        self.vehicle = QLineEdit()
        self.vehicle.setPlaceholderText("車両名（例: CarA）")
        add_button = QPushButton("ファイルを追加…")
        add_button.clicked.connect(self._choose_files)
        fields: list[tuple[str, QWidget]] = [
            ("種類", self.kind),
            ("カード", self.card),
            ("対象月", self.month),
            ("取引日", self.date),
            ("金額", self.amount),
            ("取引先", self.counterparty),
            ("車両", self.vehicle),
        ]
        for i, (label, widget) in enumerate(fields):
            grid.addWidget(QLabel(label), i // 4, (i % 4) * 2)
            grid.addWidget(widget, i // 4, (i % 4) * 2 + 1)
        grid.addWidget(add_button, 1, 7)
        return box

    def _build_search_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        form = QFormLayout()
        row = QHBoxLayout()
        second = QHBoxLayout()  # two rows: on one, the fields and combos are cut off
        self.search_from = QLineEdit()
        self.search_from.setPlaceholderText("取引日から")
        self.search_from.setToolTip("この日以降の取引（YYYY-MM-DD）")
        self.search_to = QLineEdit()
        self.search_to.setPlaceholderText("まで")
        self.search_min = QLineEdit()
        self.search_min.setPlaceholderText("金額 下限")
        self.search_max = QLineEdit()
        self.search_max.setPlaceholderText("上限")
        self.search_counterparty = QLineEdit()
        self.search_counterparty.setPlaceholderText("取引先の一部")
        self.search_counterparty.setToolTip("取引先の名前の一部（部分一致）")
        for widget in (
            self.search_from,
            self.search_to,
            self.search_min,
            self.search_max,
            self.search_counterparty,
        ):
            (second if widget is self.search_counterparty else row).addWidget(widget)
            widget.returnPressed.connect(self.refresh)
        self.search_kind = QComboBox()
        self.search_kind.addItem("すべての種類", None)
        for kind in DOCUMENT_KINDS:
            self.search_kind.addItem(kind.label, kind.key)
        self.search_card = QComboBox()
        self.search_card.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.search_card.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        second.addWidget(self.search_kind)
        second.addWidget(self.search_card)
        search_button = QPushButton("検索")
        search_button.clicked.connect(self.refresh)
        second.addWidget(search_button)
        form.addRow(row)
        form.addRow(second)
        layout.addLayout(form)
        self.documents = RecordTableModel(document_columns(self._card_cell), self)
        self.documents_view = RememberingTableView(self.context.settings, "evidence/documents")
        self._documents_proxy = sortable_proxy(self.documents, self)
        self.documents_view.setModel(self._documents_proxy)
        self.documents_view.setSortingEnabled(True)
        self.documents_view.restore_columns()
        self.documents_view.selectionModel().currentRowChanged.connect(self._selected)
        layout.addWidget(self.documents_view, 1)
        buttons = QHBoxLayout()
        remove = QPushButton("削除（ごみ箱へ）…")
        remove.clicked.connect(self._remove_selected)
        buttons.addStretch(1)
        buttons.addWidget(remove)
        layout.addLayout(buttons)
        return tab

    def _build_missing_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        explanation = QLabel(
            "走行がある月のうち、請求書か利用証明書が保管されていない月です。"
            "ETC利用照会サービスの明細は約15か月で取得できなくなります。"
        )
        explanation.setWordWrap(True)
        layout.addWidget(explanation)
        self.months = RecordTableModel(month_columns(self._card_cell), self)
        self.months_view = RememberingTableView(self.context.settings, "evidence/months")
        self.months_view.setModel(self.months)
        layout.addWidget(self.months_view, 1)
        return tab

    # -- data ----------------------------------------------------------------------------------

    def _card_cell(self, last4: str, card_id: int | None) -> str:
        """A card in the tables: its digits, and its 呼び名 where another card has them."""
        return self._cell_names.get(card_id, last4) if card_id is not None else last4

    def refresh(self) -> None:
        from sqlalchemy import text

        from etcbook.models.vault import DocumentSearch, month_coverage, search_documents

        store = self.context.store
        with self.context.connection() as connection:
            rows = connection.execute(
                text("SELECT id, last4, label, holder FROM cards ORDER BY last4, id")
            ).all()
        # Cards of a fleet may share their last 4 digits: the choices are cards by id, and
        # those sharing digits are named apart (末尾 6789　2号車（山田）).
        digits = [row.last4 for row in rows]
        self._shared = {last4 for last4 in digits if digits.count(last4) > 1}
        self._last4 = {row.id: row.last4 for row in rows}
        self._cell_names = {
            row.id: card_digits(row.last4, row.label, shared=row.last4 in self._shared)
            for row in rows
        }
        card_filter = self.context.card_filter
        cards = card_filter.narrow(rows, lambda row: row.id)
        for combo, blank in ((self.card, None), (self.search_card, "すべてのカード")):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            if blank:
                combo.addItem(blank, None)
            for row in cards:
                # the digits alone where no other card has them: the search row is narrow
                name = (
                    card_title(row.last4, row.label, row.holder)
                    if row.last4 in self._shared
                    else f"末尾 {row.last4}"
                )
                combo.addItem(name, row.id)
            index = combo.findData(current)
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)
        search_card = self.search_card.currentData()
        search_last4 = self._last4.get(search_card)
        try:
            search = DocumentSearch(
                date_from=_parse_date(self.search_from.text()),
                date_to=_parse_date(self.search_to.text()),
                min_amount=_parse_yen(self.search_min.text()),
                max_amount=_parse_yen(self.search_max.text()),
                counterparty=self.search_counterparty.text().strip() or None,
                kind=self.search_kind.currentData(),
                card=search_last4,
                # by id only where digits are shared: by digits, a card's originals kept
                # before it was registered are found too
                card_id=search_card if search_last4 in self._shared else None,
            )
        except ValueError as exc:
            self.status.setText(f"検索条件を読めません: {exc}")
            return
        found = search_documents(store=store, search=search)
        self.documents.set_records(
            card_filter.narrow(found, lambda document: document.card_id or document.card)
        )
        if not self.documents_view.restore_columns():
            self.documents_view.resizeColumnsToContents()
        lacking = [m for m in month_coverage(store=store) if m.lacking]
        self.months.set_records(card_filter.narrow(lacking, lambda m: m.card_id or m.card))
        self.count.setText(f"{self.documents.rowCount():,}件")

    def _selected(self, current: Any, _previous: Any) -> None:
        if not current.isValid():
            return
        row = self._documents_proxy.mapToSource(current).row()
        self.show_preview(self.documents.record(row))

    def show_preview(self, document: DocumentRecord) -> None:
        from etcbook.models.vault import OriginalUnreadable, read_original

        try:
            # Checked against the recorded SHA-256: altered bytes are never shown.
            data = read_original(store=self.context.store, document=document)
        except OriginalUnreadable as exc:
            self.preview.setText(str(exc))
            return
        try:
            shown = render_preview(
                PurePosixPath(document.name),
                pixel_ratio=self.preview.devicePixelRatioF(),
                data=data,
            )
        except Exception as exc:  # a damaged file must not break the page
            self.preview.setText(f"プレビューできません: {exc}")
            return
        if isinstance(shown, QPixmap):
            self.preview.setPixmap(shown)
        else:
            self.preview.setText(shown)

    # -- adding --------------------------------------------------------------------------------

    def add_files(
        self, paths: list[Path], *, kind: str | None = None, day: dt.date | None = None
    ) -> list[str]:
        """Add files with the form's details; returns the messages shown (errors included)."""
        from etcbook.models.vault import VaultError, add_document

        messages = []
        card_id = self.card.currentData()
        if card_id is None:
            messages.append("先にカードを登録してください。")
        else:
            try:
                date = day or _parse_date(self.date.text())
                amount = _parse_yen(self.amount.text())
            except ValueError as exc:
                messages.append(f"取引日・金額を読めません: {exc}")
            else:
                month = day.strftime("%Y-%m") if day else self.month.text().strip()
                for path in paths:
                    try:
                        document = add_document(
                            store=self.context.store,
                            source=path,
                            kind=kind or self.kind.currentData(),
                            card=self._last4[card_id],
                            card_id=card_id,
                            month=month,
                            date=date,
                            amount=amount,
                            counterparty=self.counterparty.text().strip(),
                            vehicle=self.vehicle.text().strip(),
                        )
                    except VaultError as exc:
                        messages.append(str(exc))
                    else:
                        messages.append(f"保管しました: {document.relpath}（v{document.version}）")
        self.status.setText(" / ".join(messages))
        self.refresh()
        return messages

    def _choose_files(self) -> None:
        from etcbook.ui.folders import remember_folder, start_folder

        settings = self.context.settings
        paths, _ = QFileDialog.getOpenFileNames(
            self,
            "証憑を追加",
            start_folder(settings, ADD_FOLDER_SETTING),
            "証憑 (*.pdf *.csv *.png *.jpg *.jpeg);;すべて (*)",
        )
        if paths:
            remember_folder(settings, ADD_FOLDER_SETTING, Path(paths[0]).parent)
            self.add_files([Path(p) for p in paths])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # Qt override
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # Qt override
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_files(paths)

    def ask_screen_kind(self) -> str | None:
        """Which of the four mypage screens the pasted screenshot shows (``None``: cancelled)."""
        labels = [kind_label(key) for key in SCREEN_KINDS]
        label, ok = QInputDialog.getItem(
            self, "スクリーンショットの種類", "どの画面ですか？", labels, 0, False
        )
        return SCREEN_KINDS[labels.index(label)] if ok else None

    def paste_screenshot(self, image: QImage | None = None, kind: str | None = None) -> list[str]:
        """Ctrl+V: keep the clipboard's image as a screenshot of today, of the chosen screen."""
        from PySide6.QtWidgets import QApplication

        if image is None:
            image = QApplication.clipboard().image()
        if image.isNull():
            self.status.setText("クリップボードに画像がありません。")
            return []
        kind = kind or self.ask_screen_kind()
        if kind is None:
            return []
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "screenshot.png"
            # PySide6 takes the format as str (it refuses bytes); its stubs say bytes.
            if not image.save(str(path), "PNG"):  # type: ignore[call-overload]
                self.status.setText("画像を保存できませんでした。")
                return []
            return self.add_files([path], kind=kind, day=clock.today())

    # -- removing ------------------------------------------------------------------------------

    def _remove_selected(self) -> None:
        index = self.documents_view.currentIndex()
        if not index.isValid():
            return
        document = self.documents.record(self._documents_proxy.mapToSource(index).row())
        reason, ok = QInputDialog.getText(
            self, "証憑の削除", f"{document.relpath} をごみ箱に移します。理由:"
        )
        if ok:
            self.remove(document.id, reason)

    def remove(self, document_id: int, reason: str) -> None:
        from etcbook.models.vault import VaultError, remove_document

        try:
            removed = remove_document(
                store=self.context.store, document_id=document_id, reason=reason
            )
        except VaultError as exc:
            QMessageBox.warning(self, "証憑の削除", str(exc))
            return
        self.status.setText(f"ごみ箱に移しました: {removed.trash_path}")
        self.refresh()
