"""Backup and restore: round-trips give identical figures; damaged or foreign archives change nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import random
import shutil
import signal
import stat
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import robustkit
import tally

from etcbook.cli import main
from etcbook.models.backup import (
    MANIFEST,
    STORE_ENTRY,
    backup_reminder,
    check_backup,
    create_backup,
    last_backup,
)
from etcbook.models.instance import claim_store
from etcbook.models.store import open_store

ROUND_TRIPS = "backup round-trips checked"
"""The group under which each checked round-trip is counted (printed after the run)."""


@dataclass
class Run:
    """One finished ``etcbook`` subprocess."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def etcbook(db: Path, *args: str, expect: int | None = 0) -> Run:
    """``etcbook --db DB ARGS…`` in this process (fast); see :func:`etcbook_process`."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["--db", str(db), *args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    if expect is not None:
        assert code == expect, f"etcbook {' '.join(args)}: {code}\n{err.getvalue()}"
    return Run(code, out.getvalue(), err.getvalue())


def etcbook_process(db: Path, *args: str, expect: int | None = 0) -> Run:
    """``etcbook --db DB ARGS…`` in a subprocess, as a user runs it."""
    process = robustkit.start_etcbook(db, *args)
    out, err = process.communicate(timeout=300)
    text = err.decode("utf-8")
    assert "Traceback" not in text, text
    if expect is not None:
        assert process.returncode == expect, (
            f"etcbook {' '.join(args)}: {process.returncode}\n{text}"
        )
    return Run(process.returncode, out.decode("utf-8"), text)


def vault_hashes(store: Path) -> dict[str, str]:
    vault = store.with_name(f"{store.stem}.etc")
    if not vault.exists():
        return {}
    return {
        p.relative_to(vault).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(vault.rglob("*"))
        if p.is_file()
    }


def figures(store: Path) -> dict[str, Any]:
    """Everything a user sees: trips, cards, balances and points, documents, vault bytes."""
    return {
        "trips": etcbook(store, "trips", "--json").json(),
        "cards": etcbook(store, "card", "list", "--json").json(),
        "status": etcbook(store, "status", "--json").json(),
        "documents": etcbook(store, "evidence", "list", "--removed", "--json").json(),
        "vault": vault_hashes(store),
    }


def add_document(
    store: Path, tmp: Path, name: str, data: bytes, month: str, kind: str, card: str = "1234"
) -> None:
    source = tmp / name
    source.write_bytes(data)
    etcbook(store, "evidence", "add", str(source), "--kind", kind, "--card", card, "--month", month)


@pytest.fixture
def demo_with_vault(demo_store_path: Path, tmp_path: Path) -> Path:
    """The demo store (in its own folder) with three originals in the vault, one removed."""
    folder = tmp_path / "home"
    folder.mkdir()
    store = folder / "etcbook.sqlite3"
    shutil.move(demo_store_path, store)
    add_document(
        store, tmp_path, "seikyu.pdf", b"%PDF-1.4\n% statement\n%%EOF\n", "2025-11", "statement"
    )
    add_document(
        store, tmp_path, "meisai.csv", "利用年月日,…\r\n".encode("cp932"), "2025-11", "detail_csv"
    )
    add_document(
        store, tmp_path, "shomei.pdf", b"%PDF-1.4\n% certificate\n%%EOF\n", "2025-12", "certificate"
    )
    etcbook(store, "evidence", "remove", "3", "--reason", "別のカードの証明書だった")
    return store


def change_everything(store: Path, tmp: Path) -> None:
    robustkit.write_meisai(tmp / "later.csv", 50, card="****7777", start=dt.datetime(2026, 9, 1))
    etcbook(store, "import", str(tmp / "later.csv"))
    etcbook(store, "card", "edit", "1234", "--notes", "バックアップ後の変更")
    add_document(store, tmp, "later.pdf", b"%PDF-1.4\n% later\n%%EOF\n", "2026-09", "statement")


def test_round_trip_of_demo_store_and_vault(demo_with_vault: Path, tmp_path: Path) -> None:
    store = demo_with_vault
    before = figures(store)
    assert len(before["vault"]) == 3 and before["trips"]["trips"]
    made = etcbook_process(store, "backup", "--out", str(tmp_path / "b.zip"), "--json").json()
    assert made["vault_files"] == 3 and made["trips"] == len(before["trips"]["trips"])
    assert stat.S_IMODE((tmp_path / "b.zip").stat().st_mode) == 0o600

    change_everything(store, tmp_path)
    changed = figures(store)
    assert changed != before

    restored = etcbook_process(store, "restore", str(tmp_path / "b.zip"), "--json").json()
    assert figures(store) == before
    tally.count(ROUND_TRIPS, "demo store with vault (3 originals, 1 removed)")
    # what was there before the restore is kept, not overwritten
    kept = Path(restored["kept_store"])
    assert robustkit.trip_count(kept) == len(changed["trips"]["trips"])
    kept_vault = Path(restored["kept_vault"])
    kept_files = [p.name for p in kept_vault.rglob("*") if p.is_file()]
    # the 3 originals, later.pdf, and later.csv (an import keeps its 明細CSV as an original)
    assert len(kept_files) == 5
    assert len([n for n in kept_files if n.endswith("_CARD7777_明細.csv")]) == 1
    assert robustkit.integrity(store) == "ok"


def test_round_trip_into_a_new_computer(demo_with_vault: Path, tmp_path: Path) -> None:
    """Restore where there is no store yet (a new PC): same figures at the new place."""
    before = figures(demo_with_vault)
    etcbook(demo_with_vault, "backup", "--out", str(tmp_path / "b.zip"))
    new = tmp_path / "newpc" / "etcbook.sqlite3"
    new.parent.mkdir()
    restored = etcbook(new, "restore", str(tmp_path / "b.zip"), "--json").json()
    assert restored["kept_store"] is None and restored["kept_vault"] is None
    after = figures(new)
    for document in before["documents"]["documents"] + after["documents"]["documents"]:
        document.pop("path", None)  # absolute paths name the new folder
    assert after == before
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    assert stat.S_IMODE((new.with_name(f"{new.stem}.etc")).stat().st_mode) == 0o700
    tally.count(ROUND_TRIPS, "demo store with vault into a new folder")


def test_round_trip_of_an_empty_store_without_vault(tmp_path: Path) -> None:
    store = tmp_path / "etcbook.sqlite3"
    open_store(store).close()
    before = figures(store)
    etcbook(store, "backup", "--out", str(tmp_path / "b.zip"))
    etcbook(store, "card", "add", "--holder", "山田", "--last4", "1111")
    etcbook(store, "restore", str(tmp_path / "b.zip"))
    assert figures(store) == before
    tally.count(ROUND_TRIPS, "empty store, no vault")


OVERLAPPING_BACKUPS = 5
OVERLAPPING_AT_LEAST = 3
"""Backups that must run entirely inside the import's write transaction."""


