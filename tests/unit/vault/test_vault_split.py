"""Each store owns its vault; a vault shared by two stores (``ETC`` beside both) is split on open."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

from sqlalchemy import text

from etcbook.models.store import open_store
from etcbook.models.vault import (
    SHARED_VAULT_FOLDER,
    add_document,
    remove_document,
    vault_path_for,
    vault_root,
    verify_vault,
)


def _pdf(folder: Path, name: str, body: bytes) -> Path:
    path = folder / name
    path.write_bytes(b"%PDF-1.4\n" + body + b"\n%%EOF\n")
    return path


def _files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_two_stores_in_one_folder_have_separate_vaults(tmp_path: Path) -> None:
    own = open_store(tmp_path / "etcbook.sqlite3")
    demo = open_store(tmp_path / "demo.sqlite3")
    try:
        add_document(
            store=own, source=_pdf(tmp_path, "a.pdf", b"own"), kind="statement",
            card="1234", month="2025-11",
        )  # fmt: skip
        add_document(
            store=demo, source=_pdf(tmp_path, "b.pdf", b"demo"), kind="statement",
            card="1234", month="2025-11",
        )  # fmt: skip
        assert vault_root(own) == tmp_path / "etcbook.etc"
        assert vault_root(demo) == tmp_path / "demo.etc"
        assert list(_files(vault_root(own))) == ["2025/11/2025-11_CARD1234_請求.pdf"]
        assert list(_files(vault_root(demo))) == ["2025/11/2025-11_CARD1234_請求.pdf"]
        assert verify_vault(store=own).intact and verify_vault(store=demo).intact
        assert not (tmp_path / SHARED_VAULT_FOLDER).exists()
    finally:
        own.close()
        demo.close()


def _as_before_the_split(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """Two stores whose documents live in one shared ``ETC`` folder, as earlier versions kept them."""
    own_path, demo_path = tmp_path / "etcbook.sqlite3", tmp_path / "demo.sqlite3"
    own, demo = open_store(own_path), open_store(demo_path)
    try:
        add_document(
            store=own, source=_pdf(tmp_path, "a.pdf", b"own"), kind="statement",
            card="1234", month="2025-11",
        )  # fmt: skip
        removed = add_document(
            store=own, source=_pdf(tmp_path, "c.pdf", b"wrong"), kind="certificate",
            card="1234", month="2025-11",
        )  # fmt: skip
        remove_document(store=own, document_id=removed.id, reason="別の月")
        add_document(
            store=demo, source=_pdf(tmp_path, "b.pdf", b"demo"), kind="statement",
            card="9012", month="2025-10",
        )  # fmt: skip
    finally:
        own.close()
        demo.close()
    shared = tmp_path / SHARED_VAULT_FOLDER
    shared.mkdir()
    for vault in (vault_path_for(own_path), vault_path_for(demo_path)):
        for path in sorted(vault.rglob("*")):
            target = shared / path.relative_to(vault)
            if path.is_dir():
                target.mkdir(exist_ok=True)
            else:
                shutil.copy2(path, target)
        for path in vault.rglob("*"):
            os.chmod(path, stat.S_IRWXU)
        shutil.rmtree(vault)
    (shared / "2024" / "01").mkdir(parents=True)
    (shared / "2024" / "01" / "unknown.pdf").write_bytes(b"%PDF kept by nobody")
    return own_path, demo_path, _files(shared)


def test_a_shared_etc_folder_is_split_on_open_and_kept(tmp_path: Path) -> None:
    own_path, demo_path, shared_before = _as_before_the_split(tmp_path)
    own = open_store(own_path)
    demo = open_store(demo_path)
    try:
        own_files = _files(vault_root(own))
        demo_files = _files(vault_root(demo))
        # Each store got the documents it references, trash included, and nothing else.
        assert sorted(own_files) == [
            "2025/11/2025-11_CARD1234_請求.pdf",
            *[p for p in own_files if p.startswith("_trash/")],
        ]
        assert len(own_files) == 2
        assert list(demo_files) == ["2025/10/2025-10_CARD9012_請求.pdf"]
        assert verify_vault(store=own).intact and verify_vault(store=demo).intact
        # Nothing was deleted: the shared folder is unchanged.
        assert _files(tmp_path / SHARED_VAULT_FOLDER) == shared_before
        with own.engine.connect() as connection:
            split = connection.execute(
                text("SELECT new_value FROM audit_log WHERE entity = 'vault' AND action = 'split'")
            ).scalar_one()
        assert json.loads(split)["copied"] == 2
        # Opening again changes nothing.
        own.close()
        own = open_store(own_path)
        assert _files(vault_root(own)) == own_files
    finally:
        own.close()
        demo.close()


def test_a_file_with_other_bytes_than_recorded_is_left_behind(tmp_path: Path) -> None:
    own_path, _demo_path, _before = _as_before_the_split(tmp_path)
    statement = tmp_path / SHARED_VAULT_FOLDER / "2025" / "11" / "2025-11_CARD1234_請求.pdf"
    os.chmod(statement, stat.S_IRUSR | stat.S_IWUSR)
    statement.write_bytes(b"%PDF another store's file")
    own = open_store(own_path)
    try:
        assert "2025/11/2025-11_CARD1234_請求.pdf" not in _files(vault_root(own))
        check = verify_vault(store=own)
        assert check.missing == ("2025/11/2025-11_CARD1234_請求.pdf",)
    finally:
        own.close()
