from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

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
        page_count (int | None | Unset): Pages of a PDF; null for other types and until processed. Example: 2.
        word_count (int | None | Unset): Words in the extracted text; null until processed. Example: 312.
    """

    content_type: str
    sha256: str
    size_bytes: int
    char_count: int | None | Unset = UNSET
    language: None | str | Unset = UNSET
    page_count: int | None | Unset = UNSET
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

        page_count: int | None | Unset
        if isinstance(self.page_count, Unset):
            page_count = UNSET
        else:
            page_count = self.page_count

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
        if page_count is not UNSET:
            field_dict["page_count"] = page_count
        if word_count is not UNSET:
            field_dict["word_count"] = word_count

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
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

        def _parse_page_count(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        page_count = _parse_page_count(d.pop("page_count", UNSET))

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
            page_count=page_count,
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
