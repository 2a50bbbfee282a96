"""ヘルプ: the manual's pages (monthly routine, downloading the 明細CSV, where the data lives)
and opening the data folder. The pages are short HTML shown in a window-modal browser."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

MONTHLY_ROUTINE = """
<h2>毎月の流れ</h2>
<ol>
<li><b>明細CSVを取り込む</b>: ETC利用照会サービスから前の月の明細CSVをダウンロードし、ウィンドウに
ドラッグするか ファイル → 明細CSVを取り込む（Ctrl+I）。確認画面で、カード・期間・通行料金の合計と、
新規・更新（確認中→確定）・重複の件数を確かめてから取り込みます。取り込んだファイルは原本として
証憑フォルダに保管されます。</li>
<li><b>ダッシュボード</b>で、ポイントの失効予定、還元額、次の20日に起きること、注意を確かめます。</li>
<li><b>ポイント・還元額</b>で、次の走行に必要な分だけの交換計画を立てます。ETCマイレージのサイトで
交換したら「この計画を交換として記録」。間違えた記録は「記録を取り消す…」で取り消せます。</li>
<li><b>走行明細</b>で業務の走行に用途と業務割合を付け、<b>経費精算</b>で精算書を書き出します。</li>
<li><b>月次照合</b>で、サイトの還元額・付与ポイントとカード請求の数字を入れて突き合わせます。</li>
<li><b>証憑</b>に、カード会社の請求書PDFと利用証明書PDFを保管します（約15か月で取得できなくなります）。</li>
<li>ファイル → バックアップ でストアと証憑を1つのZIPに保存します。</li>
</ol>
"""

DOWNLOAD_MEISAI = """
<h2>明細CSVのダウンロード</h2>
<ol>
<li>ETC利用照会サービスにログインします（450日ログインしないとIDが自動で解約されます）。</li>
<li>利用明細の検索で、カードと期間（前の月の1日〜末日）を選んで検索します。</li>
<li>一覧の下の「CSV」からファイルを保存します。ファイル名は変えなくてかまいません。</li>
<li>保存したファイルを etcbook のウィンドウにドラッグします。</li>
</ol>
<p>明細は約15か月前までしか取得できません。毎月ダウンロードしてください。
同じ期間を重ねてダウンロードしても、取り込み済みの走行は重複として数えるだけで、二重には入りません。
「確認中」の走行は、あとで「確定」の明細を取り込むと更新されます（金額が変わることがあります）。</p>
"""


def data_locations_html(store_path: Path, vault_path: Path) -> str:
    """Where this store and its vault are, in the manual's words."""
    return f"""
<h2>データの場所</h2>
<p><b>ストア</b>（走行・カード・ポイントの記録。SQLiteのファイル1つ）:<br>
<code>{escape(str(store_path))}</code></p>
<p><b>証憑フォルダ</b>（請求書・利用証明書・明細CSVなど電子の原本。ストアごとに1つ、
ストアと同じフォルダに「ストア名.etc」という名前であります）:<br>
<code>{escape(str(vault_path))}</code></p>
<p>原本は読み取り専用で保管され、上書きされません。訂正したファイルは v2 として隣に置かれます。
ストアと証憑フォルダは、ファイル → バックアップ で1つのZIPにまとめて保存できます。
別の場所に移すときは、ストアのファイルと証憑フォルダを一緒に移してください。</p>
<p>ヘルプ → データのフォルダを開く で、このフォルダをファイルマネージャーで開けます。</p>
"""


class HelpDialog(QDialog):
    """One page of the manual."""

    def __init__(self, title: str, html: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(640, 520)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(html)
        buttons = QDialogButtonBox()
        buttons.addButton("閉じる", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)


def open_folder(folder: Path) -> bool:
    """Open ``folder`` in the system's file manager; ``False`` when that failed."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
