"""ヘルプ → etcbook について: the version, where the data lives, and the third-party licences."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from etcbook import __version__
from etcbook.paths import ICON_PNG, THIRD_PARTY_LICENSES, user_data_folder


def licence_text() -> str:
    """The shipped THIRD_PARTY_LICENSES.txt, or a sentence saying it is missing."""
    try:
        return THIRD_PARTY_LICENSES.read_text(encoding="utf-8")
    except OSError:
        return f"ライセンス一覧のファイルが見つかりません: {THIRD_PARTY_LICENSES}"


class AboutDialog(QDialog):
    """The version, the data folder and the open store, and every bundled licence's text."""

    def __init__(self, store_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("etcbookについて")
        self.resize(760, 620)
        self.data_folder = user_data_folder()
        self.store_path = Path(store_path)

        icon = QLabel()
        icon.setPixmap(QIcon(str(ICON_PNG)).pixmap(64, 64))
        self.title_label = title = QLabel(
            f"<b style='font-size:16pt'>etcbook</b> バージョン {html.escape(__version__)}<br>"
            "ETC通行料金とETCマイレージの帳簿（オフライン）。"
            "カード情報は末尾4桁のみを保存し、ネットワークには何も送りません。"
        )
        title.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(icon)
        head.addWidget(title, 1)

        self.paths_label = QLabel(
            f"データフォルダ: {html.escape(str(self.data_folder))}<br>"
            f"開いているストア: {html.escape(str(self.store_path))}<br>"
            f"証憑の保管庫: ストアと同じフォルダの ETC<br>"
            f"Qt {html.escape(qVersion())} / Qt for Python {html.escape(pyside_version)}"
        )
        self.paths_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.paths_label.setWordWrap(True)

        notice = QLabel(
            "etcbook は MIT ライセンスです。Qt・Qt for Python（PySide6）は GNU LGPL v3、"
            "日本語フォント IPAexゴシック は IPAフォントライセンスv1.0 のもとで同梱しています。"
            "ほかのライブラリのライセンスも含め、全文を下に示します。"
        )
        notice.setWordWrap(True)
        self.licences = QPlainTextEdit()
        self.licences.setReadOnly(True)
        self.licences.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.licences.setPlainText(licence_text())

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("閉じる")
        open_folder = QPushButton("ストアのフォルダを開く")
        buttons.addButton(open_folder, QDialogButtonBox.ButtonRole.ActionRole)
        open_folder.clicked.connect(self.open_data_folder)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.paths_label)
        layout.addWidget(notice)
        layout.addWidget(self.licences, 1)
        layout.addWidget(buttons)

    def open_data_folder(self) -> None:
        """Show the store's folder (the store and its vault ``ETC``) in the file manager."""
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.store_path.parent)))
