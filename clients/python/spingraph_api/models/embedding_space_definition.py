from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.embedding_space_definition_distance import (
    EmbeddingSpaceDefinitionDistance,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="EmbeddingSpaceDefinition")


@_attrs_define
class EmbeddingSpaceDefinition:
    """
    Attributes:
        dimensions (int):
        distance (EmbeddingSpaceDefinitionDistance):
        model (None | str | Unset): A label: which model made the vectors
        name (str | Unset): A space's name
    """

    dimensions: int
    distance: EmbeddingSpaceDefinitionDistance
    model: None | str | Unset = UNSET
    name: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        dimensions = self.dimensions

        distance = self.distance.value

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        name = self.name

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "dimensions": dimensions,
                "distance": distance,
            }
        )
        if model is not UNSET:
            field_dict["model"] = model
        if name is not UNSET:
            field_dict["name"] = name

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        dimensions = d.pop("dimensions")

        distance = EmbeddingSpaceDefinitionDistance(d.pop("distance"))

        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

        name = d.pop("name", UNSET)

        embedding_space_definition = cls(
            dimensions=dimensions,
            distance=distance,
            model=model,
            name=name,
        )

        return embedding_space_definition
