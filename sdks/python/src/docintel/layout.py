"""Where words are on a page: find a word in a document's layout and turn its box into
pixels of a rendering (its thumbnail, a page image) to highlight it.

A layout (``client.get_document_layout(id)``) gives every word a ``bbox``
``[x0, y0, x1, y1]``: fractions (0 to 1) of the page's width and height, from its top-left
corner, y growing downwards, on the page before its ``rotation``.

>>> from docintel.layout import find_words, to_pixels
>>> layout = client.get_document_layout(doc.id)
>>> total = find_words(layout, "total")[0]
>>> total.word.text, total.page
('Total', 1)
>>> thumb = client.get_document_thumbnail(doc.id)
>>> width, height = png_size(thumb)
>>> max(width, height)
256
>>> box = total.to_pixels(width, height)
>>> 0 <= box.left < box.right <= width and 0 <= box.top < box.bottom <= height
True
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Union

from ._generated.models import DocumentLayout, PageView, WordView

__all__ = ["FoundWord", "PixelBox", "find_words", "png_size", "shown", "to_pixels", "words"]

# A box's numbers come as JSON floats written from f32 (0.2 is 0.2000000030): an edge
# within a thousandth of a pixel of a whole pixel is on it, not rounded out past it.
_SLACK = 1e-3


class PixelBox(NamedTuple):
    """A box in pixels of a rendering: ``left`` and ``top`` are the first column and row
    it covers, ``right`` and ``bottom`` one past the last ones (what PIL's
    ``ImageDraw.rectangle`` takes is ``(left, top, right - 1, bottom - 1)``).

    >>> box = PixelBox(10, 20, 40, 28)
    >>> box.width, box.height
    (30, 8)
    """

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        """Columns covered."""
        return max(0, self.right - self.left)

    @property
    def height(self) -> int:
        """Rows covered."""
        return max(0, self.bottom - self.top)


def _coords(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    """The four numbers, each clamped to 0..1 (missing or not a number: 0), ordered."""
    def at(i: int) -> float:
        v = float(bbox[i]) if i < len(bbox) else 0.0
        return 0.0 if not math.isfinite(v) else min(1.0, max(0.0, v))

    x0, y0, x1, y1 = at(0), at(1), at(2), at(3)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def to_pixels(bbox: Sequence[float], width: int, height: int) -> PixelBox:
    """The normalised box ``bbox`` in pixels of a ``width`` x ``height`` rendering of its
    page, such as its thumbnail (longest side 256 pixels): each edge scaled and rounded
    outwards, within the image. For a page with a ``rotation``, turn the box first with
    ``shown`` (``FoundWord.to_pixels`` does).

    >>> to_pixels([0.1176, 0.0712, 0.2471, 0.0871], 181, 256)  # a word on an A4 thumbnail
    PixelBox(left=21, top=18, right=45, bottom=23)
    >>> to_pixels([1.5, -1, 0.5, float("nan")], 100, 100)  # clamped, ordered
    PixelBox(left=50, top=0, right=100, bottom=0)
    """
    x0, y0, x1, y1 = _coords(bbox)

    def down(v: float, size: int) -> int:
        return min(size, max(0, math.floor(v * size + _SLACK)))

    def up(v: float, size: int) -> int:
        return min(size, max(0, math.ceil(v * size - _SLACK)))

    return PixelBox(down(x0, width), down(y0, height), up(x1, width), up(y1, height))


def shown(page: PageView, bbox: Sequence[float]) -> list[float]:
    """``bbox``, a box on ``page`` as the API gives it, on the page as it is shown: turned
    clockwise by the page's ``rotation`` (0, 90, 180 or 270). The box to scale to a
    rendering of the page; unchanged for a rotation of 0 (as for OCR'd pages).

    >>> from docintel.models import PageView, PageSource, PageUnit
    >>> page = PageView(blocks=[], height=595, number=1, rotation=90,
    ...                 source=PageSource.TEXT_LAYER, unit=PageUnit.PT, width=842)
    >>> shown(page, [0.0, 0.0, 0.25, 0.5])  # the top-left corner turns to the top right
    [0.5, 0.0, 1.0, 0.25]
    """
    x0, y0, x1, y1 = _coords(bbox)
    rotation = page.rotation % 360
    if rotation == 90:
        return [1 - y1, x0, 1 - y0, x1]
    if rotation == 180:
        return [1 - x1, 1 - y1, 1 - x0, 1 - y0]
    if rotation == 270:
        return [y0, 1 - x1, y1, 1 - x0]
    return [x0, y0, x1, y1]


def words(page: PageView) -> Iterator[WordView]:
    """The page's words in reading order (block by block, line by line).

    >>> page = client.get_document_layout(doc.id, pages="1").pages[0]
    >>> " ".join(w.text for w in words(page))
    'INVOICE 2026-117 Total due: 1,250.00 EUR Payment terms: net 30 days'
    """
    for block in page.blocks:
        for line in block.lines:
            yield from line.words


@dataclass(frozen=True)
class FoundWord:
    """A word ``find_words`` found: its page's number, the word (``text``, ``bbox``,
    ``confidence``) and ``bbox``, its box on the page as shown (turned by the page's
    rotation): the box to scale to a rendering.

    >>> found = find_words(client.get_document_layout(doc.id), "due")[0]
    >>> found.page, found.word.text, len(found.bbox)
    (1, 'due:', 4)
    """

    page: int
    word: WordView
    bbox: list[float]

    def to_pixels(self, width: int, height: int) -> PixelBox:
        """The word's box in pixels of a ``width`` x ``height`` rendering of its page.

        >>> found = find_words(client.get_document_layout(doc.id), "total")[0]
        >>> found.to_pixels(181, 256).width > 0
        True
        """
        return to_pixels(self.bbox, width, height)


def _normalise(text: str) -> str:
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return text[start:end].casefold()


def find_words(pages: Union[DocumentLayout, PageView, Iterable[PageView]], text: str) -> list[FoundWord]:
    """The words equal to ``text`` (one word), ignoring case and the punctuation around
    a word (``"total"`` finds ``Total:`` and ``(TOTAL)``), in page and reading order.
    ``pages`` is a layout, a page, or pages (e.g. ``client.iter_layout_pages(id)``, every
    page of a long document).

    >>> [f.word.text for f in find_words(client.iter_layout_pages(doc.id), "TOTAL")]
    ['Total']
    >>> find_words(client.get_document_layout(doc.id), "nowhere")
    []
    """
    wanted = _normalise(text)
    every: Iterable[PageView]
    if isinstance(pages, DocumentLayout):
        every = pages.pages
    elif isinstance(pages, PageView):
        every = [pages]
    else:
        every = pages
    if not wanted:
        return []
    return [
        FoundWord(page.number, word, shown(page, word.bbox))
        for page in every
        for word in words(page)
        if _normalise(word.text) == wanted
    ]


def png_size(png: bytes) -> tuple[int, int]:
    """The width and height of a PNG (a thumbnail), read from its header.

    >>> png_size(client.get_document_thumbnail(doc.id))[0] <= 256
    True
    """
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)
