from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Classification")


@_attrs_define
class Classification:
    """What the classifier decided.

    Attributes:
        confidence (float): Calibrated probability that `label` is right, between 0 and 1: of the answers
            given with confidence 0.8, about eight in ten are right. Example: 0.93.
        label (str): The kind of document: `contract`, `form`, `invoice`, `letter`, `receipt`, `report`
            or `resume`; `other` when it is none of them. Models may add kinds: treat an
            unknown value like `other`. Example: invoice.
        model_version (str): The model that decided: its kind and a digest of its weights. Example: lr-2-8862529d.
    """

    confidence: float
    label: str
    model_version: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        confidence = self.confidence

        label = self.label

        model_version = self.model_version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "confidence": confidence,
                "label": label,
                "model_version": model_version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        confidence = d.pop("confidence")

        label = d.pop("label")

        model_version = d.pop("model_version")

        classification = cls(
            confidence=confidence,
            label=label,
            model_version=model_version,
        )

        classification.additional_properties = d
        return classification

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
