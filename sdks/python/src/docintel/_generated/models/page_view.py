from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.page_source import PageSource
from ..models.page_unit import PageUnit
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.block_view import BlockView


T = TypeVar("T", bound="PageView")


@_attrs_define
class PageView:
    """One page: its size, where its words came from, and its blocks in reading order.

    Attributes:
        blocks (list[BlockView]): In reading order.
        height (float):  Example: 841.89.
        number (int): 1-based. Example: 1.
        rotation (int): Clockwise degrees the page is shown turned by (0, 90, 180 or 270); boxes are on
            the page before that turn. OCR'd pages are described as shown (0). Example: 0.
        source (PageSource): Where a page's words came from: `text_layer` (the PDF's own text), `ocr` (read from
            the page's image) or `none` (no words: OCR unavailable on this server, the page past
            the OCR page limit, or past the layout size limit).
        unit (PageUnit): The unit of a page's `width` and `height`: `pt` (PDF points, 1/72 inch) or `px`
            (image pixels).
        width (float):  Example: 595.28.
        confidence (float | None | Unset): Mean confidence of the page's OCR'd words, from 0 to 1; null for other pages.
    """

    blocks: list[BlockView]
    height: float
    number: int
    rotation: int
    source: PageSource
    unit: PageUnit
    width: float
    confidence: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        blocks = []
        for blocks_item_data in self.blocks:
            blocks_item = blocks_item_data.to_dict()
            blocks.append(blocks_item)

        height = self.height

        number = self.number

        rotation = self.rotation

        source = self.source.value

        unit = self.unit.value

        width = self.width

        confidence: float | None | Unset
        if isinstance(self.confidence, Unset):
            confidence = UNSET
        else:
            confidence = self.confidence

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "blocks": blocks,
                "height": height,
                "number": number,
                "rotation": rotation,
                "source": source,
                "unit": unit,
                "width": width,
            }
        )
        if confidence is not UNSET:
            field_dict["confidence"] = confidence

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.block_view import BlockView

        d = dict(src_dict)
        blocks = []
        _blocks = d.pop("blocks")
        for blocks_item_data in _blocks:
            blocks_item = BlockView.from_dict(blocks_item_data)

            blocks.append(blocks_item)

        height = d.pop("height")

        number = d.pop("number")

        rotation = d.pop("rotation")

        source = PageSource(d.pop("source"))

        unit = PageUnit(d.pop("unit"))

        width = d.pop("width")

        def _parse_confidence(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        confidence = _parse_confidence(d.pop("confidence", UNSET))

        page_view = cls(
            blocks=blocks,
            height=height,
            number=number,
            rotation=rotation,
            source=source,
            unit=unit,
            width=width,
            confidence=confidence,
        )

        page_view.additional_properties = d
        return page_view

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
