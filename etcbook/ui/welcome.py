"""First start: the store has no card yet. Offer the three ways in."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from etcbook.ui.context import CARDS_BY_ACCOUNTS, AppContext


class _Choice(QFrame):
    def __init__(self, title: str, text: str, button: QPushButton) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        heading = QLabel(title)
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        heading.setFont(font)
        body = QLabel(text)
        body.setWordWrap(True)
        body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(heading)
        layout.addWidget(body, 1)
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)


class WelcomePage(QWidget):
    """ようこそ: add a card, import a 明細CSV, look around the sample data, or connect to a
    ledger on a PostgreSQL server (接続先)."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        title = QLabel("etcbook へようこそ")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        title.setFont(font)
        where = (
            f"サーバーの帳簿 {context.display_name}（ログイン {context.login}）で"
            if context.on_server
            else "手元のパソコンだけで"
        )
        intro = QLabel(
            f"ETCカードの通行料金、ETCマイレージのポイントと還元額を、{where}管理します。"
            "毎月の流れは「明細CSVを取り込む → ポイントと失効予定を確認 → 必要な分だけ交換 → "
            "業務利用に印を付ける」です。まず、次のどれかから始めてください。"
        )
        intro.setWordWrap(True)

        self.add_card_button = QPushButton("カードを登録する…")
        self.add_card_button.clicked.connect(context.card_add_requested.emit)
        self.import_button = QPushButton("明細CSVを取り込む…")
        self.import_button.clicked.connect(lambda: context.import_requested.emit([]))
        self.sample_button = QPushButton("サンプルデータを開く")
        self.sample_button.clicked.connect(context.sample_requested.emit)
        self.sample_button.setEnabled(context.sample_path is not None)
        if not context.may_manage_cards:
            self.add_card_button.setEnabled(False)
            self.add_card_button.setToolTip(CARDS_BY_ACCOUNTS)
        self.connect_button = QPushButton("接続先を選ぶ…")
        self.connect_button.clicked.connect(context.connect_requested.emit)

        choices = QHBoxLayout()
        choices.setSpacing(16)
        choices.addWidget(
            _Choice(
                "カードを登録",
                "カード末尾4桁、名義、有効期限、マイレージIDなどを登録します。"
                "カード番号は末尾4桁しか保存しません。",
                self.add_card_button,
            )
        )
        choices.addWidget(
            _Choice(
                "明細CSVを取り込む",
                "ETC利用照会サービスからダウンロードした利用明細CSVを選ぶか、"
                "このウィンドウにドラッグ＆ドロップしてください。"
                "書き込む前に内容を確認できます。未登録のカードは自動で作られます。",
                self.import_button,
            )
        )
        choices.addWidget(
            _Choice(
                "サンプルデータで試す",
                "家族2枚と法人1枚のカード、18か月分の走行を収めた別のファイルを開きます。"
                "あなたのデータには触れません。",
                self.sample_button,
            )
        )

        column = QVBoxLayout()
        column.setSpacing(18)
        column.addWidget(title)
        column.addWidget(intro)
        column.addLayout(choices)
        server = QHBoxLayout()
        server_text = QLabel(
            "会社の帳簿が PostgreSQL サーバーにあるときは、接続先を選んで開きます"
            "（パスワードは pgpass かOSの資格情報ストアから）。"
        )
        server_text.setWordWrap(True)
        server.addWidget(server_text, 1)
        server.addWidget(self.connect_button)
        column.addLayout(server)
        hint = QLabel("ショートカット: Ctrl+I 取り込み、Ctrl+1〜 ページ切り替え")
        hint.setEnabled(False)
        column.addWidget(hint)
        column.addStretch(1)

        outer = QHBoxLayout(self)
        outer.setContentsMargins(40, 40, 40, 40)
        outer.addStretch(1)
        holder = QWidget()
        holder.setLayout(column)
        holder.setMaximumWidth(980)
        self.setFocusProxy(self.add_card_button)
        outer.addWidget(holder, 20)
        outer.addStretch(1)
