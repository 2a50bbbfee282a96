"""Privacy: no full card number anywhere, files readable by the user only, no network, IDs left out.

The smoke path (card, import, trips, status, evidence, claim export, backup, restore) runs in
subprocesses whose every socket use is refused by an audit hook, and everything it leaves on
disk or prints is searched for a 16-digit card number.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import robustkit
from hypothesis import given, settings
from hypothesis import strategies as st

from etcbook.privacy import FULL_CARD_NUMBER, free_text, mask_card_numbers, redact_card

FULL_NUMBERS = {
    "4980123412345678": "5678",
    "3540 1234 5678 9012": "9012",
    "4980-0000-1111-0042": "0042",
}
"""Full card numbers as they could appear in a file or be typed, and the last 4 that stays."""
FULL_NUMBERS_LIST = list(FULL_NUMBERS)

_BLOCK_NETWORK = r"""
import socket, sys

def _no_network(event, args):
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
                 "socket.connect", "socket.sendto", "urllib.Request", "http.client.connect",
                 "ftplib.connect", "smtplib.connect"):
        if event == "socket.connect" and args and getattr(args[0], "family", None) == socket.AF_UNIX:
            return
        sys.stderr.write(f"NETWORK BLOCKED: {event} {args!r}\n")
        raise PermissionError(f"network use refused by the test: {event}")
    if event == "socket.__new__" and len(args) > 1 and args[1] in (socket.AF_INET, socket.AF_INET6):
        sys.stderr.write(f"NETWORK BLOCKED: {event} {args!r}\n")
        raise PermissionError("network socket refused by the test")

sys.addaudithook(_no_network)
from etcbook.cli import main
sys.exit(main(sys.argv[1:]))
"""


class Offline:
    """Runs ``etcbook`` in a subprocess where any network use fails loudly."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.transcript: list[str] = []

    def __call__(self, *args: str, expect: int = 0) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _BLOCK_NETWORK, "--db", str(self.store), *args],
            capture_output=True,
            env=robustkit.etcbook_env(),
            cwd=robustkit.ROOT,
            timeout=300,
        )
        out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
        self.transcript += [out, err]
        assert "NETWORK BLOCKED" not in err, err
        assert "Traceback" not in err, err
        assert done.returncode == expect, f"etcbook {' '.join(args)}: {done.returncode}\n{err}"
        return out


def _meisai_with_full_numbers(path: Path) -> Path:
    lines = []
    for n, number in enumerate(FULL_NUMBERS):
        lines += robustkit.meisai_lines(4, card=number, seed=40 + n)
    path.write_bytes(("\r\n".join([robustkit.HEADER_15, *lines]) + "\r\n").encode("cp932"))
    return path


def _texts_of(name: str, data: bytes) -> Iterator[tuple[str, str, bool]]:
    """The searchable text of a file: (where, text, is it text for people rather than raw bytes).

    Its bytes as text, the text of its PDF pages, and its ZIP members, recursively.
    """
    binary = data.startswith((b"%PDF", b"PK\x03\x04", b"SQLite format 3"))
    yield name, data.decode("latin-1"), False
    if not binary:
        for encoding in ("utf-8", "utf-8-sig", "cp932"):
            try:
                yield f"{name} ({encoding})", data.decode(encoding), True
            except UnicodeDecodeError:
                continue
    if data.startswith(b"%PDF"):
        import pypdfium2

        try:
            pdf = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError:
            return  # not a real PDF (a stand-in original): its bytes were searched above
        try:
            for index in range(len(pdf)):
                page = pdf[index]
                text_page = page.get_textpage()
                yield f"{name} page {index + 1}", text_page.get_text_range(), True
                text_page.close()
                page.close()
        finally:
            pdf.close()
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                yield from _texts_of(f"{name}!{member}", zf.read(member))


