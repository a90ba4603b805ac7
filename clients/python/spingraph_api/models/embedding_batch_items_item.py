from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="EmbeddingBatchItemsItem")


@_attrs_define
class EmbeddingBatchItemsItem:
    """
    Attributes:
        entity_id (UUID):
        vector (list[float]): Exactly the space's `dimensions` finite numbers (single precision); not all zeros in a
            `cosine` space
    """

    entity_id: UUID
    vector: list[float]

    def to_dict(self) -> dict[str, Any]:
        entity_id = str(self.entity_id)

        vector = self.vector

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "entity_id": entity_id,
                "vector": vector,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        entity_id = UUID(d.pop("entity_id"))

        vector = cast(list[float], d.pop("vector"))

        embedding_batch_items_item = cls(
            entity_id=entity_id,
            vector=vector,
        )

        return embedding_batch_items_item
