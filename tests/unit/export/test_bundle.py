"""Claim bundles: PDF + CSV + originals + manifest, and proving them intact later."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pypdf
import pytest

from etcbook.export.bundle import (
    MANIFEST_NAME,
    BundleError,
    OriginalFile,
    sha256_file,
    verify_bundle,
    write_claim_outputs,
)
from etcbook.export.sample import sample_claim


@pytest.fixture
def originals(tmp_path: Path) -> list[OriginalFile]:
    folder = tmp_path / "vault"
    folder.mkdir()
    statement = folder / "2025-11_CARD1234_CarA_請求.pdf"
    statement.write_bytes(b"%PDF-1.4 invented statement\n" * 50)
    detail = folder / "2025-11_CARD1234_明細.csv"
    detail.write_bytes("利用年月日（自）,時分（自）\r\n".encode("cp932"))
    screen = folder / "2025-11-30_CARD1234_還元額残高.png"
    screen.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    return [
        OriginalFile(statement, "statement"),
        OriginalFile(detail, "detail_csv"),
        OriginalFile(screen, "screen_rebate"),
    ]


def rewrite_zip(source: Path, *, drop: str | None = None, change: str | None = None) -> None:
    """Copy the zip with one member dropped or its bytes changed, as a tamperer would."""
    with zipfile.ZipFile(source) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(source, "w") as archive:
        for name, data in members:
            if name == drop:
                continue
            archive.writestr(name, data + b"x" if name == change else data)


def test_writes_pdf_csv_and_named_zip(tmp_path: Path, originals: list[OriginalFile]) -> None:
    out = write_claim_outputs(sample_claim(20), tmp_path / "out", originals)
    assert out.bundle.name == "2025-11_CARD1234_経費精算.zip"
    assert out.pdf.name == "2025-11_CARD1234_経費精算.pdf"
    assert out.csv.name == "2025-11_CARD1234_経費精算.csv"
    assert out.claimed_total == sum(line.claimed for line in out.claim.lines)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [out.bundle.name, out.pdf.name, out.csv.name]
    )
    with zipfile.ZipFile(out.bundle) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read(MANIFEST_NAME))
        assert archive.read(out.pdf.name) == out.pdf.read_bytes()
        assert archive.read(out.csv.name) == out.csv.read_bytes()
    assert set(names) == {
        out.pdf.name,
        out.csv.name,
        "originals/2025-11_CARD1234_CarA_請求.pdf",
        "originals/2025-11_CARD1234_明細.csv",
        "originals/2025-11-30_CARD1234_還元額残高.png",
        MANIFEST_NAME,
    }
    assert manifest["claim"]["claimed_total"] == out.claimed_total
    rows = {row["file"]: row for row in manifest["files"]}
    assert set(rows["originals/2025-11_CARD1234_CarA_請求.pdf"]) == {
        "file",
        "kind",
        "size",
        "sha256",
    }
    for original in originals:
        row = rows[f"originals/{original.path.name}"]
        assert row["kind"] == original.kind
        assert row["size"] == original.path.stat().st_size
        assert row["sha256"] == sha256_file(original.path)
    assert rows[out.pdf.name]["kind"] == "claim_pdf"
    assert rows[out.csv.name]["kind"] == "claim_csv"


def test_the_pdf_lists_the_digests_of_the_bundled_originals(
    tmp_path: Path, originals: list[OriginalFile]
) -> None:
    out = write_claim_outputs(sample_claim(5), tmp_path, originals)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(out.pdf).pages)
    for original in originals:
        assert sha256_file(original.path) in text


def test_originals_are_not_changed_by_the_export(
    tmp_path: Path, originals: list[OriginalFile]
) -> None:
    before = {o.path: o.path.read_bytes() for o in originals}
    write_claim_outputs(sample_claim(5), tmp_path / "out", originals)
    assert {o.path: o.path.read_bytes() for o in originals} == before


def test_a_fresh_bundle_verifies(tmp_path: Path, originals: list[OriginalFile]) -> None:
    out = write_claim_outputs(sample_claim(5), tmp_path, originals)
    check = verify_bundle(out.bundle)
    assert check.intact
    assert check.checked == 5
    assert check.missing == check.altered == check.unexpected == ()


def test_verify_finds_an_altered_file(tmp_path: Path, originals: list[OriginalFile]) -> None:
    out = write_claim_outputs(sample_claim(5), tmp_path, originals)
    rewrite_zip(out.bundle, change="originals/2025-11_CARD1234_明細.csv")
    check = verify_bundle(out.bundle)
    assert not check.intact
    assert check.altered == ("originals/2025-11_CARD1234_明細.csv",)
    assert check.missing == ()


def test_verify_finds_a_missing_file(tmp_path: Path, originals: list[OriginalFile]) -> None:
    out = write_claim_outputs(sample_claim(5), tmp_path, originals)
    rewrite_zip(out.bundle, drop=out.pdf.name)
    check = verify_bundle(out.bundle)
    assert not check.intact
    assert check.missing == (out.pdf.name,)
    assert check.altered == ()


def test_verify_an_extracted_folder(tmp_path: Path, originals: list[OriginalFile]) -> None:
    out = write_claim_outputs(sample_claim(5), tmp_path / "out", originals)
    folder = tmp_path / "extracted"
    with zipfile.ZipFile(out.bundle) as archive:
        archive.extractall(folder)
    assert verify_bundle(folder).intact
    (folder / "originals" / "2025-11_CARD1234_CarA_請求.pdf").write_bytes(b"forged")
    (folder / "originals" / "2025-11-30_CARD1234_還元額残高.png").unlink()
    (folder / "notes.txt").write_text("added later")
    check = verify_bundle(folder)
    assert check.altered == ("originals/2025-11_CARD1234_CarA_請求.pdf",)
    assert check.missing == ("originals/2025-11-30_CARD1234_還元額残高.png",)
    assert check.unexpected == ("notes.txt",)


def test_same_named_originals_are_kept_apart(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "x.pdf", tmp_path / "b" / "x.pdf"
    first.write_bytes(b"one")
    second.write_bytes(b"two")
    out = write_claim_outputs(
        sample_claim(1),
        tmp_path / "out",
        [OriginalFile(first, "statement"), OriginalFile(second, "certificate")],
    )
    with zipfile.ZipFile(out.bundle) as archive:
        assert archive.read("originals/x.pdf") == b"one"
        assert archive.read("originals/x_2.pdf") == b"two"
    assert [a.file_name for a in out.claim.attachments] == ["x.pdf", "x_2.pdf"]


def test_a_bundle_without_manifest_cannot_be_verified(tmp_path: Path) -> None:
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "a")
    with pytest.raises(BundleError):
        verify_bundle(path)
    (tmp_path / "not.zip").write_bytes(b"not a zip")
    with pytest.raises(BundleError):
        verify_bundle(tmp_path / "not.zip")


def test_a_manifest_with_an_escaping_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    manifest = {
        "format": "etcbook-claim-bundle",
        "version": 1,
        "files": [{"file": "../secret", "kind": "other", "size": 1, "sha256": "0" * 64}],
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(MANIFEST_NAME, json.dumps(manifest))
    with pytest.raises(BundleError):
        verify_bundle(path)


def test_an_original_that_no_longer_matches_its_record_is_refused(
    tmp_path: Path, originals: list[OriginalFile]
) -> None:
    recorded = sha256_file(originals[0].path)
    originals[0].path.write_bytes(b"changed after it was recorded")
    checked = [OriginalFile(originals[0].path, "statement", recorded)]
    with pytest.raises(BundleError, match="記録と内容が違う"):
        write_claim_outputs(sample_claim(2), tmp_path / "out", checked)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
