from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.create_entities_batch_response_201_outcomes_item import (
    CreateEntitiesBatchResponse201OutcomesItem,
)

if TYPE_CHECKING:
    from ..models.entity import Entity


T = TypeVar("T", bound="CreateEntitiesBatchResponse201")


@_attrs_define
class CreateEntitiesBatchResponse201:
    """
    Attributes:
        items (list[Entity]):
        outcomes (list[CreateEntitiesBatchResponse201OutcomesItem]): What happened to each item, in request order
    """

    items: list[Entity]
    outcomes: list[CreateEntitiesBatchResponse201OutcomesItem]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        outcomes = []
        for outcomes_item_data in self.outcomes:
            outcomes_item = outcomes_item_data.value
            outcomes.append(outcomes_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "items": items,
                "outcomes": outcomes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.entity import Entity

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = Entity.from_dict(items_item_data)

            items.append(items_item)

        outcomes = []
        _outcomes = d.pop("outcomes")
        for outcomes_item_data in _outcomes:
            outcomes_item = CreateEntitiesBatchResponse201OutcomesItem(
                outcomes_item_data
            )

            outcomes.append(outcomes_item)

        create_entities_batch_response_201 = cls(
            items=items,
            outcomes=outcomes,
        )

        create_entities_batch_response_201.additional_properties = d
        return create_entities_batch_response_201

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
