"""Shared fixtures for the export tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

PngRenderer = Callable[..., Path]


@pytest.fixture
def render_png(tmp_path: Path) -> PngRenderer:
    """Render one page of a PDF to PNG with PDFium (pypdfium2, a dependency); returns the PNG path."""
    import pypdfium2

    def render(pdf: Path, *, page: int = 1, dpi: int = 60) -> Path:
        document = pypdfium2.PdfDocument(pdf)
        try:
            image = document[page - 1].render(scale=dpi / 72).to_pil()
        finally:
            document.close()
        target = tmp_path / f"{pdf.stem}-p{page}-{dpi}.png"
        image.save(target)
        return target

    return render