_DIGITS_16 = re.compile(r"(?<![0-9A-Fa-f])[0-9]{16}(?![0-9A-Fa-f])")
"""16 digits in a row, not part of a longer number or of a hex digest (SHA-256 in manifests)."""
_SHA256 = re.compile(r"(?<![0-9A-Fa-f])[0-9a-f]{64}(?![0-9A-Fa-f])")
"""A SHA-256 digest in hex (bundle manifests, audit exports)."""


def _leaks(text: str, for_people: bool = True) -> list[str]:
    """Card numbers in ``text``: the known full numbers, any 16-digit run, and in text for
    people also 16 digits grouped by spaces or hyphens (in raw PDF bytes, font width tables
    look like that)."""
    found = [n for n in FULL_NUMBERS if n in text]
    found += [n for n in (re.sub(r"[ -]", "", k) for k in FULL_NUMBERS) if n in text]
    # A SHA-256 in hex holds a run of exactly 16 digits between two letters about once in 300
    # digests: the run searches leave digests out (the known numbers are looked for above).
    text = _SHA256.sub(" ", text)
    found += _DIGITS_16.findall(text)
    if for_people:
        found += FULL_CARD_NUMBER.findall(text)
    return found


def _everything_written(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield path


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Offline]:
    """The smoke path, run once, offline, on a store fed full card numbers."""
    folder = tmp_path_factory.mktemp("privacy")
    home = folder / "home"
    store = home / "etcbook.sqlite3"
    inputs = folder / "inputs"
    inputs.mkdir()
    run = Offline(store)

    run("card", "add", "--holder", "山田太郎", "--last4", "4980123412349999",
        "--mileage-id", "M0012345678", "--login-id", "yamada.taro", "--kind", "credit")  # fmt: skip
    imported = json.loads(
        run("import", str(_meisai_with_full_numbers(inputs / "full.csv")), "--json")
    )
    assert imported["inserted"] == 12 and sorted(imported["new_cards"]) == ["0042", "5678", "9012"]
    bad = inputs / "bad.csv"
    cells = robustkit.meisai_lines(1)[0].split(",")
    cells[8] = "4980123412345678"  # a full card number pasted into 通行料金
    bad.write_bytes((robustkit.HEADER_15 + "\r\n" + ",".join(cells) + "\r\n").encode("cp932"))
    rejected = json.loads(run("import", str(bad), "--json", expect=3))
    assert "************5678" in rejected["files"][0]["errors"][0]["message"]
    run("card", "edit", "4980123412345678", "--holder", "山田花子", "--mileage-id", "M0098765432",
        "--login-id", "hanako.login")  # fmt: skip
    trips = json.loads(run("trips", "--card", "5678", "--json"))["trips"]
    for trip in trips[:3]:
        run("trip", "edit", str(trip["id"]), "--purpose", "顧客訪問", "--business-share", "100")
    run("status", "--json")
    run("card", "list", "--json")
    statement = inputs / "seikyu.pdf"
    statement.write_bytes(b"%PDF-1.4\n% statement\n%%EOF\n")
    month = trips[0]["exit_at"][:7]
    run(
        "evidence", "add", str(statement), "--kind", "statement", "--card", "5678", "--month", month
    )
    # Full numbers typed or pasted into every kind of free-text field.
    typed = iter(FULL_NUMBERS)
    run("card", "edit", "5678", "--notes", f"旧カード {next(typed)} は解約済み",
        "--driver", f"山田 {next(typed)}", "--household", f"{next(typed)}")  # fmt: skip
    run("trip", "edit", str(trips[0]["id"]), "--purpose", f"請求 {FULL_NUMBERS_LIST[1]} の確認")
    named = inputs / f"明細_{FULL_NUMBERS_LIST[0]}.pdf"
    named.write_bytes(b"%PDF-1.4\n% certificate\n%%EOF\n")
    run("evidence", "add", str(named), "--kind", "certificate", "--card", "5678", "--month", month,
        "--counterparty", f"カード会社 {FULL_NUMBERS_LIST[2]}")  # fmt: skip
    run("adjust", "--card", "5678", "--rebate", "100", "--on", trips[0]["exit_at"][:10],
        "--reason", f"サイトの表示 {FULL_NUMBERS_LIST[0]} に合わせる")  # fmt: skip
    run("incident", "open", "--card", "9012", "--kind", "lost",
        "--note", f"番号 {FULL_NUMBERS_LIST[1]} のカードを紛失")  # fmt: skip
    first, last = trips[0]["exit_at"][:10], trips[-1]["exit_at"][:10]
    run("report", "--card", "5678", "--from", first, "--to", last, "--out", str(home / "claim"),
        "--claimant", f"山田花子 {FULL_NUMBERS_LIST[2]}", "--basis", f"{FULL_NUMBERS_LIST[0]}")  # fmt: skip
    run("report", "--card", "5678", "--from", first, "--to", last,
        "--out", str(home / "claim-no-ids"), "--no-mileage-id")  # fmt: skip
    run("evidence", "audit", "--csv", str(home / "audit.csv"))
    run("backup", "--out", str(home / "backup.zip"))
    run("restore", str(home / "backup.zip"))
    return home, run


