"""Phase marks of the store's write transactions, for the crash tests.

With the environment variable ``ETCBOOK_PHASE_LOG`` naming a file, a job appends one line per
step of its write transaction: ``<pid> <job> <event> <monotonic seconds>``, where ``event`` is
``start`` (the transaction has begun), ``commit`` (about to commit) or ``end`` (committed or
rolled back). The tests in ``tests/robust`` read the file after killing a process to tell a
kill that landed while the job was writing from one before or after it. Each line goes to the
operating system in one unbuffered append, so it survives the process being killed.

Unset (as it always is for users), :func:`mark` returns at once and nothing else changes.
"""

from __future__ import annotations

import os
import time

ENV = "ETCBOOK_PHASE_LOG"

_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)


def mark(job: str, event: str) -> None:
    """Append ``job event`` to the phase log, when one is set."""
    log = os.environ.get(ENV)
    if not log:
        return
    fd = os.open(log, _FLAGS, 0o600)
    try:
        os.write(fd, f"{os.getpid()} {job} {event} {time.monotonic():.6f}\n".encode())
    finally:
        os.close(fd)
