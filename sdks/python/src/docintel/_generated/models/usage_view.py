from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="UsageView")


@_attrs_define
class UsageView:
    """What the tenant stores, and its storage quotas. Also the `usage` of a
    `quota_exceeded` problem (the usage before the refused upload).

        Example:
            {'bytes': 734003200, 'documents': 1234, 'max_bytes': 10000000000, 'max_documents': 100000}

        Attributes:
            bytes_ (int): The sum of the stored documents' sizes as uploaded, in bytes (thumbnails and
                extracted text are not counted). Example: 734003200.
            documents (int): The documents stored, whatever their status (failed ones count until deleted). Example: 1234.
            max_bytes (int | None | Unset): The most bytes the tenant may store; null: no limit. Example: 10000000000.
            max_documents (int | None | Unset): The most documents the tenant may store; null: no limit. Example: 100000.
    """

    bytes_: int
    documents: int
    max_bytes: int | None | Unset = UNSET
    max_documents: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bytes_ = self.bytes_

        documents = self.documents

        max_bytes: int | None | Unset
        if isinstance(self.max_bytes, Unset):
            max_bytes = UNSET
        else:
            max_bytes = self.max_bytes

        max_documents: int | None | Unset
        if isinstance(self.max_documents, Unset):
            max_documents = UNSET
        else:
            max_documents = self.max_documents

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bytes": bytes_,
                "documents": documents,
            }
        )
        if max_bytes is not UNSET:
            field_dict["max_bytes"] = max_bytes
        if max_documents is not UNSET:
            field_dict["max_documents"] = max_documents

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        bytes_ = d.pop("bytes")

        documents = d.pop("documents")

        def _parse_max_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_bytes = _parse_max_bytes(d.pop("max_bytes", UNSET))

        def _parse_max_documents(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_documents = _parse_max_documents(d.pop("max_documents", UNSET))

        usage_view = cls(
            bytes_=bytes_,
            documents=documents,
            max_bytes=max_bytes,
            max_documents=max_documents,
        )

        usage_view.additional_properties = d
        return usage_view

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