def test_no_full_card_number_in_store_logs_or_exports(smoke: tuple[Path, Offline]) -> None:
    home, run = smoke
    searched = []
    for path in _everything_written(home):
        for where, text, for_people in _texts_of(str(path.relative_to(home)), path.read_bytes()):
            assert not _leaks(text, for_people), f"{where}: {_leaks(text, for_people)}"
        searched.append(path.name)
    for number, text in enumerate(run.transcript):
        assert not _leaks(text), f"output {number}: {_leaks(text)}\n{text[:2000]}"
    # the search did look at the store, its WAL, the exports and the backup
    names = " ".join(searched)
    for expected in ("etcbook.sqlite3", ".pdf", ".csv", "backup.zip", ".zip"):
        assert expected in names, (expected, searched)


def test_only_last_four_digits_are_stored(smoke: tuple[Path, Offline]) -> None:
    home, _run = smoke
    db = robustkit.connect_readonly(home / "etcbook.sqlite3")
    last4s = sorted(r[0] for r in db.execute("SELECT last4 FROM cards"))
    db.close()
    assert last4s == ["0042", "5678", "9012", "9999"]


def test_claim_export_can_leave_out_the_mileage_id(smoke: tuple[Path, Offline]) -> None:
    home, _run = smoke
    with_ids = " ".join(
        t
        for p in _everything_written(home / "claim")
        for _w, t, _h in _texts_of(p.name, p.read_bytes())
    )
    without = " ".join(
        t
        for p in _everything_written(home / "claim-no-ids")
        for _w, t, _h in _texts_of(p.name, p.read_bytes())
    )
    assert "M0098765432" in with_ids
    assert "M0098765432" not in without
    assert "hanako.login" not in with_ids and "hanako.login" not in without  # never exported


def test_files_are_readable_by_the_user_only(smoke: tuple[Path, Offline]) -> None:
    home, _run = smoke
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    private = [
        home / "etcbook.sqlite3",
        *home.glob("etcbook.sqlite3.lock"),  # removed again by a clean release
        home / "backup.zip",
        *home.glob("etcbook.before-restore-*.sqlite3"),
        *home.glob("etcbook.sqlite3-*"),
    ]
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path, oct(path.stat().st_mode))
    vault = home / "etcbook.etc"
    assert stat.S_IMODE(vault.stat().st_mode) == 0o700
    for path in vault.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_store_wal_and_shm_are_private_under_a_permissive_umask(tmp_path: Path) -> None:
    from etcbook.models.store import open_store

    old = os.umask(0o000)
    try:
        store = open_store(tmp_path / "new" / "etcbook.sqlite3")
        with store.transaction() as connection:
            connection.exec_driver_sql(
                "INSERT INTO cards (last4, holder, driver, kind, auto_exchange, status, notes,"
                " created_at) VALUES ('1234', '', '', 'credit', 0, 'active', '', '2025-01-01T00:00:00')"
            )
        files = [store.path, *store.path.parent.glob("etcbook.sqlite3-*")]
        assert len(files) == 3  # the store, its WAL and its shared-memory file
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
        store.close()
    finally:
        os.umask(old)


