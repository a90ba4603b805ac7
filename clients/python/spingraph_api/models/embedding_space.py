from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.embedding_space_distance import EmbeddingSpaceDistance

T = TypeVar("T", bound="EmbeddingSpace")


@_attrs_define
class EmbeddingSpace:
    """
    Attributes:
        name (str): A space's name
        dimensions (int):
        distance (EmbeddingSpaceDistance):
        model (None | str):
        created_at (datetime.datetime): RFC 3339, UTC
        vectors (int): How many vectors the space holds
    """

    name: str
    dimensions: int
    distance: EmbeddingSpaceDistance
    model: None | str
    created_at: datetime.datetime
    vectors: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        dimensions = self.dimensions

        distance = self.distance.value

        model: None | str
        model = self.model

        created_at = self.created_at.isoformat()

        vectors = self.vectors

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "dimensions": dimensions,
                "distance": distance,
                "model": model,
                "created_at": created_at,
                "vectors": vectors,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        dimensions = d.pop("dimensions")

        distance = EmbeddingSpaceDistance(d.pop("distance"))

        def _parse_model(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        model = _parse_model(d.pop("model"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        vectors = d.pop("vectors")

        embedding_space = cls(
            name=name,
            dimensions=dimensions,
            distance=distance,
            model=model,
            created_at=created_at,
            vectors=vectors,
        )

        embedding_space.additional_properties = d
        return embedding_space

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