def test_backup_while_an_import_runs_is_a_consistent_snapshot(
    tmp_path: Path, big_meisai: Path
) -> None:
    """Backups taken while a 100,000-row import writes hold the store before the import.

    The import marks its write transaction (``etcbook.phases``); the backups start once it has
    begun. A backup counts as overlapping when the import was writing both when the backup
    started and when it had finished: such an archive must hold none of the import's trips.
    """
    store = tmp_path / "etcbook.sqlite3"
    open_store(store).close()
    log = robustkit.PhaseLog(tmp_path / "import.phases")
    importing = robustkit.start_etcbook(store, "import", str(big_meisai), phases=log)
    assert log.wait_for("import", "start", importing), importing.communicate()[1].decode()
    taken: list[tuple[Path, bool]] = []
    for n in range(OVERLAPPING_BACKUPS):
        out = tmp_path / f"during{n}.zip"
        before = log.phase("import")
        etcbook(store, "backup", "--out", str(out))
        inside = before == log.phase("import") == robustkit.WRITING
        taken.append((out, inside))
        time.sleep(0.1)
    _out, err = importing.communicate(timeout=300)
    assert importing.returncode == 0, err.decode()
    for archive, inside in taken:
        checked = check_backup(archive)
        assert checked["trips"] in (0, 100_000)
        if inside:
            assert checked["trips"] == 0, archive
        target = tmp_path / archive.stem / "etcbook.sqlite3"
        target.parent.mkdir()
        etcbook(target, "restore", str(archive))
        assert robustkit.integrity(target) == "ok"
        assert robustkit.trip_count(target) == checked["trips"]
    overlapping = sum(inside for _archive, inside in taken)
    report = (
        f"{overlapping} of {len(taken)} backups ran entirely while a 100,000-row import was"
        f" writing (at least {OVERLAPPING_AT_LEAST} required)"
    )
    robustkit.report_kills(report)
    tally.count(ROUND_TRIPS, "backups taken during a 100,000-row import", len(taken))
    assert overlapping >= OVERLAPPING_AT_LEAST, report


