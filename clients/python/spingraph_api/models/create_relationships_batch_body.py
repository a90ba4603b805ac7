from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.create_relationships_batch_body_on_conflict import (
    CreateRelationshipsBatchBodyOnConflict,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.new_relationship import NewRelationship


T = TypeVar("T", bound="CreateRelationshipsBatchBody")


@_attrs_define
class CreateRelationshipsBatchBody:
    """
    Attributes:
        items (list[NewRelationship]):
        on_conflict (CreateRelationshipsBatchBodyOnConflict | Unset): What to do with an item whose source, target and
            type an active relationship
            already has: fail the batch with a 409 (`error`), leave that relationship as it
            is and answer it (`skip`), or give it the item's confidence and metadata
            (`update`; only its creator or an admin may, a 403 otherwise).
             Default: CreateRelationshipsBatchBodyOnConflict.ERROR.
    """

    items: list[NewRelationship]
    on_conflict: CreateRelationshipsBatchBodyOnConflict | Unset = (
        CreateRelationshipsBatchBodyOnConflict.ERROR
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
        from ..models.new_relationship import NewRelationship

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = NewRelationship.from_dict(items_item_data)

            items.append(items_item)

        _on_conflict = d.pop("on_conflict", UNSET)
        on_conflict: CreateRelationshipsBatchBodyOnConflict | Unset
        if isinstance(_on_conflict, Unset):
            on_conflict = UNSET
        else:
            on_conflict = CreateRelationshipsBatchBodyOnConflict(_on_conflict)

        create_relationships_batch_body = cls(
            items=items,
            on_conflict=on_conflict,
        )

        return create_relationships_batch_body
