from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="AuditEventView")


@_attrs_define
class AuditEventView:
    """One change, as recorded in the same transaction as the change itself.

    Attributes:
        action (str): What was done: `document.upload`, `document.delete`, `webhook.create`,
            `webhook.rotate_secret`, `webhook.enable`, `webhook.delete`, `key.create`,
            `key.revoke`, `tenant.rate_limit`, `tenant.quota`, `registry.register`, `registry.config`,
            `registry.mode`, `registry.delete_subject`, `registry.delete_version` (and their
            `_permanently` forms), `broker.<record>.create|update|delete`. Example: document.delete.
        actor (str): Who made it: the id of the key used (as in `/v2/keys`), or `operator` for a
            change made with the server's command line. Example: key_4f2a9c1e7b3d5a08.
        at (datetime.datetime): When the change was made. Example: 2026-11-21T10:00:00.125Z.
        id (int): Increases with every entry. Example: 4211.
        resource_id (str): The resource's id (a document or webhook id, a key id, a registry subject, a
            broker record's names). Example: 0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11.
        resource_type (str): The kind of resource changed: `document`, `webhook`, `key`, `tenant`,
            `registry.subject`, `registry.version`, `broker.<record>`. Example: document.
        address (None | str | Unset): The client's address as the server saw it; null for the operator's changes.
            Example: 203.0.113.7.
        request_id (None | str | Unset): The request's `X-Request-Id`; null for the operator's changes. Example:
            0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b12.
    """

    action: str
    actor: str
    at: datetime.datetime
    id: int
    resource_id: str
    resource_type: str
    address: None | str | Unset = UNSET
    request_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        action = self.action

        actor = self.actor

        at = self.at.isoformat()

        id = self.id

        resource_id = self.resource_id

        resource_type = self.resource_type

        address: None | str | Unset
        if isinstance(self.address, Unset):
            address = UNSET
        else:
            address = self.address

        request_id: None | str | Unset
        if isinstance(self.request_id, Unset):
            request_id = UNSET
        else:
            request_id = self.request_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "actor": actor,
                "at": at,
                "id": id,
                "resource_id": resource_id,
                "resource_type": resource_type,
            }
        )
        if address is not UNSET:
            field_dict["address"] = address
        if request_id is not UNSET:
            field_dict["request_id"] = request_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        action = d.pop("action")

        actor = d.pop("actor")

        at = datetime.datetime.fromisoformat(d.pop("at"))

        id = d.pop("id")

        resource_id = d.pop("resource_id")

        resource_type = d.pop("resource_type")

        def _parse_address(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        address = _parse_address(d.pop("address", UNSET))

        def _parse_request_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        request_id = _parse_request_id(d.pop("request_id", UNSET))

        audit_event_view = cls(
            action=action,
            actor=actor,
            at=at,
            id=id,
            resource_id=resource_id,
            resource_type=resource_type,
            address=address,
            request_id=request_id,
        )

        audit_event_view.additional_properties = d
        return audit_event_view

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
