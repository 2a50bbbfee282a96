"""The audit log as CSV (UTF-8 with BOM, CRLF, formula injection neutralised)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from etcbook.export.claim_csv import CSV_ENCODING, csv_text
from etcbook.safeio import write_bytes_atomically as atomic_write_bytes

AUDIT_HEADER = (
    "ID",
    "日時",
    "OSユーザー",
    "対象",
    "対象ID",
    "操作",
    "項目",
    "変更前",
    "変更後",
    "理由",
)


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def audit_csv_bytes(entries: Iterable[Mapping[str, Any]]) -> bytes:
    rows = [
        (
            e["id"],
            e["at"],
            e["os_user"],
            e["entity"],
            e["entity_id"],
            e["action"],
            e["field"] or "",
            _value(e["old"]),
            _value(e["new"]),
            e["reason"],
        )
        for e in entries
    ]
    return csv_text([AUDIT_HEADER, *rows]).encode(CSV_ENCODING)


def write_audit_csv(entries: Iterable[Mapping[str, Any]], path: Path | str) -> Path:
    """Write the audit log CSV atomically."""
    return atomic_write_bytes(path, audit_csv_bytes(entries))
