"""What the import preview shows of a file beyond its counts: passage rows, charges at an
entry gate, and the gates no route rule knows.

The preview's dry run says how many rows a file adds; this reads the same file again and tells
the rows' shapes (:class:`FileGateFacts`) and which gates would leave a trip's operator a mere
guess, resolved exactly as the import resolves them (the user's route rules, then the default
gate rules: :func:`etcbook.models.routes.resolver_for`). A gate is counted as the import's
:func:`~etcbook.models.routes.unknown_gates` counts stored ones: the gate a row was charged at
(its exit, or its entry when it has none) and, for a row with both, its entry gate.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from etcbook.importers.meisai import LineError, MeisaiReader
from etcbook.models.routes import resolver_for
from etcbook.safeio import display_name


@dataclass(frozen=True)
class UnknownFileGate:
    """A gate of the file no rule knows: its name and how many rows name it."""

    gate: str
    trips: int
    passages: int


@dataclass(frozen=True)
class FileGateFacts:
    """The rows of one file by shape, and its gates no rule knows (most rows first).

    Attributes:
        file: the file's display name (as :class:`~etcbook.models.imports.FileResult` has it).
        passages: rows whose amounts are a bare ``－`` (通過: no charge of their own).
        entry_charges: charged rows without an exit (flat-rate urban expressways charge on entry).
        unknown: gates no route rule knows.
    """

    file: str
    passages: int
    entry_charges: int
    unknown: tuple[UnknownFileGate, ...]


def file_gate_facts(*, connection: Connection, path: Path) -> FileGateFacts:
    """Read ``path`` (a 明細CSV) and tell its rows' shapes and unknown gates (read-only).

    Lines with errors are skipped (the preview lists them); raises what the reader raises for a
    file that is not a 明細CSV at all.
    """
    db = connection.connection.driver_connection
    assert isinstance(db, sqlite3.Connection)
    resolver = resolver_for(db)
    passages = entry_charges = 0
    counts: dict[str, list[int]] = {}
    routes: dict[tuple[str, str], str | None] = {}
    with path.open("rb") as stream:
        for row in MeisaiReader(stream, display_name(path)):
            if isinstance(row, LineError):
                continue
            passage = row.toll is None
            passages += passage
            entry_charges += not passage and row.exit_ic is None and row.entry_ic is not None
            entry, exit_ = row.entry_ic or "", row.exit_ic or ""
            if (entry, exit_) not in routes:
                routes[(entry, exit_)] = resolver.resolve(entry, exit_)[0]
            if routes[(entry, exit_)] is not None:
                continue
            gates = [exit_ or entry]
            if exit_ and entry:
                gates.append(entry)
            for gate in gates:
                if gate:
                    counts.setdefault(gate, [0, 0])[1 if passage else 0] += 1
    unknown = sorted(
        (UnknownFileGate(gate, trips, kept) for gate, (trips, kept) in counts.items()),
        key=lambda g: (-(g.trips + g.passages), g.gate),
    )
    return FileGateFacts(display_name(path), passages, entry_charges, tuple(unknown))
