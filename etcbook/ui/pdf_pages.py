"""PDF pages drawn as pictures for the window (pypdfium2: PDFium's wheel, no poppler, and Qt's
QtPdf is not part of pyside6-essentials)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage, QPixmap


def render_pdf_pages(
    source: Path | bytes, width: int, pixel_ratio: float = 1.0, *, first_only: bool = False
) -> list[QPixmap]:
    """Every page of the PDF (or only the first), ``width`` logical pixels wide, drawn with
    ``pixel_ratio`` device pixels per logical one so that it stays sharp on scaled screens."""
    import pypdfium2

    pixel_ratio = max(1.0, pixel_ratio)
    device_width = round(width * pixel_ratio)
    document = pypdfium2.PdfDocument(str(source) if isinstance(source, Path) else source)
    pictures: list[QPixmap] = []
    try:
        for index in range(1 if first_only else len(document)):
            page = document[index]
            try:
                bitmap = page.render(scale=device_width / page.get_width(), rev_byteorder=True)
                image = QImage(
                    bytes(bitmap.buffer),
                    bitmap.width,
                    bitmap.height,
                    bitmap.stride,
                    QImage.Format.Format_RGB888,  # RGB, no Pillow needed
                ).copy()
            finally:
                page.close()
            picture = QPixmap.fromImage(image)
            picture.setDevicePixelRatio(pixel_ratio)
            pictures.append(picture)
    finally:
        document.close()
    return pictures
