"""Quitting is deterministic: exit status 0 and nothing on stderr, run after run."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Signal

from etcbook.ui.pages import discover_pages

RUNS = 8
DRIVER = Path(__file__).with_name("quit_driver.py")


class _Sender(QObject):
    changed = Signal(object)


def test_emitting_signals_keeps_the_references_to_true_and_none(qapp) -> None:
    """PySide6 6.12.0 loses a reference to True on each emit (and to None on each Python
    override Qt calls); before Python 3.12 that ends in "bool_dealloc", mostly at quit."""
    sender = _Sender()
    received: list[object] = []
    sender.changed.connect(received.append)
    gc.collect()
    before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(200):
        sender.changed.emit(1)
    QCoreApplication.processEvents()
    received.clear()
    gc.collect()
    after = sys.getrefcount(True), sys.getrefcount(None)
    if sys.version_info >= (3, 12):  # immortal: counts do not move, and nothing can break
        return
    assert after[0] - before[0] > -50, "each emit lost a reference to True"
    assert after[1] - before[1] > -50, "each call lost a reference to None"


def test_the_app_quits_cleanly_after_every_page_was_used(tmp_path: Path, demo_store_path) -> None:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # QSettings of this test, not the user's
        XDG_DATA_HOME=str(tmp_path / "data"),
        HOME=str(tmp_path),
    )
    pages = {spec.key for spec in discover_pages()[0]}
    for run in range(RUNS):
        done = subprocess.run(
            [sys.executable, str(DRIVER), str(demo_store_path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert (run, done.returncode, done.stderr) == (run, 0, "")
        assert set(done.stdout.split()) == pages
        assert not Path(f"{demo_store_path}.lock").exists()
