from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.embedding_batch_items_item import EmbeddingBatchItemsItem


T = TypeVar("T", bound="EmbeddingBatch")


@_attrs_define
class EmbeddingBatch:
    """
    Attributes:
        space (str): The space's name
        items (list[EmbeddingBatchItemsItem]): One vector per entity (an entity repeated is a 422)
    """

    space: str
    items: list[EmbeddingBatchItemsItem]

    def to_dict(self) -> dict[str, Any]:
        space = self.space

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "space": space,
                "items": items,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.embedding_batch_items_item import EmbeddingBatchItemsItem

        d = dict(src_dict)
        space = d.pop("space")

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = EmbeddingBatchItemsItem.from_dict(items_item_data)

            items.append(items_item)

        embedding_batch = cls(
            space=space,
            items=items,
        )

        return embedding_batch
