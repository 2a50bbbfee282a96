"""The claim PDF: Japanese text, totals that add up, an embedded subset font, pages numbered."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path
from typing import Any

import pypdf
import pytest
from PIL import Image

from etcbook.domain.claims import Claim
from etcbook.export.claim_pdf import claim_pdf_bytes, write_claim_pdf, yen
from etcbook.export.sample import sample_claim

HEADINGS = (
    "経費精算書",
    "申請者",
    "所属",
    "カード名義",
    "ETCカード",
    "ETCマイレージID",
    "対象期間",
    "走行明細",
    "精算額 合計",
    "備考",
    "私用分の除外について",
    "添付書類（電子原本）",
    "承認者",
)


@pytest.fixture(scope="module")
def long_claim() -> Claim:
    return sample_claim(90)


@pytest.fixture(scope="module")
def long_pdf(long_claim: Claim, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_claim_pdf(long_claim, tmp_path_factory.mktemp("pdf") / "claim.pdf")


@pytest.fixture(scope="module")
def reader(long_pdf: Path) -> pypdf.PdfReader:
    return pypdf.PdfReader(long_pdf)


def all_text(reader: pypdf.PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def test_carries_the_japanese_headings(reader: pypdf.PdfReader) -> None:
    text = all_text(reader)
    for heading in HEADINGS:
        assert heading in text, heading
    assert "朝夕割引" in text and "翌月20日" in text
    assert "還元額充当" in text


def test_claimed_total_equals_the_sum_of_the_trips(
    reader: pypdf.PdfReader, long_claim: Claim
) -> None:
    text = all_text(reader)
    expected = sum(line.claimed for line in long_claim.lines)
    found = re.search(r"精算額 合計\s*([\d,]+) 円", text)
    assert found is not None
    assert int(found.group(1).replace(",", "")) == expected
    assert f"精算金額 {yen(expected)} 円" in text
    private = sum(line.billed - line.claimed for line in long_claim.lines)
    assert f"除外した私用分の合計：{yen(private)} 円" in text


def test_attached_originals_are_listed_with_their_digests(
    reader: pypdf.PdfReader, long_claim: Claim
) -> None:
    text = all_text(reader)
    for original in long_claim.attachments:
        assert original.sha256 in text
        assert original.file_name in text


def fonts_of(reader: pypdf.PdfReader) -> dict[str, Any]:
    fonts: dict[str, Any] = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[str(font["/BaseFont"])] = font
    return fonts


def test_the_japanese_font_is_embedded_as_a_subset(reader: pypdf.PdfReader) -> None:
    ipa = {name: font for name, font in fonts_of(reader).items() if "IPAexGothic" in name}
    assert ipa, "IPAexGothic not used"
    for name, font in ipa.items():
        assert re.fullmatch(r"/[A-Z]{6}\+IPAexGothic", name), name  # subset tag
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, name
        assert len(descriptor["/FontFile2"].get_object().get_data()) < 1_000_000
        assert "/ToUnicode" in font


def test_header_row_repeats_and_pages_are_numbered(reader: pypdf.PdfReader) -> None:
    pages = [page.extract_text() for page in reader.pages]
    total = len(pages)
    assert total >= 3
    for number, text in enumerate(pages, start=1):
        assert f"{number} / {total}" in text
    table_pages = [text for text in pages if "本社会議" in text]
    assert len(table_pages) >= 2
    for text in table_pages:
        assert "利用日時（出口）" in text and "精算額" in text


def test_metadata(reader: pypdf.PdfReader) -> None:
    meta = reader.metadata
    assert meta is not None
    assert meta.title == "経費精算書 2025-11 ETCカード末尾1234"
    assert meta.author == "山田 太郎"
    assert meta.creator == "etcbook"


def test_a_rendered_page_is_not_blank(long_pdf: Path, render_png: Any) -> None:
    png = render_png(long_pdf, page=1, dpi=50)
    with Image.open(png) as image:
        gray = image.convert("L")
        width, height = gray.size
        assert (width, height) == pytest.approx((413, 585), abs=2)  # A4 at 50 dpi
        histogram = gray.histogram()
    dark = sum(histogram[:160])
    assert 0.01 < dark / (width * height) < 0.5


def test_mileage_id_is_omitted_when_not_given_and_empty_claim_renders() -> None:
    claim = sample_claim(0)
    claim = dataclasses.replace(
        claim, header=dataclasses.replace(claim.header, mileage_id=None), attachments=()
    )
    reader = pypdf.PdfReader(io.BytesIO(claim_pdf_bytes(claim)))
    text = all_text(reader)
    assert "ETCマイレージID" not in text
    assert "精算する走行はありません" in text
    assert "添付書類はありません" in text
    assert re.search(r"精算額 合計\s*0 円", text)


def test_long_names_are_wrapped_not_clipped() -> None:
    claim = sample_claim(1)
    long_purpose = "長い目的の説明" * 8
    line = dataclasses.replace(claim.lines[0], purpose=long_purpose)
    reader = pypdf.PdfReader(io.BytesIO(claim_pdf_bytes(dataclasses.replace(claim, lines=(line,)))))
    text = reader.pages[0].extract_text().replace("\n", "")
    assert long_purpose in text
