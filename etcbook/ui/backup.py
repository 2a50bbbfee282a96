"""Backup and restore from the window: ファイル→バックアップ… and ファイル→バックアップから戻す….

Both run :mod:`etcbook.models.backup` as operations off the GUI thread. A backup reads the
open store through SQLite's online backup API, so the window stays usable meanwhile. A restore
first checks the whole archive (while the store stays open), asks, then lets the window close
its store, keeping its claim so that no other window slips in, replaces the store and vault,
and opens the restored store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from etcbook.ui import formatting
from etcbook.ui.folders import start_folder
from etcbook.ui.messages import tell
from etcbook.ui.operations import Operation

if TYPE_CHECKING:
    from etcbook.models.backup import BackupResult, RestoreResult
    from etcbook.ui.context import AppContext

FOLDER_SETTING = "backup/folder"
ZIP_FILTER = "etcbook バックアップ (*.zip)"


def suggested_name(now: dt.datetime) -> str:
    """The file name offered for a new backup, e.g. ``etcbook-backup-20261204-1530.zip``."""
    return f"etcbook-backup-{now:%Y%m%d-%H%M}.zip"


def with_zip_suffix(path: Path) -> Path:
    """``path`` ending in ``.zip`` (a name typed without it gets it)."""
    return path if path.suffix.lower() == ".zip" else path.with_name(path.name + ".zip")


def _created_text(created_at: str) -> str:
    try:
        when = dt.datetime.fromisoformat(created_at)
    except ValueError:
        return created_at
    return f"{formatting.date_with_weekday(when.date())} {when:%H:%M}"


def restore_question(info: dict[str, Any], store_path: Path) -> str:
    """What the window asks before a restore: what the archive holds and what happens."""
    return (
        f"{_created_text(str(info['created_at']))} に作成したバックアップ"
        f"（利用 {info['trips']:,}件・カード {info['cards']:,}枚・保管書類 {info['vault_files']:,}件）で、"
        "いまのデータを置き換えます。\n\n"
        f"いまのストア（{store_path.name}）と保管書類のフォルダは、"
        "同じ場所に「before-restore-日時」を付けた名前で残します。"
    )


def backup_done_text(result: BackupResult) -> str:
    return (
        f"バックアップを保存しました: {result.path}\n"
        f"利用 {result.trips:,}件・カード {result.cards:,}枚・保管書類 {result.vault_files:,}件、"
        f"{result.size / 1_048_576:,.1f} MB。\n"
        "ストアと別の場所（USBメモリなど）にも保管してください。"
    )


def restore_done_text(result: RestoreResult) -> str:
    lines = [
        f"{_created_text(result.backup_created_at)} のバックアップから戻しました"
        f"（利用 {result.trips:,}件・カード {result.cards:,}枚・保管書類 {result.vault_files:,}件）。"
    ]
    if result.kept_store is not None:
        lines.append(f"それまでのストア: {result.kept_store}")
    if result.kept_vault is not None:
        lines.append(f"それまでの保管書類: {result.kept_vault}")
    if result.upgraded:
        lines.append("古い版のバックアップだったので、いまの版の形式に更新しました。")
    return "\n".join(lines)


class BackupFlow(QObject):
    """The window's backup and restore, each started by a menu action or a page's request.

    ``reopen(path, before_open)`` is the window's: close the current store (keeping the claim),
    run ``before_open(context)`` on the new context, which opens the store when it is done.
    """

    def __init__(
        self,
        window: QMainWindow,
        context: Callable[[], AppContext],
        reopen: Callable[[Callable[[AppContext], None]], None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._context = context
        self._reopen = reopen
        self.last_message: str = ""

    # -- backup --------------------------------------------------------------------------------

    def ask_and_back_up(self) -> None:
        """Ask where to save the backup (a ZIP), then write it."""
        from etcbook import clock

        context = self._context()
        if not context.is_open:
            return
        folder = start_folder(context.settings, FOLDER_SETTING)
        name, _filter = QFileDialog.getSaveFileName(
            self._window,
            "バックアップを保存",
            str(Path(folder) / suggested_name(clock.now())),
            ZIP_FILTER,
        )
        if name:
            # The dialog already asked before replacing an existing file.
            self.back_up_to(with_zip_suffix(Path(name)), overwrite=True)

    def back_up_to(self, out: Path, *, overwrite: bool = False) -> None:
        """Write a backup of the open store and its vault to ``out`` (a ZIP)."""
        from etcbook.models.backup import create_backup

        context = self._context()
        if not context.is_open:
            return
        store = context.store
        context.settings.setValue(FOLDER_SETTING, str(out.parent))

        def done(result: BackupResult) -> None:
            self.last_message = backup_done_text(result)
            context.backup_made.emit()
            self._window.statusBar().showMessage(
                f"バックアップを保存しました: {result.path}", 15_000
            )
            tell(self._window, "バックアップ", self.last_message, icon=QMessageBox.Icon.Information)

        context.run(
            Operation(
                work=lambda _progress: create_backup(store, out, overwrite=overwrite),
                title="バックアップ",
                on_success=done,
                on_failure=lambda error: self._failed("バックアップできませんでした。", error),
                parent=self._window,
            )
        )

    # -- restore -------------------------------------------------------------------------------

    def ask_and_restore(self) -> None:
        """Ask for a backup ZIP, check it, ask to confirm, then restore it."""
        context = self._context()
        if not context.is_open or context.is_sample:
            return
        folder = start_folder(context.settings, FOLDER_SETTING)
        name, _filter = QFileDialog.getOpenFileName(
            self._window, "バックアップから戻す", folder, ZIP_FILTER
        )
        if name:
            self.check_then_restore(Path(name))

    def check_then_restore(self, archive: Path, *, confirm: bool = True) -> None:
        """Check every entry of ``archive``; if sound, ask (unless ``confirm`` is False) and
        restore it over the open store. A damaged or foreign archive changes nothing."""
        from etcbook.models.backup import check_backup

        context = self._context()
        if not context.is_open or context.is_sample:
            return

        def checked(info: dict[str, Any]) -> None:
            if self._context() is not context or not context.is_open:
                return
            if not confirm:
                self.restore(archive)
                return
            box = QMessageBox(self._window)
            box.setIcon(QMessageBox.Icon.Question)
            box.setWindowTitle("バックアップから戻す")
            box.setText("バックアップから戻しますか？")
            box.setInformativeText(restore_question(info, context.db_path))
            box.setStyleSheet("QLabel { min-width: 28em; }")  # the details read as paragraphs
            yes = box.addButton("戻す", QMessageBox.ButtonRole.AcceptRole)
            box.addButton("キャンセル", QMessageBox.ButtonRole.RejectRole)
            box.setDefaultButton(QMessageBox.StandardButton.NoButton)

            def answered(_result: int) -> None:
                if box.clickedButton() is yes:
                    self.restore(archive)
                box.deleteLater()

            box.finished.connect(answered)
            box.open()

        context.run(
            Operation(
                work=lambda _progress: check_backup(archive),
                title="バックアップの確認",
                on_success=checked,
                on_failure=lambda error: self._failed("このファイルからは戻せません。", error),
                parent=self._window,
            )
        )

    def restore(self, archive: Path) -> None:
        """Close the store (its claim kept), restore ``archive`` over it, open it again."""
        from etcbook.models.backup import restore_backup

        if self._context().operations.writing:
            tell(
                self._window,
                "バックアップから戻す",
                "取り込みなどの処理が終わってから戻してください。",
            )
            return

        def start(context: AppContext) -> None:
            path = context.db_path
            claim = context.claim

            def done(result: RestoreResult) -> None:
                self.last_message = restore_done_text(result)
                context.open_store_async()
                tell(
                    self._window,
                    "バックアップから戻す",
                    self.last_message,
                    icon=QMessageBox.Icon.Information,
                )

            def failed(error: BaseException) -> None:
                from etcbook.models.backup import RestoreIncomplete

                # Everything is checked before anything changes, and a failure while swapping
                # puts the old store and vault back, unless RestoreIncomplete says otherwise.
                context.open_store_async()
                if isinstance(error, RestoreIncomplete):
                    self._failed("戻せませんでした。元の状態にも戻せていません。", error)
                else:
                    self._failed("戻せませんでした。いまのデータはそのままです。", error)

            context.run(
                Operation(
                    work=lambda _progress: restore_backup(archive, path, held=claim),
                    title="バックアップから戻しています",
                    on_success=done,
                    on_failure=failed,
                    parent=self._window,
                )
            )

        self._reopen(start)

    # -- messages ------------------------------------------------------------------------------

    def _failed(self, headline: str, error: BaseException) -> None:
        from etcbook.models.backup import BackupError

        detail = str(error) if isinstance(error, (BackupError, OSError)) else ""
        self.last_message = f"{headline}\n{detail or type(error).__name__}"
        tell(self._window, "バックアップ", self.last_message, details="" if detail else repr(error))
