"""接続先: open a ledger on a PostgreSQL server from the window.

The dialog lists the saved connection profiles (kept in the app's settings: name, host, port,
database, user or a libpq service name — never a password) and the services of the libpq
service file. Connecting opens the ledger as ``--db URL`` would (etcbook.models.store), so the
password comes from pgpass or the service file, else the OS keyring; when the server still asks
for one, the dialog shows a password field and a checkbox to keep it in the keyring. A wrong
password, a server that cannot be reached or a role that may not upgrade the ledger is a
sentence in the dialog. The opened store is handed to the window (:attr:`ConnectDialog.store`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from etcbook.models.server import ServerAddress

if TYPE_CHECKING:
    from etcbook.models.store import Store

PROFILES_KEY = "connections/profiles"
LAST_KEY = "connections/last"
_PROFILE = "profile"
_SERVICE = "service"


@dataclass(frozen=True)
class Profile:
    """A saved connection (接続先): where the ledger is, never its password.

    Attributes:
        name: the name the user gave it.
        host: host name, IP address or a Unix socket folder ("" = libpq's default).
        port: "" = libpq's default (5432).
        dbname: the database.
        user: the PostgreSQL login ("" = libpq's default: the OS user).
        service: a libpq service name; when set, it says where the server is instead.
    """

    name: str
    host: str = ""
    port: str = ""
    dbname: str = ""
    user: str = ""
    service: str = ""

    def url(self) -> str:
        """The profile as a libpq URL (without a password)."""
        from urllib.parse import quote

        from etcbook.models.server import profile_url, service_url

        if self.service:
            url = service_url(self.service)
            return url + (f"&user={quote(self.user, safe='')}" if self.user else "")
        return profile_url(host=self.host, port=self.port, dbname=self.dbname, user=self.user)


def load_profiles(settings: QSettings) -> list[Profile]:
    """The saved profiles (a damaged entry is left out)."""
    raw = settings.value(PROFILES_KEY, "[]", str)
    try:
        entries = json.loads(str(raw))
    except ValueError:
        return []
    fields = set(Profile.__dataclass_fields__)
    profiles = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            profiles.append(Profile(**{k: str(v) for k, v in entry.items() if k in fields}))
    return profiles


def save_profiles(settings: QSettings, profiles: list[Profile]) -> None:
    settings.setValue(PROFILES_KEY, json.dumps([asdict(p) for p in profiles], ensure_ascii=False))


class ConnectDialog(QDialog):
    """接続先: choose a saved profile or a service, or type one; connect; the store is opened."""

    def __init__(
        self,
        settings: QSettings,
        parent: QWidget | None = None,
        *,
        address: ServerAddress | None = None,
        message: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("接続先 — PostgreSQL の帳簿")
        self.settings = settings
        self.store: Store | None = None
        """The opened store, once connected (the dialog is then accepted)."""
        self.address: ServerAddress | None = None

        self.choices = QListWidget()
        self.choices.setMinimumWidth(200)
        # Only the user's choice (or choose()) fills the fields: Qt also makes the first item
        # current by itself when the list is shown, which must not replace an address given.
        self.choices.currentItemChanged.connect(self._current_changed)
        self.choices.itemClicked.connect(self._chosen)

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("例: 本社の帳簿")
        self.host_edit = QLineEdit()
        self.host_edit.setPlaceholderText("db.example.co.jp（空欄: このパソコン）")
        self.port_edit = QLineEdit()
        self.port_edit.setPlaceholderText("5432")
        self.dbname_edit = QLineEdit()
        self.user_edit = QLineEdit()
        self.user_edit.setPlaceholderText("ログイン名（空欄: OSのユーザー名）")
        self.service_edit = QLineEdit()
        self.service_edit.setPlaceholderText("pg_service.conf のサービス名（使うときだけ）")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.keep_password = QCheckBox("パスワードをOSの資格情報ストアに保存する")
        self.keep_password.setToolTip(
            "Windows の資格情報マネージャー、macOS のキーチェーンなどに保存します。"
            "etcbook の設定ファイルには保存しません。"
        )

        form = QFormLayout()
        form.addRow("名前", self.name_edit)
        form.addRow("ホスト", self.host_edit)
        form.addRow("ポート", self.port_edit)
        form.addRow("データベース", self.dbname_edit)
        form.addRow("ユーザー", self.user_edit)
        form.addRow("サービス", self.service_edit)
        self._password_label = QLabel("パスワード")
        form.addRow(self._password_label, self.password_edit)
        form.addRow("", self.keep_password)
        self._form = form

        self.message = QLabel(message)
        self.message.setObjectName("connectMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.save_button = QPushButton("接続先を保存")
        self.save_button.clicked.connect(self.save_profile)
        self.delete_button = QPushButton("削除")
        self.delete_button.clicked.connect(self.delete_profile)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = buttons.addButton("接続", QDialogButtonBox.ButtonRole.AcceptRole)
        self.connect_button.setDefault(True)
        buttons.accepted.connect(self.try_connect)
        buttons.rejected.connect(self.reject)

        left = QVBoxLayout()
        left.addWidget(QLabel("保存した接続先とサービス"))
        left.addWidget(self.choices, 1)
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addWidget(self.delete_button)
        left.addLayout(row)
        right = QVBoxLayout()
        hint = QLabel(
            "パスワードは pgpass ファイル、サービスファイル、OSの資格情報ストアの順に探します。"
            "見つからないときだけ入力してください。"
        )
        hint.setWordWrap(True)
        right.addWidget(hint)
        right.addLayout(form)
        right.addWidget(self.message)
        right.addStretch(1)
        top = QHBoxLayout()
        top.addLayout(left, 2)
        top.addLayout(right, 3)
        outer = QVBoxLayout(self)
        outer.addLayout(top, 1)
        outer.addWidget(buttons)

        self._show_password(False)
        self._fill_choices()
        if address is not None:
            self._fill_from_address(address)
            if message:
                self._show_password(True)
                self.password_edit.setFocus()
        elif self._last_item is not None:  # the connection used last time
            self.choices.setCurrentItem(self._last_item)
            self._chosen(self._last_item)
        self.resize(760, 440)

    # -- choices ---------------------------------------------------------------------------------

    def _fill_choices(self) -> None:
        from etcbook.models.server import service_names

        self.choices.clear()
        self._last_item: QListWidgetItem | None = None
        last = str(self.settings.value(LAST_KEY, "", str))
        for profile in load_profiles(self.settings):
            item = QListWidgetItem(profile.name)
            item.setData(Qt.ItemDataRole.UserRole, (_PROFILE, profile))
            item.setToolTip(profile.url())
            self.choices.addItem(item)
            if profile.name == last:
                self._last_item = item
        for name, values in service_names():
            item = QListWidgetItem(f"サービス: {name}")
            item.setData(Qt.ItemDataRole.UserRole, (_SERVICE, Profile(name=name, service=name)))
            where = " ".join(f"{k}={v}" for k, v in sorted(values.items()))
            item.setToolTip(f"サービスファイルの定義: {where}")
            self.choices.addItem(item)

    def profile_names(self) -> list[str]:
        """What the list shows, in order (tests)."""
        return [self.choices.item(i).text() for i in range(self.choices.count())]

    def _current_changed(self, item: QListWidgetItem | None) -> None:
        if self.choices.hasFocus():  # moved with the keyboard
            self._chosen(item)

    def _chosen(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        kind, profile = item.data(Qt.ItemDataRole.UserRole)
        self._fill(profile)
        self.delete_button.setEnabled(kind == _PROFILE)
        self._show_password(False)
        self.message.clear()

    def choose(self, text: str) -> None:
        """Select the entry showing ``text`` (a profile's name, or ``サービス: NAME``)."""
        for i in range(self.choices.count()):
            if self.choices.item(i).text() == text:
                self.choices.setCurrentRow(i)
                self._chosen(self.choices.item(i))
                return
        raise KeyError(text)

    def _fill(self, profile: Profile) -> None:
        self.name_edit.setText(profile.name)
        self.host_edit.setText(profile.host)
        self.port_edit.setText(profile.port)
        self.dbname_edit.setText(profile.dbname)
        self.user_edit.setText(profile.user)
        self.service_edit.setText(profile.service)

    def _fill_from_address(self, address: ServerAddress) -> None:
        p = address.parameters
        self._fill(
            Profile(
                name=self.name_edit.text(),
                host=p.get("host", ""),
                port=p.get("port", ""),
                dbname=p.get("dbname", ""),
                user=p.get("user", ""),
                service=p.get("service", ""),
            )
        )

    def profile(self) -> Profile:
        """The profile the fields describe."""
        return Profile(
            name=self.name_edit.text().strip(),
            host=self.host_edit.text().strip(),
            port=self.port_edit.text().strip(),
            dbname=self.dbname_edit.text().strip(),
            user=self.user_edit.text().strip(),
            service=self.service_edit.text().strip(),
        )

    def save_profile(self) -> bool:
        """Keep the fields as a profile under its name (replacing one of the same name)."""
        profile = self.profile()
        if not profile.name:
            self.message.setText("接続先の名前を入れてください。")
            self.name_edit.setFocus()
            return False
        if not profile.service and not profile.dbname:
            self.message.setText("データベース名かサービス名を入れてください。")
            return False
        profiles = [p for p in load_profiles(self.settings) if p.name != profile.name]
        save_profiles(self.settings, [*profiles, profile])
        self.settings.setValue(LAST_KEY, profile.name)
        self._fill_choices()
        self.message.setText(
            f"接続先「{profile.name}」を保存しました（パスワードは保存しません）。"
        )
        return True

    def delete_profile(self) -> None:
        item = self.choices.currentItem()
        if item is None or item.data(Qt.ItemDataRole.UserRole)[0] != _PROFILE:
            return
        name = item.data(Qt.ItemDataRole.UserRole)[1].name
        save_profiles(self.settings, [p for p in load_profiles(self.settings) if p.name != name])
        self._fill_choices()

    # -- connecting ------------------------------------------------------------------------------

    def _show_password(self, shown: bool) -> None:
        self._password_label.setVisible(shown)
        self.password_edit.setVisible(shown)
        self.keep_password.setVisible(shown)

    @property
    def asks_password(self) -> bool:
        """``True`` while the dialog shows the password field."""
        return not self.password_edit.isHidden()

    def try_connect(self) -> bool:
        """Open the ledger the fields describe; on success keep the store and accept."""
        from etcbook.models.server import ServerError, parse_address, remember_password
        from etcbook.models.store import ServerPasswordNeeded, StoreError
        from etcbook.ui import store_access

        profile = self.profile()
        if not profile.service and not profile.dbname:
            self.message.setText("データベース名かサービス名を入れてください。")
            return False
        try:
            address = parse_address(profile.url())
        except ServerError as error:
            self.message.setText(str(error))
            return False
        typed = self.password_edit.text() if self.asks_password else ""
        address = address.with_password(typed)
        self.message.setText("接続しています…")
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            store = store_access.open_store(address)
        except ServerPasswordNeeded as error:
            self.message.setText(str(error))
            self._show_password(True)
            self.password_edit.selectAll()
            self.password_edit.setFocus()
            return False
        except (StoreError, ServerError) as error:
            self.message.setText(str(error))
            return False
        finally:
            QGuiApplication.restoreOverrideCursor()
        if typed and self.keep_password.isChecked():
            try:
                remember_password(address, typed)
            except Exception as error:  # keyring backends raise their own kinds
                self.message.setText(
                    f"パスワードを資格情報ストアに保存できませんでした（{error}）。"
                )
        if profile.name:
            self.settings.setValue(LAST_KEY, profile.name)
        self.address = address
        self.store = store
        self.accept()
        return True
