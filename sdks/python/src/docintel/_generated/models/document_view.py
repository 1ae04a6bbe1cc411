from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.document_status import DocumentStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.classification import Classification
    from ..models.metadata import Metadata


T = TypeVar("T", bound="DocumentView")


@_attrs_define
class DocumentView:
    """A document and what docintel knows of it.

    Attributes:
        created_at (datetime.datetime): When it was uploaded. Example: 2026-11-21T10:00:00Z.
        filename (str): The name the uploader gave; display only. Example: invoice-2026-11.pdf.
        id (UUID): The document's id. Example: 0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11.
        metadata (Metadata): Facts about the stored bytes and what processing found in them.
        status (DocumentStatus): Where a document is in its lifecycle.
        updated_at (datetime.datetime): When its status last changed. Example: 2026-11-21T10:00:01.25Z.
        warnings (list[str]): Non-fatal remarks from processing: `ocr_unavailable` (no OCR on this server, so an
            image or scan has no text), `thumbnail_unavailable` (the first page of a PDF could
            not be rendered), `not_scanned` (the malware scanner did not answer and
            this server processes documents unscanned then). Example: [].
        classification (Classification | None | Unset):
        failure (None | str | Unset): Why processing failed; set only when `status` is `failed`.
        failure_code (None | str | Unset):
    """

    created_at: datetime.datetime
    filename: str
    id: UUID
    metadata: Metadata
    status: DocumentStatus
    updated_at: datetime.datetime
    warnings: list[str]
    classification: Classification | None | Unset = UNSET
    failure: None | str | Unset = UNSET
    failure_code: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.classification import Classification

        created_at = self.created_at.isoformat()

        filename = self.filename

        id = str(self.id)

        metadata = self.metadata.to_dict()

        status = self.status.value

        updated_at = self.updated_at.isoformat()

        warnings = self.warnings

        classification: dict[str, Any] | None | Unset
        if isinstance(self.classification, Unset):
            classification = UNSET
        elif isinstance(self.classification, Classification):
            classification = self.classification.to_dict()
        else:
            classification = self.classification

        failure: None | str | Unset
        if isinstance(self.failure, Unset):
            failure = UNSET
        else:
            failure = self.failure

        failure_code: None | str | Unset
        if isinstance(self.failure_code, Unset):
            failure_code = UNSET
        else:
            failure_code = self.failure_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "filename": filename,
                "id": id,
                "metadata": metadata,
                "status": status,
                "updated_at": updated_at,
                "warnings": warnings,
            }
        )
        if classification is not UNSET:
            field_dict["classification"] = classification
        if failure is not UNSET:
            field_dict["failure"] = failure
        if failure_code is not UNSET:
            field_dict["failure_code"] = failure_code

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.classification import Classification
        from ..models.metadata import Metadata

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        filename = d.pop("filename")

        id = UUID(d.pop("id"))

        metadata = Metadata.from_dict(d.pop("metadata"))

        status = DocumentStatus(d.pop("status"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        warnings = cast(list[str], d.pop("warnings"))

        def _parse_classification(data: object) -> Classification | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                classification_type_0 = Classification.from_dict(data)

                return classification_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Classification | None | Unset, data)

        classification = _parse_classification(d.pop("classification", UNSET))

        def _parse_failure(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        failure = _parse_failure(d.pop("failure", UNSET))

        def _parse_failure_code(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        failure_code = _parse_failure_code(d.pop("failure_code", UNSET))

        document_view = cls(
            created_at=created_at,
            filename=filename,
            id=id,
            metadata=metadata,
            status=status,
            updated_at=updated_at,
            warnings=warnings,
            classification=classification,
            failure=failure,
            failure_code=failure_code,
        )

        document_view.additional_properties = d
        return document_view

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