def test_nothing_in_the_smoke_path_used_the_network(smoke: tuple[Path, Offline]) -> None:
    _home, run = smoke
    assert len(run.transcript) >= 30  # every step ran under the audit hook
    assert not any("NETWORK BLOCKED" in text for text in run.transcript)


def test_the_network_block_itself_works(tmp_path: Path) -> None:
    """The audit hook in the smoke path really refuses a connection (so silence means something)."""
    code = _BLOCK_NETWORK.replace(
        "from etcbook.cli import main\nsys.exit(main(sys.argv[1:]))",
        "socket.create_connection(('192.0.2.1', 80), timeout=1)",
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode != 0 and b"NETWORK BLOCKED" in done.stderr


def test_mask_card_numbers_keeps_only_the_last_four() -> None:
    assert mask_card_numbers("card 4980 1234 5678 0042 used") == "card ************0042 used"
    assert mask_card_numbers("4980-1234-5678-0042") == "************0042"
    assert mask_card_numbers("車載器 1234567890123456789") == "車載器 ***************6789"
    assert mask_card_numbers("通行料金 12000 円、2025-11-20") == "通行料金 12000 円、2025-11-20"
    assert FULL_CARD_NUMBER.search("x4980123412345678y")


def test_redact_card_leaves_out_ids() -> None:
    card = {"last4": "1234", "mileage_id": "M1", "login_id": "taro", "holder": "山田"}
    assert redact_card(card, omit_ids=True) == {
        "last4": "1234",
        "mileage_id": None,
        "login_id": None,
        "holder": "山田",
    }
    assert redact_card(card, omit_ids=False) == card


def test_in_process_tests_run_offline() -> None:
    """tests/robust/conftest.py refuses sockets to every test in this folder."""
    with pytest.raises(OSError, match="network"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)


_TEXT = st.text(alphabet=st.sampled_from("山田 メモ-:、。abc0123456789"), max_size=30)
_CARD = st.lists(st.sampled_from("0123456789"), min_size=16, max_size=16).map("".join)
_GROUPING = st.sampled_from(["", " ", "-"])


@settings(max_examples=300, deadline=None)
@given(before=_TEXT, card=_CARD, sep=_GROUPING, after=_TEXT)
def test_a_card_number_typed_into_free_text_keeps_only_its_last_four(
    before: str, card: str, sep: str, after: str
) -> None:
    typed = sep.join(card[i : i + 4] for i in range(0, 16, 4))
    stored = free_text(f"{before}（{typed}）{after}")
    assert not _leaks(stored), stored
    assert card[-4:] in stored


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60).filter(lambda t: not re.search(r"[0-9][0-9 \-]{11,}[0-9]", t)))
def test_free_text_without_a_long_number_is_stored_as_typed(text: str) -> None:
    assert free_text(text) == text


def test_the_stores_free_text_fields_mask_what_the_smoke_path_typed(
    smoke: tuple[Path, Offline],
) -> None:
    home, _run = smoke
    db = robustkit.connect_readonly(home / "etcbook.sqlite3")
    try:
        notes, driver = db.execute(
            "SELECT notes, driver FROM cards WHERE last4 = '5678'"
        ).fetchone()
        reason = db.execute("SELECT reason FROM mileage_adjustments").fetchone()[0]
        original = db.execute(
            "SELECT original_name FROM documents WHERE kind = 'certificate'"
        ).fetchone()[0]
    finally:
        db.close()
    assert notes == "旧カード ************5678 は解約済み"
    assert driver == "山田 ************9012"
    assert reason == "サイトの表示 ************5678 に合わせる"
    assert original == "明細_************5678.pdf"
