"""Windows and macOS made safe: odd folder names, files held by other programs, cp932 streams,
binary descriptors, half-failed restores, stores in synced or network folders.

What only Windows can show (text-mode descriptors, real sharing violations, GetDriveTypeW)
runs in the tests marked ``WINDOWS_ONLY``; on Linux the same paths are driven by making
``os.replace`` refuse as Windows does and by giving ``os`` an ``O_BINARY``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import io
import json
import os
import shlex
import shutil
import sqlite3
import sys
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path, PureWindowsPath
from typing import Any

import pytest

from etcbook import clock
from etcbook import paths as etcbook_paths
from etcbook.cli import build_parser, main
from etcbook.models import backup as backup_module
from etcbook.models import instance
from etcbook.models.backup import BackupError, check_backup, create_backup, restore_backup
from etcbook.models.store import open_store, sqlite_uri
from etcbook.models.vault import vault_path_for
from etcbook.paths import store_location_warning
from etcbook.safeio import FILE_IN_USE

WINDOWS_ONLY = pytest.mark.skipif(
    sys.platform != "win32",
    reason="text-mode descriptors, sharing violations and drive types exist only on Windows",
)

FOLDER_NAMES = [
    "経理#2",
    "売上 100%",
    "資料%20コピー",
    "my files #1 %20",
    pytest.param(
        "what?",
        marks=pytest.mark.skipif(sys.platform == "win32", reason="'?' is not allowed on Windows"),
    ),
]
TRICKY = "𠮷野家🚗 — ≈ ¥ ✓"
"""Characters cp932 cannot encode, in text the user types."""


# -- helpers -----------------------------------------------------------------------------------


def etcbook(db: Path, *args: str, expect: int | None = 0) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["--db", str(db), *args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    if expect is not None:
        assert code == expect, f"etcbook {' '.join(args)}: {code}\n{err.getvalue()}"
    return code, out.getvalue(), err.getvalue()


def tree_hashes(folder: Path) -> dict[str, str]:
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def rows(store: Path) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite3.connect(sqlite_uri(store, read_only=True), uri=True)
    try:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in ("cards", "trips", "documents")
        }
    finally:
        db.close()


def files_beside(store: Path) -> list[str]:
    """The names in the store's folder, but the claim's lock file (made by any restore)."""
    return sorted(p.name for p in store.parent.iterdir() if p.suffix != ".lock")


def refuse_replace(monkeypatch: pytest.MonkeyPatch, refused: Callable[[Path, Path], bool]) -> None:
    """``os.replace`` refuses (PermissionError, as Windows for a file held open) when
    ``refused(source, target)`` says so."""
    real = os.replace

    def replace(source: Any, target: Any) -> None:
        if refused(Path(source), Path(target)):
            raise PermissionError(13, "Access is denied", str(source), None, str(target))
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)


@pytest.fixture
def home(demo_store_path: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """The demo store and its vault in a folder named ``request.param`` (default 経理#2)."""
    name = getattr(request, "param", "経理#2")
    folder = tmp_path / name / "データ"
    folder.mkdir(parents=True)
    store = folder / "etcbook.sqlite3"
    shutil.move(demo_store_path, store)
    shutil.move(vault_path_for(demo_store_path), vault_path_for(store))
    original = tmp_path / f"請求 #{name}.pdf"
    original.write_bytes(b"%PDF-1.4\n% line feeds must survive\n\n%%EOF\n")
    etcbook(store, "evidence", "add", str(original), "--kind", "statement", "--card", "1234",
            "--month", "2025-10", "--counterparty", TRICKY)  # fmt: skip
    assert tree_hashes(vault_path_for(store)), "the store's vault moved with it"
    return store


# -- 1, 2: backup -> check -> restore -> export through odd folder names -----------------------


@pytest.mark.parametrize("home", FOLDER_NAMES, indirect=True)
def test_round_trip_through_folders_with_hash_percent_spaces_and_japanese(
    home: Path, tmp_path: Path
) -> None:
    name = home.parent.parent.name
    before = rows(home)
    vault_before = tree_hashes(vault_path_for(home))
    archive = tmp_path / f"バックアップ {name}" / "etcbook #1.zip"
    archive.parent.mkdir()
    etcbook(home, "backup", "--out", str(archive))
    assert check_backup(archive)["trips"] == len(before["trips"])

    elsewhere = tmp_path / f"新しいPC {name}" / "etcbook.sqlite3"
    etcbook(elsewhere, "restore", str(archive))
    assert rows(elsewhere) == before
    assert tree_hashes(vault_path_for(elsewhere)) == vault_before

    out = tmp_path / f"精算 {name}"
    _, printed, _ = etcbook(
        elsewhere, "report", "--card", "1234", "--from", "2025-10-01", "--to", "2025-10-31",
        "--out", str(out), "--json",
    )  # fmt: skip
    written = json.loads(printed)
    with zipfile.ZipFile(written["bundle"]) as bundle:
        assert any(n.startswith("originals/") for n in bundle.namelist())
    # The store opens where it is, and nothing was created at a name cut short at '#' or '?'.
    open_store(elsewhere).close()
    for cut in ("#", "?", "%"):
        if cut in name:
            stray = tmp_path / name.split(cut)[0]
            assert not stray.is_file(), f"{stray} was created"


def test_readonly_snapshot_never_creates_a_database_at_a_name_cut_at_hash(
    tmp_path: Path,
) -> None:
    # f"file:{path}?mode=ro" opened (and created) ".../some" for ".../some#test/a.sqlite3".
    folder = tmp_path / "some#test"
    folder.mkdir()
    store = open_store(folder / "a.sqlite3")
    store.close()
    backup_module._snapshot(folder / "a.sqlite3", tmp_path / "copy.sqlite3")
    assert not (tmp_path / "some").exists()
    db = sqlite3.connect(tmp_path / "copy.sqlite3")
    try:
        assert db.execute("SELECT count(*) FROM alembic_version").fetchone()[0] >= 1
    finally:
        db.close()


def test_sqlite_uri_is_percent_encoded_and_read_only(tmp_path: Path) -> None:
    path = tmp_path / "経理#2 100%?" / "a.sqlite3"
    uri = sqlite_uri(path, read_only=True)
    assert uri.startswith("file:///") and uri.endswith("?mode=ro")
    assert "#" not in uri and uri.count("?") == 1 and "%23" in uri and "%25" in uri


@pytest.mark.skipif(sys.platform == "win32", reason="'?' is not allowed in Windows names")
def test_a_store_in_a_folder_with_a_question_mark_opens_there(tmp_path: Path) -> None:
    store_path = tmp_path / "what?" / "etcbook.sqlite3"
    store = open_store(store_path)
    store.close()
    assert store_path.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == ["what?"]


def test_restore_writes_binary_descriptors(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "b.zip"
    etcbook(home, "backup", "--out", str(archive))
    monkeypatch.setattr(os, "O_BINARY", 0x8000, raising=False)  # O_LARGEFILE on Linux
    created: list[tuple[str, int]] = []
    real = os.open

    def spy(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            created.append((os.fspath(path), flags))
        return real(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    restore_backup(archive, tmp_path / "new" / "etcbook.sqlite3")
    extracted = [(p, f) for p, f in created if ".etcbook-backup-" in p]
    assert extracted, "the restore extracted nothing through os.open"
    assert all(flags & 0x8000 for _path, flags in created), created


@WINDOWS_ONLY
def test_restore_keeps_line_feeds_on_windows(home: Path, tmp_path: Path) -> None:
    archive = tmp_path / "b.zip"
    etcbook(home, "backup", "--out", str(archive))
    check_backup(archive)  # failed with "the store is damaged" when LF became CR LF
    target = tmp_path / "restored" / "etcbook.sqlite3"
    restore_backup(archive, target)
    assert tree_hashes(vault_path_for(target)) == tree_hashes(vault_path_for(home))


def test_backup_builds_its_snapshot_outside_the_output_folder(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out_folder = tmp_path / "OneDrive - 会社" / "Documents"
    out_folder.mkdir(parents=True)
    made: list[Path] = []
    real = backup_module._snapshot

    def spy(source: Path, target: Path) -> None:
        made.append(target)
        real(source, target)

    monkeypatch.setattr(backup_module, "_snapshot", spy)
    store = open_store(home)
    try:
        create_backup(store, out_folder / "b.zip")
    finally:
        store.close()
    assert made and not made[0].is_relative_to(out_folder)
    assert [p.name for p in out_folder.iterdir()] == ["b.zip"]


def test_decomposed_vault_names_are_backed_up_composed(home: Path, tmp_path: Path) -> None:
    # An old macOS (HFS+) volume hands out names in NFD.
    nfd = unicodedata.normalize("NFD", "ポイント残高.png")
    assert nfd != "ポイント残高.png"
    extra = vault_path_for(home) / "2025" / "10" / nfd
    extra.write_bytes(b"\x89PNG")
    archive = tmp_path / "b.zip"
    etcbook(home, "backup", "--out", str(archive))
    with zipfile.ZipFile(archive) as zf:
        names = json.loads(zf.read("manifest.json"))["files"]
    assert "ETC/2025/10/ポイント残高.png" in {f["path"] for f in names}
    target = tmp_path / "restored" / "etcbook.sqlite3"
    restore_backup(archive, target)
    assert (vault_path_for(target) / "2025" / "10" / "ポイント残高.png").is_file()


def test_names_equal_but_for_case_are_a_sentence_not_a_traceback(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "b.zip"
    etcbook(home, "backup", "--out", str(archive))
    real = backup_module._extract_checked

    def case_insensitive(zf: Any, name: str, expected: Any, target: Path) -> None:
        if name.startswith("ETC/") and "請求" in name:  # as NTFS: the name is taken
            raise FileExistsError(errno.EEXIST, "exists", str(target))
        real(zf, name, expected, target)

    monkeypatch.setattr(backup_module, "_extract_checked", case_insensitive)
    with pytest.raises(BackupError, match="大文字と小文字"):
        check_backup(archive)


# -- 3: a restore that fails half-way puts everything back -------------------------------------


@pytest.mark.parametrize("failing", ["restored vault", "current vault"])
def test_restore_whose_vault_move_fails_changes_nothing(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    archive = tmp_path / "b.zip"
    etcbook(home, "backup", "--out", str(archive))
    etcbook(home, "card", "edit", "1234", "--notes", "バックアップ後の変更")
    vault = vault_path_for(home)
    before, vault_before = rows(home), tree_hashes(vault)
    folder_before = files_beside(home)

    def refused(source: Path, target: Path) -> bool:
        if failing == "restored vault":  # a scan holds a file just extracted
            return ".etcbook-backup-" in str(source) and target == vault
        return source == vault and "before-restore" in target.name  # a PDF open in Acrobat

    refuse_replace(monkeypatch, refused)
    _code, _out, err = etcbook(home, "restore", str(archive), expect=3)
    assert FILE_IN_USE in err and "何も変更していません" in err
    assert rows(home) == before
    assert tree_hashes(vault_path_for(home)) == vault_before
    assert files_beside(home) == folder_before


def test_restore_whose_store_copy_fails_puts_the_vault_and_store_back(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "b.zip"
    etcbook(home, "backup", "--out", str(archive))
    etcbook(home, "card", "edit", "1234", "--notes", "バックアップ後の変更")
    before, vault_before = rows(home), tree_hashes(vault_path_for(home))
    real = backup_module._copy_store_in
    calls: list[Path] = []

    def copy_then_fail(source: Path, store_path: Path) -> None:
        calls.append(source)
        real(source, store_path)
        if len(calls) == 1:  # the store was replaced, then its check failed
            raise BackupError(f"{store_path}: 戻したストアの検査に失敗しました。")

    monkeypatch.setattr(backup_module, "_copy_store_in", copy_then_fail)
    with pytest.raises(BackupError, match="検査に失敗"):
        restore_backup(archive, home)
    assert rows(home) == before
    assert tree_hashes(vault_path_for(home)) == vault_before


def test_restore_that_cannot_put_things_back_says_so(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "b.zip"
    etcbook(home, "backup", "--out", str(archive))

    def refused(source: Path, target: Path) -> bool:
        # The restored vault is held by a scan, and so is the kept one when moved back.
        return target == vault_path_for(home)

    refuse_replace(monkeypatch, refused)
    _code, _out, err = etcbook(home, "restore", str(archive), expect=3)
    kept = f"{vault_path_for(home).name}.before-restore-"  # etcbook.etc.before-restore-…
    assert "元の状態にも戻せませんでした" in err and kept in err
    assert "何も変更していません" not in err  # something did change: no false comfort


# -- 4: files held open by other programs ------------------------------------------------------


def test_re_exporting_a_claim_whose_csv_is_open_keeps_the_matching_set(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "精算 #1 100%"
    report = ["report", "--card", "1234", "--from", "2025-10-01", "--to", "2025-10-31"]
    etcbook(home, *report, "--out", str(out), "--basis", "最初")
    first = tree_hashes(out)
    assert sorted(Path(n).suffix for n in first) == [".csv", ".pdf", ".zip"]
    refuse_replace(monkeypatch, lambda _s, target: target.suffix == ".csv")  # open in Excel
    _code, printed, err = etcbook(home, *report, "--out", str(out), "--basis", "二回目", expect=3)
    assert printed == ""
    assert FILE_IN_USE in err and "Traceback" not in err and "WinError" not in err
    assert tree_hashes(out) == first


def test_moving_an_open_evidence_file_to_the_trash_is_a_sentence(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = rows(home)["documents"]
    refuse_replace(monkeypatch, lambda _s, target: "_trash" in target.parts)
    _code, _out, err = etcbook(home, "evidence", "remove", "1", "--reason", "誤り", expect=3)
    assert FILE_IN_USE in err
    assert rows(home)["documents"] == before


@WINDOWS_ONLY
def test_re_exporting_a_claim_whose_csv_is_really_open_on_windows(
    home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "精算"
    report = ["report", "--card", "1234", "--from", "2025-10-01", "--to", "2025-10-31"]
    etcbook(home, *report, "--out", str(out))
    first = tree_hashes(out)
    csv = next(out.glob("*.csv"))
    with open(csv, "rb"):
        _code, _out, err = etcbook(home, *report, "--out", str(out), "--basis", "x", expect=3)
    assert FILE_IN_USE in err
    assert tree_hashes(out) == first


# -- 5: CLI output through cp932 streams -------------------------------------------------------


class Cp932Stream(io.TextIOWrapper):
    """A text stream encoding cp932, as Python gives on Japanese Windows when output is
    redirected (``tty=False``) or for a cp932 terminal (``tty=True``)."""

    def __init__(self, *, tty: bool) -> None:
        self.raw_bytes = io.BytesIO()
        super().__init__(self.raw_bytes, encoding="cp932", errors="strict")
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    def value(self) -> bytes:
        self.flush()
        return self.raw_bytes.getvalue()


def through_cp932(db: Path, *args: str, tty: bool = False) -> tuple[int, bytes, bytes]:
    out, err = Cp932Stream(tty=tty), Cp932Stream(tty=tty)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["--db", str(db), *args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.value(), err.value()


def cmd(line: str, **values: object) -> tuple[str, ...]:
    """A command line as its words; ``{T}`` is the text cp932 cannot encode."""
    quoted = {key: shlex.quote(str(value)) for key, value in values.items()}
    return tuple(shlex.split(line.format(T=shlex.quote(TRICKY), **quoted)))


def _leaf_commands() -> set[tuple[str, ...]]:
    import argparse

    found: set[tuple[str, ...]] = set()

    def walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*prefix, name))
                return
        found.add(prefix)

    walk(build_parser(), ())
    return found


def test_every_command_prints_through_a_redirected_cp932_stream(home: Path, tmp_path: Path) -> None:
    (tmp_path / "doc.pdf").write_bytes(b"%PDF-1.4 another\n")
    by = (clock.today() + dt.timedelta(days=30)).isoformat()
    meisai = sorted((Path(__file__).parents[1] / "data" / "meisai").glob("*.csv"))[0]
    both = ("text", "json")
    doc, out, b1, b2 = (
        tmp_path / "doc.pdf",
        tmp_path / "精算 #1",
        tmp_path / "b #1.zip",
        tmp_path / "b #2.zip",
    )
    runs: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
        (cmd("card add --holder 山田太郎 --driver {T} --last4 9876 --notes {T}"), ("text",)),
        (cmd("card list"), both),
        (cmd("card edit 9876 --notes {T}"), both),
        (cmd("card stop 9876 --note {T}"), ("json",)),
        (cmd("card resume 9876"), ("text",)),
        (cmd("import {f}", f=meisai), both),
        (cmd("trips --card 1234"), both),
        (cmd("trip add --card 1234 --exit 2025-10-03T10:00 --to {T} --toll 1200"), both),
        (cmd("trip edit 1 --purpose {T} --business-share 100"), both),
        (cmd("status"), both),
        (cmd("exchange --card 1234 --pool nexco --points 1000"), ("text",)),
        (cmd("adjust --card 1234 --rebate 10 --on 2025-11-01 --reason {T}"), ("json",)),
        (cmd("commute-pass --card 1234 --month 2025-11"), both),
        (cmd("suggest --card 1234 --need 3000 --by {by}", by=by), both),
        (cmd("suggest --card 1234 --need 3000 --by {by} --text", by=by), ("text",)),
        (cmd("reconcile --card 1234 --month 2025-10"), both),
        (cmd("memo --card 1234 --month 2025-10"), both),
        (cmd("reminders"), both),
        (cmd("incident guide"), both),
        (cmd("incident open --card 1234 --kind lost --note {T}"), ("text",)),
        (cmd("incident step 1 issuer_stop --at 2025-11-03T10:00 --desk {T}"), both),
        (cmd("incident contact 1 --desk {T} --summary {T}"), both),
        (cmd("incident show 1"), both),
        (cmd("incident list"), both),
        (cmd("incident suspicious"), both),
        (cmd("incident close 1"), ("json",)),
        (cmd("incident change-card --card 1234 --new-card 9876 --at 2025-12-01T00:00"), ("text",)),
        (
            cmd(
                "evidence add {f} --kind certificate --card 1234 --month 2025-10 --counterparty {T}",
                f=doc,
            ),
            ("text",),
        ),
        (cmd("evidence list"), both),
        (cmd("evidence search --counterparty 野家"), both),
        (cmd("evidence verify"), both),
        (cmd("evidence missing"), both),
        (cmd("evidence audit"), both),
        (
            cmd(
                "report --card 1234 --from 2025-10-01 --to 2025-10-31 --out {f} --basis {T}", f=out
            ),
            both,
        ),
        (cmd("evidence remove 1 --reason {T}"), ("text",)),
        (cmd("backup --out {f}", f=b1), ("text",)),
        (cmd("backup --out {f}", f=b2), ("json",)),
        (cmd("restore {f} --check", f=b1), both),
        (cmd("restore {f}", f=b1), ("json",)),
    ]
    covered = {command for command, _ in runs}
    leaves = _leaf_commands()
    # A command added later is run with --help at least; "demo" needs an empty store.
    helps = sorted(leaf for leaf in leaves if not any(c[: len(leaf)] == leaf for c in covered))
    runs += [((*leaf, "--help"), ("text",)) for leaf in helps]
    printed = []
    for command, forms in runs:
        for form in forms:
            args = (*command, "--json") if form == "json" else command
            code, out, err = through_cp932(home, *args)
            text_out, text_err = out.decode("utf-8"), err.decode("utf-8")  # UTF-8, whole
            assert code == 0, f"{' '.join(args)}: {code}\n{text_err}"
            if form == "json":
                json.loads(text_out)
            printed.append(text_out + text_err)
    everything = "\n".join(printed)
    for character in ("—", "≈", "𠮷", "🚗", "¥", "✓"):
        assert character in everything
    code, out, err = through_cp932(tmp_path / "empty" / "etcbook.sqlite3", "demo")
    assert code == 0 and err.decode("utf-8")


def test_a_cp932_terminal_shows_what_it_cannot_print_as_escapes(home: Path) -> None:
    code, _out, err = through_cp932(
        home, "adjust", "--card", "1234", "--rebate", "10", "--on", "2025-11-01", "--reason",
        TRICKY, tty=True,
    )  # fmt: skip
    assert code == 0
    shown = err.decode("cp932")
    assert "\\U00020bb7" in shown and "\\u2014" in shown  # 𠮷 and —, as escapes
    assert "野家" in shown  # what cp932 has stays readable


def test_without_streams_the_cli_still_runs(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # pythonw (the window's launcher on Windows) has no console: sys.stdout is None.
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    from etcbook.cli.common import configure_streams

    configure_streams(json_output=True)


def test_a_closed_pipe_on_windows_is_not_a_file_error(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etcbook.cli import _closed_pipe

    monkeypatch.setattr(sys, "platform", "win32")
    assert _closed_pipe(OSError(errno.EINVAL, "Invalid argument"))
    assert not _closed_pipe(FileNotFoundError(errno.ENOENT, "No such file", "x.csv"))
    monkeypatch.setattr(sys, "platform", "linux")
    assert not _closed_pipe(OSError(errno.EINVAL, "Invalid argument"))
    assert _closed_pipe(BrokenPipeError(errno.EPIPE, "Broken pipe"))


# -- 6: stores in synced or network folders ----------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "service"),
    [
        ("OneDrive - 株式会社サンプル/Documents", "OneDrive"),
        ("OneDrive/経理#2", "OneDrive"),
        ("Dropbox/etc", "Dropbox"),
        ("iCloudDrive/帳簿", "iCloud Drive"),
    ],
)
def test_a_store_in_a_synced_folder_is_warned_about(
    tmp_path: Path, folder: str, service: str
) -> None:
    warning = store_location_warning(tmp_path / folder / "etcbook.sqlite3")
    assert warning is not None and service in warning and "-wal" in warning


def test_onedrive_is_found_through_its_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "会社の同期"
    monkeypatch.setenv("OneDriveCommercial", str(root))
    assert "OneDrive" in (store_location_warning(root / "帳簿" / "etcbook.sqlite3") or "")
    assert store_location_warning(tmp_path / "ローカル" / "etcbook.sqlite3") is None


def test_icloud_drive_on_macos_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    icloud = tmp_path / "Library" / "Mobile Documents" / "com~apple~CloudDocs" / "帳簿"
    assert "iCloud Drive" in (store_location_warning(icloud / "etcbook.sqlite3") or "")
    dropbox = tmp_path / "Library" / "CloudStorage" / "Dropbox" / "etcbook.sqlite3"
    assert "Dropbox" in (store_location_warning(dropbox) or "")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/mounts")
def test_a_store_on_a_network_mount_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    share = tmp_path / "share"
    mounts = tmp_path / "mounts"
    mounts.write_text(
        f"/dev/sda1 / ext4 rw 0 0\n//nas/経理 {share} cifs rw 0 0\n", encoding="utf-8"
    )
    monkeypatch.setattr(etcbook_paths, "MOUNTS", mounts)
    assert "ネットワーク" in (store_location_warning(share / "etcbook.sqlite3") or "")
    assert store_location_warning(tmp_path / "local" / "etcbook.sqlite3") is None


def test_a_unc_store_on_windows_is_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(etcbook_paths, "_windows_drive_type", lambda _root: 4)
    assert etcbook_paths._on_network(PureWindowsPath("\\\\nas\\経理#2\\etcbook.sqlite3"))
    assert etcbook_paths._on_network(PureWindowsPath("Z:/etcbook/etcbook.sqlite3"))
    monkeypatch.setattr(etcbook_paths, "_windows_drive_type", lambda _root: 3)  # DRIVE_FIXED
    assert not etcbook_paths._on_network(PureWindowsPath("C:/etcbook/etcbook.sqlite3"))


@WINDOWS_ONLY
def test_windows_drive_types(tmp_path: Path) -> None:
    assert etcbook_paths._on_network(Path("\\\\server\\share\\etcbook.sqlite3"))
    assert not etcbook_paths._on_network(tmp_path / "etcbook.sqlite3")


def test_the_cli_warns_on_stderr_and_still_works(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = tmp_path / "OneDrive" / "etcbook.sqlite3"
    synced.parent.mkdir()
    shutil.copy(home, synced)
    _code, out, err = etcbook(synced, "card", "list", "--json")
    assert json.loads(out) and "OneDrive" in err
    _code, _out, err = etcbook(home, "card", "list")
    assert "OneDrive" not in err and "注意" not in err


# -- 9: a file system without locks is not "open elsewhere" ------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
@pytest.mark.parametrize(
    ("code", "held"),
    [
        (errno.EWOULDBLOCK, True),
        (errno.EACCES, True),
        (errno.ENOLCK, False),
        (errno.ENOTSUP, False),
    ],
)
def test_only_a_held_lock_means_open_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, held: bool
) -> None:
    import fcntl

    def flock(_fd: int, _operation: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fcntl, "flock", flock)
    claim = instance.claim_store(tmp_path / "etcbook.sqlite3")
    try:
        assert claim.acquired is (not held)
    finally:
        claim.release()
