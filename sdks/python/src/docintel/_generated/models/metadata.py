from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.ocr_page_confidence import OcrPageConfidence


T = TypeVar("T", bound="Metadata")


@_attrs_define
class Metadata:
    """Facts about the stored bytes and what processing found in them.

    Attributes:
        content_type (str): Detected from the bytes, never from the file name. Example: application/pdf.
        sha256 (str): Lower-case hex SHA-256 of the stored bytes. Example:
            9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.
        size_bytes (int): Size of the stored bytes. Example: 48213.
        char_count (int | None | Unset): Characters in the extracted text; null until processed. Example: 1874.
        language (None | str | Unset): ISO 639-3 code of the text's language (e.g. `eng`); null when it cannot be told.
            Example: eng.
        ocr_confidence (float | None | Unset): Mean OCR confidence of the document's words, from 0 to 1, when OCR read
            words
            (images and scans): route a low one to a person. Null otherwise. Example: 0.91.
        ocr_pages (list[OcrPageConfidence] | Unset): Each OCR'd page's mean confidence (OCR reads at most 20 pages);
            empty when OCR read
            nothing. Example: [].
        page_count (int | None | Unset): Pages of a PDF; null for other types and until processed. Example: 2.
        searchable_pdf (bool | Unset): Whether `GET /v2/documents/{id}/searchable.pdf` has a searchable PDF of the
            document (images and scans that OCR read). Example: False.
        word_count (int | None | Unset): Words in the extracted text; null until processed. Example: 312.
    """

    content_type: str
    sha256: str
    size_bytes: int
    char_count: int | None | Unset = UNSET
    language: None | str | Unset = UNSET
    ocr_confidence: float | None | Unset = UNSET
    ocr_pages: list[OcrPageConfidence] | Unset = UNSET
    page_count: int | None | Unset = UNSET
    searchable_pdf: bool | Unset = UNSET
    word_count: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        content_type = self.content_type

        sha256 = self.sha256

        size_bytes = self.size_bytes

        char_count: int | None | Unset
        if isinstance(self.char_count, Unset):
            char_count = UNSET
        else:
            char_count = self.char_count

        language: None | str | Unset
        if isinstance(self.language, Unset):
            language = UNSET
        else:
            language = self.language

        ocr_confidence: float | None | Unset
        if isinstance(self.ocr_confidence, Unset):
            ocr_confidence = UNSET
        else:
            ocr_confidence = self.ocr_confidence

        ocr_pages: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.ocr_pages, Unset):
            ocr_pages = []
            for ocr_pages_item_data in self.ocr_pages:
                ocr_pages_item = ocr_pages_item_data.to_dict()
                ocr_pages.append(ocr_pages_item)

        page_count: int | None | Unset
        if isinstance(self.page_count, Unset):
            page_count = UNSET
        else:
            page_count = self.page_count

        searchable_pdf = self.searchable_pdf

        word_count: int | None | Unset
        if isinstance(self.word_count, Unset):
            word_count = UNSET
        else:
            word_count = self.word_count

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "content_type": content_type,
                "sha256": sha256,
                "size_bytes": size_bytes,
            }
        )
        if char_count is not UNSET:
            field_dict["char_count"] = char_count
        if language is not UNSET:
            field_dict["language"] = language
        if ocr_confidence is not UNSET:
            field_dict["ocr_confidence"] = ocr_confidence
        if ocr_pages is not UNSET:
            field_dict["ocr_pages"] = ocr_pages
        if page_count is not UNSET:
            field_dict["page_count"] = page_count
        if searchable_pdf is not UNSET:
            field_dict["searchable_pdf"] = searchable_pdf
        if word_count is not UNSET:
            field_dict["word_count"] = word_count

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.ocr_page_confidence import OcrPageConfidence

        d = dict(src_dict)
        content_type = d.pop("content_type")

        sha256 = d.pop("sha256")

        size_bytes = d.pop("size_bytes")

        def _parse_char_count(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        char_count = _parse_char_count(d.pop("char_count", UNSET))

        def _parse_language(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        language = _parse_language(d.pop("language", UNSET))

        def _parse_ocr_confidence(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        ocr_confidence = _parse_ocr_confidence(d.pop("ocr_confidence", UNSET))

        _ocr_pages = d.pop("ocr_pages", UNSET)
        ocr_pages: list[OcrPageConfidence] | Unset = UNSET
        if _ocr_pages is not UNSET:
            ocr_pages = []
            for ocr_pages_item_data in _ocr_pages:
                ocr_pages_item = OcrPageConfidence.from_dict(ocr_pages_item_data)

                ocr_pages.append(ocr_pages_item)

        def _parse_page_count(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        page_count = _parse_page_count(d.pop("page_count", UNSET))

        searchable_pdf = d.pop("searchable_pdf", UNSET)

        def _parse_word_count(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        word_count = _parse_word_count(d.pop("word_count", UNSET))

        metadata = cls(
            content_type=content_type,
            sha256=sha256,
            size_bytes=size_bytes,
            char_count=char_count,
            language=language,
            ocr_confidence=ocr_confidence,
            ocr_pages=ocr_pages,
            page_count=page_count,
            searchable_pdf=searchable_pdf,
            word_count=word_count,
        )

        metadata.additional_properties = d
        return metadata

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
