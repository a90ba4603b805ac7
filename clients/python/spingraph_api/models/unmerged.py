from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.unmerged_metadata import UnmergedMetadata

if TYPE_CHECKING:
    from ..models.entity import Entity


T = TypeVar("T", bound="Unmerged")


@_attrs_define
class Unmerged:
    """
    Attributes:
        survivor (Entity):
        restored (list[Entity]): The `from` entities, live again, in `from` order
        metadata (UnmergedMetadata): What became of this entity's metadata: `restored` as it was before the merge,
            `kept` although a merge undone had changed it (it changed since, or other entities
            that merge folded in stay merged), `unchanged` when no merge undone had changed it.
    """

    survivor: Entity
    restored: list[Entity]
    metadata: UnmergedMetadata
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        survivor = self.survivor.to_dict()

        restored = []
        for restored_item_data in self.restored:
            restored_item = restored_item_data.to_dict()
            restored.append(restored_item)

        metadata = self.metadata.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "survivor": survivor,
                "restored": restored,
                "metadata": metadata,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.entity import Entity

        d = dict(src_dict)
        survivor = Entity.from_dict(d.pop("survivor"))

        restored = []
        _restored = d.pop("restored")
        for restored_item_data in _restored:
            restored_item = Entity.from_dict(restored_item_data)

            restored.append(restored_item)

        metadata = UnmergedMetadata(d.pop("metadata"))

        unmerged = cls(
            survivor=survivor,
            restored=restored,
            metadata=metadata,
        )

        unmerged.additional_properties = d
        return unmerged

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
