from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_event_type import WebhookEventType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.document_view import DocumentView


T = TypeVar("T", bound="WebhookEvent")


@_attrs_define
class WebhookEvent:
    """The body of every delivery (`POST` to the subscription's URL, `application/json`),
    signed in `Docintel-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.

        Attributes:
            created (datetime.datetime): When the event happened. Example: 2026-11-21T10:00:01.25Z.
            id (str): The event id, also in `Docintel-Event-Id`; the same on every retry, so receivers
                can drop duplicates. Example: 0192f0c4-7b21-7d40-9a3e-2c4f5e6a7b8c.
            type_ (WebhookEventType): An event a webhook can receive.
            data (DocumentView | None | Unset):
    """

    created: datetime.datetime
    id: str
    type_: WebhookEventType
    data: DocumentView | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.document_view import DocumentView

        created = self.created.isoformat()

        id = self.id

        type_ = self.type_.value

        data: dict[str, Any] | None | Unset
        if isinstance(self.data, Unset):
            data = UNSET
        elif isinstance(self.data, DocumentView):
            data = self.data.to_dict()
        else:
            data = self.data

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created": created,
                "id": id,
                "type": type_,
            }
        )
        if data is not UNSET:
            field_dict["data"] = data

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.document_view import DocumentView

        d = dict(src_dict)
        created = datetime.datetime.fromisoformat(d.pop("created"))

        id = d.pop("id")

        type_ = WebhookEventType(d.pop("type"))

        def _parse_data(data: object) -> DocumentView | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_0 = DocumentView.from_dict(data)

                return data_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DocumentView | None | Unset, data)

        data = _parse_data(d.pop("data", UNSET))

        webhook_event = cls(
            created=created,
            id=id,
            type_=type_,
            data=data,
        )

        webhook_event.additional_properties = d
        return webhook_event

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
