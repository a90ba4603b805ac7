from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.create_entities_batch_body_on_conflict import (
    CreateEntitiesBatchBodyOnConflict,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.new_entity import NewEntity


T = TypeVar("T", bound="CreateEntitiesBatchBody")


@_attrs_define
class CreateEntitiesBatchBody:
    """
    Attributes:
        items (list[NewEntity]):
        on_conflict (CreateEntitiesBatchBodyOnConflict | Unset): What to do with an item whose `type` and `external_id`
            a live entity of the
            caller's already has (natural keys are per owner; other users' are never
            matched): fail the batch with a 409 (`error`), leave the entity as it is
            (`skip`), or give it the item's name, confidence and metadata (`update`).
             Default: CreateEntitiesBatchBodyOnConflict.ERROR.
    """

    items: list[NewEntity]
    on_conflict: CreateEntitiesBatchBodyOnConflict | Unset = (
        CreateEntitiesBatchBodyOnConflict.ERROR
    )

    def to_dict(self) -> dict[str, Any]:
        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        on_conflict: str | Unset = UNSET
        if not isinstance(self.on_conflict, Unset):
            on_conflict = self.on_conflict.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "items": items,
            }
        )
        if on_conflict is not UNSET:
            field_dict["on_conflict"] = on_conflict

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.new_entity import NewEntity

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = NewEntity.from_dict(items_item_data)

            items.append(items_item)

        _on_conflict = d.pop("on_conflict", UNSET)
        on_conflict: CreateEntitiesBatchBodyOnConflict | Unset
        if isinstance(_on_conflict, Unset):
            on_conflict = UNSET
        else:
            on_conflict = CreateEntitiesBatchBodyOnConflict(_on_conflict)

        create_entities_batch_body = cls(
            items=items,
            on_conflict=on_conflict,
        )

        return create_entities_batch_body
