from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.key_view import KeyView


T = TypeVar("T", bound="KeyWithSecret")


@_attrs_define
class KeyWithSecret:
    """A new key with its secret, shown only in this answer.

    Attributes:
        key (KeyView): A key, without its secret.
        secret (str): The key to send as `Authorization: Bearer …`. Keep it secret. Example:
            dik_3f9a1c0e4d7a0c3f8e5b1a9d2c7f4e0b6f1c2b9e4d7a0c3f8e5b1a9d2c7f4e0b.
    """

    key: KeyView
    secret: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        key = self.key.to_dict()

        secret = self.secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "key": key,
                "secret": secret,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.key_view import KeyView

        d = dict(src_dict)
        key = KeyView.from_dict(d.pop("key"))

        secret = d.pop("secret")

        key_with_secret = cls(
            key=key,
            secret=secret,
        )

        key_with_secret.additional_properties = d
        return key_with_secret

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
