from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.entity import Entity


T = TypeVar("T", bound="Duplicate")


@_attrs_define
class Duplicate:
    """
    Attributes:
        entity (Entity):
        score (float): Reciprocal-rank fusion: Σ 1 / (60 + rank) over the lists the entity is in
        vector_distance (float | None): Its vector's distance to this entity's in `space` (the space's distance: cosine,
            L2, or negative inner product); null when not among the nearest
        name_similarity (float): Trigram similarity of the names
    """

    entity: Entity
    score: float
    vector_distance: float | None
    name_similarity: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        entity = self.entity.to_dict()

        score = self.score

        vector_distance: float | None
        vector_distance = self.vector_distance

        name_similarity = self.name_similarity

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "entity": entity,
                "score": score,
                "vector_distance": vector_distance,
                "name_similarity": name_similarity,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.entity import Entity

        d = dict(src_dict)
        entity = Entity.from_dict(d.pop("entity"))

        score = d.pop("score")

        def _parse_vector_distance(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        vector_distance = _parse_vector_distance(d.pop("vector_distance"))

        name_similarity = d.pop("name_similarity")

        duplicate = cls(
            entity=entity,
            score=score,
            vector_distance=vector_distance,
            name_similarity=name_similarity,
        )

        duplicate.additional_properties = d
        return duplicate

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
