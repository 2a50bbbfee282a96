"""Claim bundles: the PDF, the CSV and the attached originals in one zip, with a manifest.

``2025-11_CARD1234_経費精算.zip`` holds::

    2025-11_CARD1234_経費精算.pdf
    2025-11_CARD1234_経費精算.csv
    originals/<file name of each attached original>
    manifest.json      {"files": [{"file", "kind", "size", "sha256"}, ...], ...}

:func:`verify_bundle` recomputes every digest (in the zip, or in a folder it was extracted to)
and says which listed files are missing or altered, so a claim can be proven intact years later.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath
from typing import Any, BinaryIO

from etcbook import clock
from etcbook.domain.claims import AttachedOriginal, Claim
from etcbook.export.claim_csv import claim_csv_bytes
from etcbook.export.claim_pdf import claim_pdf_bytes
from etcbook.safeio import atomic_outputs, atomic_writer

MANIFEST_NAME = "manifest.json"
ORIGINALS_FOLDER = "originals"
BUNDLE_FORMAT = "etcbook-claim-bundle"
BUNDLE_VERSION = 1
_CHUNK = 1 << 20


class BundleError(Exception):
    """The bundle cannot be checked at all (not a zip or folder, no or unreadable manifest)."""


@dataclass(frozen=True, slots=True)
class OriginalFile:
    """An original to attach: a file and its kind.

    Attributes:
        path: where it is (usually in the vault); its name is the name in the bundle.
        kind: document kind key (``statement``, ``certificate``, ...).
        expected_sha256: the digest recorded when it entered the vault; when given, a file
            whose bytes no longer match is refused instead of being attached.
        read: how to get its bytes when they are not a file here (a vault kept in the
            ledger's database); by default the file at ``path`` is read.
    """

    path: PurePath
    kind: str
    expected_sha256: str | None = None
    read: Callable[[], bytes] | None = None

    def read_bytes(self) -> bytes:
        """The original's bytes as they are (the bundle checks them)."""
        return self.read() if self.read is not None else Path(self.path).read_bytes()


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One line of a manifest.

    Attributes:
        file: path inside the bundle (``/``-separated).
        kind: ``claim_pdf``, ``claim_csv`` or a document kind key.
        size: bytes.
        sha256: lowercase hex digest.
    """

    file: str
    kind: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class BundleCheck:
    """The result of verifying a bundle.

    Attributes:
        checked: files listed in the manifest.
        missing: listed files that are not there.
        altered: listed files whose size or SHA-256 differs.
        unexpected: files present but not listed (reported, not a failure).
    """

    checked: int
    missing: tuple[str, ...]
    altered: tuple[str, ...]
    unexpected: tuple[str, ...]

    @property
    def intact(self) -> bool:
        """True when nothing listed is missing or altered."""
        return not self.missing and not self.altered


@dataclass(frozen=True, slots=True)
class ClaimOutputs:
    """What :func:`write_claim_outputs` wrote.

    Attributes:
        pdf: the claim PDF.
        csv: the claim CSV.
        bundle: the zip.
        claimed_total: Σ claimed yen.
        claim: the claim as written (with its attachments' digests).
    """

    pdf: Path
    csv: Path
    bundle: Path
    claimed_total: int
    claim: Claim


def sha256_bytes(data: bytes) -> str:
    """Lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path | str) -> str:
    """Lowercase hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _unique_names(names: Iterable[str]) -> list[str]:
    """The names, with ``_2``, ``_3`` … before the suffix where one repeats."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate = name
        stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
        n = 1
        while candidate in seen:
            n += 1
            candidate = f"{stem}_{n}{suffix}"
        seen.add(candidate)
        out.append(candidate)
    return out


def bundle_file_name(claim: Claim) -> str:
    """``2025-11_CARD1234_経費精算.zip``."""
    return f"{claim.file_stem}.zip"


def build_bundle_bytes(
    claim: Claim, originals: Sequence[OriginalFile] = ()
) -> tuple[Claim, dict[str, bytes], list[ManifestEntry]]:
    """Read the originals, fill in the claim's attachments, render PDF and CSV.

    Returns the claim with its attachments, the bundle's members (name → bytes, manifest
    excluded) and the manifest entries, in bundle order. Each original is read once, so the
    digest printed in the PDF is the digest of the bytes put in the zip.
    """
    names = _unique_names(original.path.name for original in originals)
    contents = [original.read_bytes() for original in originals]
    altered = [
        original.path.name
        for original, data in zip(originals, contents, strict=True)
        if original.expected_sha256 is not None and sha256_bytes(data) != original.expected_sha256
    ]
    if altered:
        raise BundleError(
            "記録と内容が違う証憑は添付できません（evidence verify で確かめてください）: "
            + ", ".join(altered)
        )
    attachments = tuple(
        AttachedOriginal(
            file_name=name, kind=original.kind, size=len(data), sha256=sha256_bytes(data)
        )
        for name, original, data in zip(names, originals, contents, strict=True)
    )
    claim = dataclasses.replace(claim, attachments=attachments)
    members: dict[str, bytes] = {
        f"{claim.file_stem}.pdf": claim_pdf_bytes(claim),
        f"{claim.file_stem}.csv": claim_csv_bytes(claim),
    }
    kinds = {f"{claim.file_stem}.pdf": "claim_pdf", f"{claim.file_stem}.csv": "claim_csv"}
    for name, original, data in zip(names, originals, contents, strict=True):
        members[f"{ORIGINALS_FOLDER}/{name}"] = data
        kinds[f"{ORIGINALS_FOLDER}/{name}"] = original.kind
    entries = [
        ManifestEntry(file=name, kind=kinds[name], size=len(data), sha256=sha256_bytes(data))
        for name, data in members.items()
    ]
    return claim, members, entries


def manifest_document(claim: Claim, entries: Sequence[ManifestEntry]) -> dict[str, Any]:
    """The manifest as a JSON-ready dict."""
    head = claim.header
    totals = claim.totals
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "claim": {
            "claimant": head.claimant,
            "department": head.department,
            "holder": head.holder,
            "card": head.card_last4,
            "period_start": head.period_start.isoformat(),
            "period_end": head.period_end.isoformat(),
            "trips": totals.trips,
            "billed_total": totals.billed,
            "claimed_total": totals.claimed,
        },
        "files": [dataclasses.asdict(entry) for entry in entries],
    }


