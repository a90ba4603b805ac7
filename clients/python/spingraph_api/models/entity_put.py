from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.metadata import Metadata


T = TypeVar("T", bound="EntityPut")


@_attrs_define
class EntityPut:
    """The whole entity; `type` and `external_id` come from the path (and must match it when repeated)

    Attributes:
        name (str): 1..512 characters, not blank, no control characters Example: Acme Corp.
        type_ (str | Unset): 1..64 characters, not blank, no control characters Example: company.
        external_id (str | Unset): 1..256 characters, not blank, no control characters Example: crm-000172.
        confidence (float | Unset):  Default: 1.0.
        metadata (Metadata | Unset): A JSON object: ≤ 10 KiB serialized, nested ≤ 8 levels, ≤ 256 keys in all, keys ≤
            128
            characters, no control characters in any key or string (422 otherwise).
             Example: {'source': 'crm', 'tier': 2}.
    """

    name: str
    type_: str | Unset = UNSET
    external_id: str | Unset = UNSET
    confidence: float | Unset = 1.0
    metadata: Metadata | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        type_ = self.type_

        external_id = self.external_id

        confidence = self.confidence

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )
        if type_ is not UNSET:
            field_dict["type"] = type_
        if external_id is not UNSET:
            field_dict["external_id"] = external_id
        if confidence is not UNSET:
            field_dict["confidence"] = confidence
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.metadata import Metadata

        d = dict(src_dict)
        name = d.pop("name")

        type_ = d.pop("type", UNSET)

        external_id = d.pop("external_id", UNSET)

        confidence = d.pop("confidence", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: Metadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = Metadata.from_dict(_metadata)

        entity_put = cls(
            name=name,
            type_=type_,
            external_id=external_id,
            confidence=confidence,
            metadata=metadata,
        )

        return entity_put