# --- archives that must be refused ---------------------------------------------------------


def _rewrite(archive: Path, target: Path, change) -> Path:  # type: ignore[no-untyped-def]
    """Copy an archive entry by entry, letting ``change(name, data)`` alter or drop entries."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            result = change(info.filename, source.read(info.filename))
            if result is not None:
                name, data = result
                out.writestr(name, data)
    return target


def _manifest_edit(edit):  # type: ignore[no-untyped-def]
    def change(name: str, data: bytes):  # type: ignore[no-untyped-def]
        if name == MANIFEST:
            manifest = json.loads(data)
            edit(manifest)
            return name, json.dumps(manifest).encode()
        return name, data

    return change


def _flip_store_byte(name: str, data: bytes):  # type: ignore[no-untyped-def]
    if name == STORE_ENTRY:
        data = data[:5000] + bytes([data[5000] ^ 0xFF]) + data[5001:]
    return name, data


def _newer_revision(work: Path):  # type: ignore[no-untyped-def]
    import sqlite3

    def change(name: str, data: bytes):  # type: ignore[no-untyped-def]
        if name != STORE_ENTRY:
            return name, data
        copy = work / "newer.sqlite3"
        copy.write_bytes(data)
        db = sqlite3.connect(copy)
        db.execute("INSERT INTO alembic_version VALUES ('from_the_future')")
        db.commit()
        db.close()
        return name, copy.read_bytes()

    return change


def _fix_manifest_for(archive: Path) -> None:
    """Re-hash the store entry after a change, so only the content check can catch it."""
    with zipfile.ZipFile(archive) as zf:
        entries = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    manifest = json.loads(entries[MANIFEST])
    store = entries[STORE_ENTRY]
    manifest["store"]["sha256"] = hashlib.sha256(store).hexdigest()
    manifest["store"]["size"] = len(store)
    entries[MANIFEST] = json.dumps(manifest).encode()
    with zipfile.ZipFile(archive, "w") as out:
        for name, data in entries.items():
            out.writestr(name, data)


BAD_ARCHIVES = (
    "not a zip (a PDF)",
    "empty file",
    "truncated",
    "byte changed in the zip",
    "store bytes changed (manifest hash no longer matches)",
    "foreign zip",
    "no manifest",
    "manifest of another program",
    "manifest from a newer etcbook",
    "entry not in the manifest",
    "path escaping the vault",
    "vault file missing",
    "store from a newer etcbook",
    "store not SQLite",
)


def _append(archive: Path, name: str, data: bytes) -> Path:
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr(name, data)
    return archive


def make_bad_archive(damage: str, good: Path, bad: Path, work: Path) -> Path:
    """A copy of ``good`` damaged in one way."""
    data = good.read_bytes()
    keep = lambda name, content: (name, content)  # noqa: E731
    if damage == "not a zip (a PDF)":
        bad.write_bytes(b"%PDF-1.7\n" * 100)
    elif damage == "empty file":
        bad.write_bytes(b"")
    elif damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "byte changed in the zip":
        bad.write_bytes(data[:3000] + bytes([data[3000] ^ 0x55]) + data[3001:])
    elif damage == "store bytes changed (manifest hash no longer matches)":
        _rewrite(good, bad, _flip_store_byte)
    elif damage == "foreign zip":
        _rewrite(
            good, bad, lambda name, content: ("meisai.csv", content) if name == MANIFEST else None
        )
    elif damage == "no manifest":
        _rewrite(good, bad, lambda name, content: None if name == MANIFEST else (name, content))
    elif damage == "manifest of another program":
        _rewrite(good, bad, _manifest_edit(lambda m: m.update(format="other-backup")))
    elif damage == "manifest from a newer etcbook":
        _rewrite(good, bad, _manifest_edit(lambda m: m.update(version=99)))
    elif damage == "entry not in the manifest":
        _append(_rewrite(good, bad, keep), "ETC/extra.pdf", b"%PDF")
    elif damage == "path escaping the vault":
        escape = {"path": "ETC/../../evil.txt", "sha256": "0" * 64, "size": 1}
        _rewrite(good, bad, _manifest_edit(lambda m: m["files"].append(escape)))
        _append(bad, "ETC/../../evil.txt", b"x")
    elif damage == "vault file missing":
        _rewrite(
            good, bad, lambda name, content: None if name.startswith("ETC/") else (name, content)
        )
    elif damage == "store from a newer etcbook":
        _rewrite(good, bad, _newer_revision(work))
        _fix_manifest_for(bad)
    elif damage == "store not SQLite":
        _rewrite(
            good,
            bad,
            lambda name, content: (
                (name, b"x" * len(content)) if name == STORE_ENTRY else (name, content)
            ),
        )
        _fix_manifest_for(bad)
    else:
        raise AssertionError(damage)
    return bad


@pytest.fixture(scope="module")
def good_backup(tmp_path_factory: pytest.TempPathFactory, small_meisai: Path) -> Path:
    folder = tmp_path_factory.mktemp("good")
    store = open_store(folder / "etcbook.sqlite3")
    from etcbook.models.imports import import_files

    assert import_files(store, [small_meisai]).ok
    vault = folder / "etcbook.etc" / "2025" / "11"
    vault.mkdir(parents=True)
    (vault / "2025-11_CARD5678_請求.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    result = create_backup(store, folder / "good.zip")
    store.close()
    assert result.vault_files == 1
    return result.path


@pytest.fixture(scope="module")
def light_home(tmp_path_factory: pytest.TempPathFactory, small_meisai: Path) -> Path:
    """A folder with a store of 300 trips and three originals in its vault: the imported
    明細CSV and two statements (copy before use)."""
    folder = tmp_path_factory.mktemp("light") / "home"
    folder.mkdir()
    store = folder / "etcbook.sqlite3"
    etcbook(store, "import", str(small_meisai))
    for n, month in enumerate(("2023-04", "2023-05")):
        add_document(
            store,
            folder.parent,
            f"s{n}.pdf",
            b"%PDF-1.4\n%%EOF\n" + bytes([n]),
            month,
            "statement",
            card="5678",
        )
    return folder


@pytest.mark.parametrize("damage", BAD_ARCHIVES)
def test_damaged_or_foreign_archive_is_refused_and_nothing_changes(
    light_home: Path, good_backup: Path, tmp_path: Path, damage: str
) -> None:
    bad = make_bad_archive(damage, good_backup, tmp_path / "bad.zip", tmp_path)
    home = shutil.copytree(light_home, tmp_path / "home")
    store = home / "etcbook.sqlite3"
    before_digest = robustkit.content_digest(store)
    before_vault = vault_hashes(store)
    before_files = sorted(p.name for p in home.iterdir() if not p.name.endswith(".lock"))
    result = etcbook(store, "restore", str(bad), expect=3)
    assert "何も変更していません" in result.err
    assert robustkit.content_digest(store) == before_digest
    assert vault_hashes(store) == before_vault
    after_files = sorted(p.name for p in home.iterdir() if not p.name.endswith(".lock"))
    assert after_files == before_files  # no copies kept, no temporary folder left
    assert not (tmp_path / "evil.txt").exists() and not (home.parent.parent / "evil.txt").exists()
    check = etcbook(store, "restore", "--check", str(bad), expect=3)
    assert check.err.strip()


def test_damaged_archive_through_a_real_process(
    light_home: Path, good_backup: Path, tmp_path: Path
) -> None:
    bad = make_bad_archive("truncated", good_backup, tmp_path / "bad.zip", tmp_path)
    store = shutil.copytree(light_home, tmp_path / "home") / "etcbook.sqlite3"
    before = robustkit.content_digest(store)
    result = etcbook_process(store, "restore", str(bad), expect=3)
    assert "壊れています" in result.err
    assert robustkit.content_digest(store) == before


def test_good_archive_passes_the_check(good_backup: Path, tmp_path: Path) -> None:
    result = etcbook(tmp_path / "x.sqlite3", "restore", "--check", str(good_backup), "--json")
    assert result.json()["ok"] is True and result.json()["trips"] == 300
    assert not (tmp_path / "x.sqlite3").exists()


def test_restore_refused_while_a_window_has_the_store(
    light_home: Path, good_backup: Path, tmp_path: Path
) -> None:
    store = shutil.copytree(light_home, tmp_path / "home") / "etcbook.sqlite3"
    before = robustkit.content_digest(store)
    with claim_store(store, program="etcbook ウィンドウ") as claim:
        assert claim.acquired
        result = etcbook_process(store, "restore", str(good_backup), expect=75)
    assert "ウィンドウを閉じて" in result.err
    assert robustkit.content_digest(store) == before


def test_restore_refuses_to_overwrite_a_file_that_is_not_a_store(
    good_backup: Path, tmp_path: Path
) -> None:
    precious = tmp_path / "report.pdf"
    precious.write_bytes(b"%PDF-1.7 my report")
    result = etcbook(precious, "restore", str(good_backup), expect=3)
    assert "上書きしません" in result.err
    assert precious.read_bytes() == b"%PDF-1.7 my report"


def test_restore_over_a_damaged_store_keeps_its_bytes(good_backup: Path, tmp_path: Path) -> None:
    store = tmp_path / "etcbook.sqlite3"
    open_store(store).close()
    damaged = bytearray(store.read_bytes())
    damaged[100:4096] = os.urandom(3996)
    store.write_bytes(bytes(damaged))
    restored = etcbook(store, "restore", str(good_backup), "--json").json()
    kept = Path(restored["kept_store"]).read_bytes()
    assert kept[100:4096] == bytes(damaged[100:4096])  # the damaged page, kept as it was
    assert robustkit.trip_count(store) == 300 and robustkit.integrity(store) == "ok"
    tally.count(ROUND_TRIPS, "restore over a damaged store")


def test_backup_never_overwrites_unless_asked(light_home: Path, tmp_path: Path) -> None:
    store = shutil.copytree(light_home, tmp_path / "home") / "etcbook.sqlite3"
    out = tmp_path / "b.zip"
    out.write_bytes(b"an older backup")
    result = etcbook(store, "backup", "--out", str(out), expect=3)
    assert "上書きしません" in result.err and out.read_bytes() == b"an older backup"
    etcbook(store, "backup", "--out", str(out), "--overwrite")
    assert check_backup(out)["vault_files"] == 3  # the imported 明細CSV and two statements
    named = etcbook(store, "backup", "--out", str(tmp_path), "--json").json()
    assert Path(named["path"]).parent == tmp_path and named["path"].endswith(".zip")


def test_backup_reminder_is_monthly(tmp_path: Path) -> None:
    store = tmp_path / "etcbook.sqlite3"
    opened = open_store(store)
    assert "まだバックアップがありません" in str(backup_reminder(store))
    create_backup(opened, tmp_path / "b.zip")
    opened.close()
    made = dt.datetime.fromisoformat(str(last_backup(store)["created_at"])).date()  # type: ignore[index]
    assert backup_reminder(store, made + dt.timedelta(days=29)) is None
    assert "30日" in str(backup_reminder(store, made + dt.timedelta(days=30)))


BACKUP_KILLS = 10
BACKUP_MID_WRITE_AT_LEAST = 5
"""Backup kills of a run that must land while it writes (7 of the 10 are aimed there)."""


def _backup_phase(folder: Path, archive: Path) -> str:
    """Where ``etcbook backup`` was when killed, from what it left in ``folder``."""
    if archive.exists():
        return "after"
    entries = os.listdir(folder) if folder.exists() else []
    if any(name.endswith(".part") for name in entries):
        return "writing the archive"
    if any(name.startswith(".etcbook-backup-") for name in entries):
        return "copying the store"
    return "before"


@pytest.mark.slow
def test_backup_killed_at_random_moments_never_leaves_half_an_archive(
    tmp_path: Path, big_meisai: Path
) -> None:
    """SIGKILL during ``etcbook backup`` of a 100,000-trip store: the archive is whole or absent.

    Seven kills in ten wait for the backup's first file (its private copy of the store) and
    land at a random moment of the time it took in a whole run to copy the store and write
    the archive; three land anywhere from the process's start. What each kill left beside the
    archive's name (the copy's folder, the archive's ``.part``) tells whether it landed
    mid-write.
    """
    store = tmp_path / "etcbook.sqlite3"
    opened = open_store(store)
    from etcbook.models.imports import import_files

    assert import_files(opened, [big_meisai]).ok
    opened.close()
    started = time.monotonic()
    full = robustkit.start_etcbook(store, "backup", "--out", str(tmp_path / "whole" / "b.zip"))
    writing = robustkit.watch_writes(tmp_path / "whole", full, files=1)
    _out, err = full.communicate(timeout=300)
    whole = time.monotonic() - started
    assert full.returncode == 0, err.decode()
    assert writing > 0, "the whole run's writing was not seen"
    seed = os.environ.get("ETCBOOK_CRASH_SEED") or str(random.SystemRandom().randrange(1 << 30))
    rng = random.Random(seed)
    phases: Counter[str] = Counter()
    for kill in range(BACKUP_KILLS):
        folder = tmp_path / f"k{kill}"
        out = folder / "b.zip"
        process = robustkit.start_etcbook(store, "backup", "--out", str(out))
        if kill % 3 == 2:
            time.sleep(rng.uniform(0.0, whole * 1.1))
        else:
            assert robustkit.wait_for_entries(folder, process, timeout=whole * 3), kill
            time.sleep(rng.uniform(0.0, writing))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        phase = _backup_phase(folder, out)
        phases[phase] += 1
        if out.exists():
            assert check_backup(out)["trips"] == 100_000
        leftovers = set(os.listdir(folder) if folder.exists() else []) - {out.name}
        assert all(
            name.endswith(".part") or name.startswith(".etcbook-backup-") for name in leftovers
        ), leftovers
    assert robustkit.integrity(store) == "ok"
    mid_write = phases["copying the store"] + phases["writing the archive"]
    report = (
        f"{mid_write} of {BACKUP_KILLS} backup kills landed while it was writing (at least"
        f" {BACKUP_MID_WRITE_AT_LEAST} required; seed {seed}, writing {writing:.2f}s):"
        f" phases {dict(phases)}"
    )
    robustkit.report_kills(report)
    assert mid_write >= BACKUP_MID_WRITE_AT_LEAST, report


def test_zip_entries_are_listed_in_the_manifest(good_backup: Path) -> None:
    with zipfile.ZipFile(good_backup) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        names = {i.filename for i in zf.infolist()} - {MANIFEST}
        for entry in [manifest["store"], *manifest["files"]]:
            data = zf.read(entry["path"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert len(data) == entry["size"]
        assert names == {manifest["store"]["path"], *(f["path"] for f in manifest["files"])}
        assert manifest["format"] == "etcbook-backup" and manifest["version"] == 1


def test_the_window_restores_its_own_store_with_its_claim(
    light_home: Path, good_backup: Path, tmp_path: Path
) -> None:
    """How the window restores: close its Store, keep its claim, hand the claim over."""
    from etcbook.models.backup import restore_backup

    store = shutil.copytree(light_home, tmp_path / "home") / "etcbook.sqlite3"
    with claim_store(store) as claim:
        assert claim.acquired
        restored = restore_backup(good_backup, store, held=claim)
        assert claim.acquired  # still the window's
    assert restored.trips == 300 and restored.kept_store is not None
    assert robustkit.trip_count(store) == 300
    tally.count(ROUND_TRIPS, "restore by the window holding its claim")
