"""Counts and notes the tests report at the end of the run, whatever order the tests ran in.

A test adds to a count with ``tally.count(group, what)`` or leaves a line with
``tally.note(group, text)``; ``pytest_terminal_summary`` in ``tests/conftest.py`` prints them
all after the results. Under pytest-xdist every worker hands its counts to the controller
when it finishes (``workeroutput``), and the controller adds them up, so the summary covers
the whole run however the tests were spread.

Imported as ``tally`` (pytest puts ``tests/`` on ``sys.path`` for ``tests/conftest.py``).
"""

from __future__ import annotations

from collections import Counter

COUNTS: dict[str, Counter[str]] = {}
NOTES: dict[str, list[str]] = {}
MAX_LISTED = 12
"""A group with more kinds of count than this prints only its total and how many kinds."""


def count(group: str, what: str, n: int = 1) -> None:
    """Add ``n`` to the count ``what`` of ``group`` (e.g. inputs fuzzed per target)."""
    COUNTS.setdefault(group, Counter())[what] += n


def note(group: str, text: str) -> None:
    """A line for the summary under ``group`` (e.g. how many kills of a run landed mid-write)."""
    NOTES.setdefault(group, []).append(text)


def dump() -> dict[str, object]:
    """This process's counts and notes as plain data (what a worker sends the controller)."""
    return {
        "counts": {group: dict(counts) for group, counts in COUNTS.items()},
        "notes": {group: list(lines) for group, lines in NOTES.items()},
    }


def merge(data: dict[str, object]) -> None:
    """Add another process's :func:`dump` to this one's."""
    counts = data.get("counts", {})
    notes = data.get("notes", {})
    assert isinstance(counts, dict) and isinstance(notes, dict)
    for group, values in counts.items():
        COUNTS.setdefault(group, Counter()).update(values)
    for group, lines in notes.items():
        NOTES.setdefault(group, []).extend(lines)


def summary() -> list[str]:
    """The lines of the end-of-run report, one block per group."""
    lines: list[str] = []
    for group in sorted(COUNTS.keys() | NOTES.keys()):
        counts = COUNTS.get(group, Counter())
        total = sum(counts.values())
        head = f"{group}: {total:,}" if counts else f"{group}:"
        if len(counts) > MAX_LISTED:
            head += f" over {len(counts):,} kinds"
        lines.append(head)
        if len(counts) <= MAX_LISTED:
            lines += [f"  {what}: {n:,}" for what, n in sorted(counts.items())]
        lines += [f"  {text}" for text in NOTES.get(group, [])]
    return lines
