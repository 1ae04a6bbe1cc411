from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.page_view import PageView


T = TypeVar("T", bound="DocumentLayout")


@_attrs_define
class DocumentLayout:
    """Pages of a document with their words and boxes.

    Attributes:
        document_id (UUID):  Example: 0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11.
        ocr_page_limit (int): OCR reads at most this many pages of a scan (the first ones); later pages have
            `source` `none`. Example: 20.
        page_count (int): Pages in the document (those returned are `pages`). Example: 2.
        pages (list[PageView]): The pages asked for, in order.
        next_pages (None | str | Unset): The `pages` value of the next range; null after the last page.
    """

    document_id: UUID
    ocr_page_limit: int
    page_count: int
    pages: list[PageView]
    next_pages: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        document_id = str(self.document_id)

        ocr_page_limit = self.ocr_page_limit

        page_count = self.page_count

        pages = []
        for pages_item_data in self.pages:
            pages_item = pages_item_data.to_dict()
            pages.append(pages_item)

        next_pages: None | str | Unset
        if isinstance(self.next_pages, Unset):
            next_pages = UNSET
        else:
            next_pages = self.next_pages

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "document_id": document_id,
                "ocr_page_limit": ocr_page_limit,
                "page_count": page_count,
                "pages": pages,
            }
        )
        if next_pages is not UNSET:
            field_dict["next_pages"] = next_pages

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.page_view import PageView

        d = dict(src_dict)
        document_id = UUID(d.pop("document_id"))

        ocr_page_limit = d.pop("ocr_page_limit")

        page_count = d.pop("page_count")

        pages = []
        _pages = d.pop("pages")
        for pages_item_data in _pages:
            pages_item = PageView.from_dict(pages_item_data)

            pages.append(pages_item)

        def _parse_next_pages(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        next_pages = _parse_next_pages(d.pop("next_pages", UNSET))

        document_layout = cls(
            document_id=document_id,
            ocr_page_limit=ocr_page_limit,
            page_count=page_count,
            pages=pages,
            next_pages=next_pages,
        )

        document_layout.additional_properties = d
        return document_layout

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
