from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.entity import Entity


T = TypeVar("T", bound="SearchHit")


@_attrs_define
class SearchHit:
    """
    Attributes:
        entity (Entity):
        score (float): The fused score: Σ 1 / (60 + rank) over the lists the hit is in
        vector_distance (float | None): Its distance to `vector` in the space (cosine distance, L2 distance, or the
            negative inner product for `inner_product`: smaller is nearer in every space); null when the vector list did not
            bring it
        text_rank (float | None): Its full-text rank (`ts_rank_cd`), or for a hit found by its name alone the name's
            trigram similarity; null when the text list did not bring it
        vector_rank (int | None): Its place in the vector list
        text_rank_position (int | None): Its place in the text list
    """

    entity: Entity
    score: float
    vector_distance: float | None
    text_rank: float | None
    vector_rank: int | None
    text_rank_position: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        entity = self.entity.to_dict()

        score = self.score

        vector_distance: float | None
        vector_distance = self.vector_distance

        text_rank: float | None
        text_rank = self.text_rank

        vector_rank: int | None
        vector_rank = self.vector_rank

        text_rank_position: int | None
        text_rank_position = self.text_rank_position

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "entity": entity,
                "score": score,
                "vector_distance": vector_distance,
                "text_rank": text_rank,
                "vector_rank": vector_rank,
                "text_rank_position": text_rank_position,
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

        def _parse_text_rank(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        text_rank = _parse_text_rank(d.pop("text_rank"))

        def _parse_vector_rank(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        vector_rank = _parse_vector_rank(d.pop("vector_rank"))

        def _parse_text_rank_position(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        text_rank_position = _parse_text_rank_position(d.pop("text_rank_position"))

        search_hit = cls(
            entity=entity,
            score=score,
            vector_distance=vector_distance,
            text_rank=text_rank,
            vector_rank=vector_rank,
            text_rank_position=text_rank_position,
        )

        search_hit.additional_properties = d
        return search_hit

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
