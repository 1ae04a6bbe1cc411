"""The layout helpers (boxes to pixels, rotation, finding words) and iter_layout_pages
following next_pages. httpx.MockTransport stands in for the server where a real one
cannot be made to give the answer: a document of 45 pages split over three ranges."""

import asyncio
import math

import httpx
import pytest

import docintel
from docintel.layout import PixelBox, find_words, png_size, shown, to_pixels, words
from docintel.models import PageView

ID = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11"


def page(number, words_=(), rotation=0):
    line = {"bbox": [0, 0, 1, 1], "words": [{"text": t, "bbox": b} for t, b in words_]}
    return {"number": number, "width": 612, "height": 792, "unit": "pt", "rotation": rotation,
            "source": "text_layer", "confidence": None, "blocks": [{"bbox": [0, 0, 1, 1], "lines": [line]}]}


def test_boxes_scale_to_pixels_rounded_outwards_within_the_image():
    assert to_pixels([0.1, 0.25, 0.5, 0.5], 256, 200) == PixelBox(25, 50, 128, 100)
    # 0.1 x 256 = 25.6 starts in column 25; 0.501 x 256 = 128.3 ends past column 128.
    assert to_pixels([0.1, 0.0, 0.501, 1.0], 256, 181) == PixelBox(25, 0, 129, 181)
    # f32 noise does not push an edge out by a pixel (0.2 as f32 is 0.2000000030).
    assert to_pixels([0.10000000149, 0.5, 0.20000000298, 0.51999998093], 100, 100) == PixelBox(10, 50, 20, 52)
    assert to_pixels([], 10, 10) == PixelBox(0, 0, 0, 0)
    assert to_pixels([0.2, 0.2, 0.8, 0.8], 0, 0).width == 0
    assert to_pixels([0.9, 0.9, 0.1, 0.1], 10, 10) == PixelBox(1, 1, 9, 9)


@pytest.mark.parametrize("rotation, expected", [
    (0, [0.1, 0.2, 0.3, 0.6]), (90, [0.4, 0.1, 0.8, 0.3]),
    (180, [0.7, 0.4, 0.9, 0.8]), (270, [0.2, 0.7, 0.6, 0.9]), (360, [0.1, 0.2, 0.3, 0.6]),
])
def test_rotated_pages_turn_boxes_clockwise(rotation, expected):
    p = PageView.from_dict(page(1, rotation=rotation))
    assert all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(shown(p, [0.1, 0.2, 0.3, 0.6]), expected))


def test_words_are_found_ignoring_case_and_punctuation_with_their_page():
    layout = docintel.models.DocumentLayout.from_dict({
        "document_id": ID, "page_count": 2, "ocr_page_limit": 20, "next_pages": None,
        "pages": [page(1, [("Subtotal", [0.1, 0.1, 0.2, 0.12]), ("Total:", [0.1, 0.5, 0.2, 0.52]),
                           ("1,250.00", [0.3, 0.5, 0.4, 0.52])]),
                  page(2, [("(TOTAL)", [0.0, 0.0, 0.5, 0.5])], rotation=90)],
    })
    assert [w.text for w in words(layout.pages[0])] == ["Subtotal", "Total:", "1,250.00"]
    found = find_words(layout, "total")
    assert [(f.page, f.word.text) for f in found] == [(1, "Total:"), (2, "(TOTAL)")]
    assert found[0].to_pixels(100, 100) == PixelBox(10, 50, 20, 52)
    assert found[1].bbox == [0.5, 0.0, 1.0, 0.5]  # as shown: the page is turned 90°
    assert found[1].word.bbox == [0.0, 0.0, 0.5, 0.5]  # as the API gave it
    assert len(find_words(layout.pages[0], "1,250.00")) == 1
    assert len(find_words(iter(layout.pages), "TOTAL")) == 2
    assert find_words(layout, "") == [] and find_words(layout, "::") == []


def test_png_size_reads_the_header():
    header = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (181).to_bytes(4, "big") + (256).to_bytes(4, "big")
    assert png_size(header + b"\x08\x06\x00\x00\x00") == (181, 256)
    with pytest.raises(ValueError):
        png_size(b"GIF89a" + b"\x00" * 30)


def ranges():
    """A 45-page document answered 20 pages at a time, as the server does."""
    asked = []

    def handler(request):
        assert request.url.path == f"/v2/documents/{ID}/layout"
        pages = request.url.params.get("pages")
        asked.append(pages)
        first, last, after = {None: (1, 20, "21-40"), "21-40": (21, 40, "41-45"), "41-45": (41, 45, None)}[pages]
        return httpx.Response(200, json={
            "document_id": ID, "page_count": 45, "ocr_page_limit": 20, "next_pages": after,
            "pages": [page(n, [(f"w{n}", [0.1, 0.1, 0.2, 0.2])]) for n in range(first, last + 1)],
        })
    return handler, asked


def test_iter_layout_pages_follows_next_pages():
    handler, asked = ranges()
    client = docintel.Client("http://docintel.test", "dik_test", transport=httpx.MockTransport(handler))
    numbers = [p.number for p in client.iter_layout_pages(ID)]
    assert numbers == list(range(1, 46))
    assert asked == [None, "21-40", "41-45"]
    assert [f.page for f in find_words(client.iter_layout_pages(ID), "w44")] == [44]


def test_async_iter_layout_pages_follows_next_pages():
    handler, asked = ranges()

    async def main():
        async with docintel.AsyncClient("http://docintel.test", "dik_test",
                                        transport=httpx.MockTransport(handler)) as client:
            return [p.number async for p in client.iter_layout_pages(ID)]
    assert asyncio.run(main()) == list(range(1, 46))
    assert asked == [None, "21-40", "41-45"]


def test_markdown_asks_for_format_markdown_and_the_pdf_comes_as_bytes():
    seen = []

    def handler(request):
        seen.append((request.url.path, dict(request.url.params)))
        if request.url.path.endswith("/text"):
            return httpx.Response(200, text="# INVOICE\n", headers={"Content-Type": "text/markdown; charset=utf-8"})
        return httpx.Response(200, content=b"%PDF-1.7\n", headers={"Content-Type": "application/pdf"})
    client = docintel.Client("http://docintel.test", "dik_test", transport=httpx.MockTransport(handler))
    assert client.get_document_markdown(ID) == "# INVOICE\n"
    assert client.get_searchable_pdf(ID) == b"%PDF-1.7\n"
    assert seen == [(f"/v2/documents/{ID}/text", {"format": "markdown"}),
                    (f"/v2/documents/{ID}/searchable.pdf", {})]
