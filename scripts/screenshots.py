"""Render every page of the window on the demo store to docs/screenshots/*.png.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py [--out docs/screenshots]

Works offscreen or under Xvfb. The demo store and the settings live in a temporary folder;
the user's store and settings are never touched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WINDOW_SIZE = (1360, 860)


def settle(app, window, seconds: float = 0.3) -> None:  # type: ignore[no-untyped-def]
    """Let queued work, background loads and repaints finish."""
    deadline = time.monotonic() + 30
    while window.context.operations.busy and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSettings

    from etcbook.models.demo import fill_demo
    from etcbook.models.store import open_store
    from etcbook.ui.app import make_application, make_main_window

    app = make_application()
    with tempfile.TemporaryDirectory(prefix="etcbook-shots-") as folder:
        tmp = Path(folder)
        settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
        demo = tmp / "demo.sqlite3"
        store = open_store(demo)
        fill_demo(store)
        store.close()

        written: list[Path] = []

        # First start: an empty store shows the welcome page.
        empty = make_main_window(tmp / "empty.sqlite3", settings=settings, sample_path=demo)
        empty.resize(*WINDOW_SIZE)
        empty.show()
        empty.context.open_store_now()
        settle(app, empty)
        path = args.out / "00_welcome.png"
        empty.grab().save(str(path))
        written.append(path)
        empty.close()

        window = make_main_window(demo, settings=settings, sample_path=demo)
        window.resize(*WINDOW_SIZE)
        window.show()
        window.context.open_store_now()
        settle(app, window)
        for number, spec in enumerate(window.page_specs, start=1):
            window.show_page(spec.key)
            settle(app, window, 0.6)
            path = args.out / f"{number:02d}_{spec.key}.png"
            window.grab().save(str(path))
            written.append(path)
        window.close()
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
