from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.word_view import WordView


T = TypeVar("T", bound="LineView")


@_attrs_define
class LineView:
    """A line of words, left to right.

    Attributes:
        bbox (list[float]): A box on the page: `[x0, y0, x1, y1]`, each from 0 to 1 of the page's width (x) or
            height (y), from the page's top-left corner, y growing downwards. Multiply by the
            page's `width` and `height` for its own unit, or by a rendering's size in pixels. Example: [0.1176, 0.0712,
            0.3468, 0.0871].
        words (list[WordView]): Bounded by the layout's size limit, as every list of a layout.
    """

    bbox: list[float]
    words: list[WordView]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bbox = self.bbox

        words = []
        for words_item_data in self.words:
            words_item = words_item_data.to_dict()
            words.append(words_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bbox": bbox,
                "words": words,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.word_view import WordView

        d = dict(src_dict)
        bbox = cast(list[float], d.pop("bbox"))

        words = []
        _words = d.pop("words")
        for words_item_data in _words:
            words_item = WordView.from_dict(words_item_data)

            words.append(words_item)

        line_view = cls(
            bbox=bbox,
            words=words,
        )

        line_view.additional_properties = d
        return line_view

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
