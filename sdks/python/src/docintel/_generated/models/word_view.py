from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="WordView")


@_attrs_define
class WordView:
    """A word and where it is.

    Attributes:
        bbox (list[float]): A box on the page: `[x0, y0, x1, y1]`, each from 0 to 1 of the page's width (x) or
            height (y), from the page's top-left corner, y growing downwards. Multiply by the
            page's `width` and `height` for its own unit, or by a rendering's size in pixels. Example: [0.1176, 0.0712,
            0.3468, 0.0871].
        text (str):  Example: INVOICE.
        confidence (float | None | Unset): Tesseract's confidence in the word, from 0 to 1; null for words of a PDF's
            text
            layer. Example: 0.96.
    """

    bbox: list[float]
    text: str
    confidence: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bbox = self.bbox

        text = self.text

        confidence: float | None | Unset
        if isinstance(self.confidence, Unset):
            confidence = UNSET
        else:
            confidence = self.confidence

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bbox": bbox,
                "text": text,
            }
        )
        if confidence is not UNSET:
            field_dict["confidence"] = confidence

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        bbox = cast(list[float], d.pop("bbox"))

        text = d.pop("text")

        def _parse_confidence(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        confidence = _parse_confidence(d.pop("confidence", UNSET))

        word_view = cls(
            bbox=bbox,
            text=text,
            confidence=confidence,
        )

        word_view.additional_properties = d
        return word_view

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
