"""Draw the application icon's bitmaps from etcbook/resources/icons/etcbook.svg.

    .venv/bin/python scripts/make_icons.py

Writes etcbook.png (256 px: the window icon, the Linux .desktop icon) and etcbook.ico (16–256 px:
the Windows executable) beside the SVG. Qt renders the SVG; Pillow (a matplotlib dependency)
packs the .ico. The outputs are committed; run this again after changing the SVG.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "etcbook" / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(size: int) -> bytes:
    """The SVG drawn at ``size`` × ``size`` pixels, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(ICONS / "etcbook.svg"))
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    largest = render(256)
    (ICONS / "etcbook.png").write_bytes(largest)
    images = [Image.open(io.BytesIO(render(size))) for size in SIZES]
    images[-1].save(ICONS / "etcbook.ico", sizes=[(s, s) for s in SIZES], append_images=images[:-1])
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