def write_bundle(path: Path | str, members: dict[str, bytes], manifest: dict[str, Any]) -> Path:
    """Write the zip atomically: the members in order, then ``manifest.json``."""
    with atomic_writer(path) as handle:
        _write_zip(handle, members, manifest)
    return Path(path)


def _write_zip(handle: BinaryIO, members: dict[str, bytes], manifest: dict[str, Any]) -> None:
    stamp = clock.now().timetuple()[:6]  # Japan time, whatever the computer's zone
    with zipfile.ZipFile(handle, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = (
                zipfile.ZIP_STORED if name.lower().endswith(".pdf") else zipfile.ZIP_DEFLATED
            )
            archive.writestr(info, data)
        info = zipfile.ZipInfo(MANIFEST_NAME, date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        archive.writestr(info, text.encode("utf-8"))


def write_claim_outputs(
    claim: Claim, out_dir: Path | str, originals: Sequence[OriginalFile] = ()
) -> ClaimOutputs:
    """Write ``<stem>.pdf``, ``<stem>.csv`` and ``<stem>.zip`` into ``out_dir``.

    The three replace earlier ones together or not at all: when one is held open by another
    program (a re-export while the CSV is open in Excel), :class:`etcbook.safeio.FileInUse` is
    raised and the folder keeps the previous, matching set.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    claim, members, entries = build_bundle_bytes(claim, originals)
    pdf = folder / f"{claim.file_stem}.pdf"
    csv = folder / f"{claim.file_stem}.csv"
    bundle = folder / bundle_file_name(claim)
    with atomic_outputs([pdf, csv, bundle]) as (pdf_temp, csv_temp, bundle_temp):
        pdf_temp.write_bytes(members[pdf.name])
        csv_temp.write_bytes(members[csv.name])
        with open(bundle_temp, "wb") as handle:
            _write_zip(handle, members, manifest_document(claim, entries))
    return ClaimOutputs(
        pdf=pdf, csv=csv, bundle=bundle, claimed_total=claim.totals.claimed, claim=claim
    )


def _parse_manifest(data: bytes) -> list[ManifestEntry]:
    try:
        document = json.loads(data.decode("utf-8"))
        if document.get("format") != BUNDLE_FORMAT:
            raise BundleError("manifest.json is not an etcbook claim bundle manifest")
        entries = [
            ManifestEntry(
                file=str(item["file"]),
                kind=str(item["kind"]),
                size=int(item["size"]),
                sha256=str(item["sha256"]).lower(),
            )
            for item in document["files"]
        ]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"manifest.json cannot be read: {exc}") from exc
    for entry in entries:
        parts = PurePosixPath(entry.file).parts
        if not parts or entry.file.startswith("/") or ".." in parts or "\\" in entry.file:
            raise BundleError(f"manifest.json lists an unsafe path: {entry.file!r}")
    return entries


def read_manifest(path: Path | str) -> list[ManifestEntry]:
    """The manifest entries of a bundle zip or of a folder it was extracted to."""
    source = Path(path)
    if source.is_dir():
        manifest = source / MANIFEST_NAME
        if not manifest.is_file():
            raise BundleError(f"no {MANIFEST_NAME} in {source}")
        return _parse_manifest(manifest.read_bytes())
    try:
        with zipfile.ZipFile(source) as archive:
            return _parse_manifest(archive.read(MANIFEST_NAME))
    except KeyError as exc:
        raise BundleError(f"no {MANIFEST_NAME} in {source}") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"{source} is not a readable zip: {exc}") from exc


def _check(
    entries: Sequence[ManifestEntry], present: dict[str, tuple[int, str] | None]
) -> BundleCheck:
    missing, altered = [], []
    for entry in entries:
        found = present.get(entry.file)
        if found is None:
            missing.append(entry.file)
        elif found != (entry.size, entry.sha256):
            altered.append(entry.file)
    return BundleCheck(
        checked=len(entries),
        missing=tuple(missing),
        altered=tuple(altered),
        unexpected=(),
    )


def verify_bundle(path: Path | str) -> BundleCheck:
    """Recompute every listed file's size and SHA-256; report missing, altered and unlisted files.

    ``path`` is the zip or a folder the zip was extracted to. Raises :class:`BundleError` when
    there is no readable manifest.
    """
    source = Path(path)
    entries = read_manifest(source)
    listed = {entry.file for entry in entries}
    present: dict[str, tuple[int, str] | None] = {}
    if source.is_dir():
        root = source.resolve()
        for entry in entries:
            file = (root / entry.file).resolve()
            if file.is_relative_to(root) and file.is_file():
                present[entry.file] = (file.stat().st_size, sha256_file(file))
        on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {
            MANIFEST_NAME
        }
    else:
        with zipfile.ZipFile(source) as archive:
            names = {info.filename for info in archive.infolist() if not info.is_dir()}
            for entry in entries:
                if entry.file in names:
                    digest = hashlib.sha256()
                    size = 0
                    try:
                        with archive.open(entry.file) as member:
                            while chunk := member.read(_CHUNK):
                                digest.update(chunk)
                                size += len(chunk)
                    except (zipfile.BadZipFile, OSError):
                        # A damaged member (CRC mismatch) is an altered file.
                        present[entry.file] = (-1, "")
                        continue
                    present[entry.file] = (size, digest.hexdigest())
        on_disk = names - {MANIFEST_NAME}
    check = _check(entries, present)
    return dataclasses.replace(check, unexpected=tuple(sorted(on_disk - listed)))
