from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="EntityRef")


@_attrs_define
class EntityRef:
    """An entity named by its natural key, among the caller's entities unless `owner_id` names another owner

    Attributes:
        type_ (str): 1..64 characters, not blank, no control characters Example: company.
        external_id (str): 1..256 characters, not blank, no control characters Example: crm-000172.
        owner_id (UUID | Unset): Whose key (default: the caller's)
    """

    type_: str
    external_id: str
    owner_id: UUID | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        external_id = self.external_id

        owner_id: str | Unset = UNSET
        if not isinstance(self.owner_id, Unset):
            owner_id = str(self.owner_id)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
                "external_id": external_id,
            }
        )
        if owner_id is not UNSET:
            field_dict["owner_id"] = owner_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = d.pop("type")

        external_id = d.pop("external_id")

        _owner_id = d.pop("owner_id", UNSET)
        owner_id: UUID | Unset
        if isinstance(_owner_id, Unset):
            owner_id = UNSET
        else:
            owner_id = UUID(_owner_id)

        entity_ref = cls(
            type_=type_,
            external_id=external_id,
            owner_id=owner_id,
        )

        return entity_ref
