from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Embedding")


@_attrs_define
class Embedding:
    """
    Attributes:
        entity_id (UUID):
        space (str): The space's name
        dimensions (int):
        vector (list[float]): As stored (single precision)
        updated_at (datetime.datetime): RFC 3339, UTC
    """

    entity_id: UUID
    space: str
    dimensions: int
    vector: list[float]
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        entity_id = str(self.entity_id)

        space = self.space

        dimensions = self.dimensions

        vector = self.vector

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "entity_id": entity_id,
                "space": space,
                "dimensions": dimensions,
                "vector": vector,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        entity_id = UUID(d.pop("entity_id"))

        space = d.pop("space")

        dimensions = d.pop("dimensions")

        vector = cast(list[float], d.pop("vector"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        embedding = cls(
            entity_id=entity_id,
            space=space,
            dimensions=dimensions,
            vector=vector,
            updated_at=updated_at,
        )

        embedding.additional_properties = d
        return embedding

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
