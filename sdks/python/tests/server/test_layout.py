"""Layouts, Markdown and searchable PDFs through the SDK, against a real server."""

import asyncio
import shutil
import subprocess

import pytest

import docintel
from conftest import INVOICE_PDF, REPO
from docintel.layout import find_words, png_size

THREE_PAGES = REPO / "backend" / "benches" / "layout" / "corpus" / "three-pages.pdf"


@pytest.fixture
def client(server):
    base_url, key = server
    with docintel.Client(base_url, key) as c:
        yield c


def test_a_layout_range_at_a_time_and_every_page_through_the_iterator(client, server):
    doc = client.upload_and_wait(THREE_PAGES, timeout=60)
    first = client.get_document_layout(doc.id, pages="1-2")
    assert (first.page_count, [p.number for p in first.pages], first.next_pages) == (3, [1, 2], "3-3")
    assert [p.number for p in client.iter_layout_pages(doc.id)] == [1, 2, 3]
    found = find_words(client.iter_layout_pages(doc.id), "Provider")
    assert {f.page for f in found} >= {1, 2}
    for f in found:
        assert 0 <= f.bbox[0] < f.bbox[2] <= 1 and 0 <= f.bbox[1] < f.bbox[3] <= 1

    async def pages():
        async with docintel.AsyncClient(*server) as c:
            return [p.number async for p in c.iter_layout_pages(doc.id)]
    assert asyncio.run(pages()) == [1, 2, 3]


def test_a_bad_range_and_a_text_document_are_typed_errors(client):
    doc = client.upload_and_wait(INVOICE_PDF, timeout=60)
    with pytest.raises(docintel.BadRequestError) as e:
        client.get_document_layout(doc.id, pages="3-1")
    assert e.value.code == "invalid_parameter"
    text = client.upload_and_wait(b"just text", filename="note.txt", timeout=60)
    with pytest.raises(docintel.NotFoundError):
        client.get_document_layout(text.id)
    with pytest.raises(docintel.NotFoundError):
        client.get_searchable_pdf(doc.id)  # a PDF with a text layer has none
    assert doc.metadata.searchable_pdf in (False, None)


def test_the_word_box_on_the_thumbnail(client):
    doc = client.upload_and_wait(INVOICE_PDF, timeout=60)
    total = find_words(client.get_document_layout(doc.id), "total")
    assert [(f.page, f.word.text) for f in total] == [(1, "Total")]
    width, height = png_size(client.get_document_thumbnail(doc.id))
    assert max(width, height) == 256
    box = total[0].to_pixels(width, height)
    assert 0 <= box.left < box.right <= width and 0 <= box.top < box.bottom <= height


def test_markdown_is_the_text_as_markdown(client):
    doc = client.upload_and_wait(INVOICE_PDF, timeout=60)
    markdown = client.get_document_markdown(doc.id)
    assert "INVOICE" in markdown and "Total" in markdown


def test_a_scan_read_by_ocr_has_a_searchable_pdf(client, tmp_path):
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (poppler-utils) makes the scan: not installed")
    subprocess.run([pdftoppm, "-png", "-r", "150", "-singlefile", str(INVOICE_PDF), str(tmp_path / "scan")],
                   check=True)
    doc = client.upload_and_wait(tmp_path / "scan.png", timeout=120)
    if "ocr_unavailable" in doc.warnings:
        pytest.skip("the server has no OCR")
    assert doc.metadata.searchable_pdf is True
    assert isinstance(doc.metadata.ocr_confidence, float) and 0 <= doc.metadata.ocr_confidence <= 1
    assert [p.page for p in doc.metadata.ocr_pages] == [1]
    pdf = client.get_searchable_pdf(doc.id)
    assert pdf.startswith(b"%PDF-")
    page = client.get_document_layout(doc.id).pages[0]
    assert page.source.value == "ocr"
    assert [f.word.text for f in find_words(page, "invoice")] == ["INVOICE"]
