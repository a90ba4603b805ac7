from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.entity_ref import EntityRef
    from ..models.metadata import Metadata


T = TypeVar("T", bound="NewRelationship")


@_attrs_define
class NewRelationship:
    """Each end by id (`source_id`, `target_id`) or by natural key (`source`, `target`)

    Attributes:
        type_ (str): 1..64 characters, not blank, no control characters Example: company.
        source_id (UUID | Unset):
        target_id (UUID | Unset):
        source (EntityRef | Unset): An entity named by its natural key, among the caller's entities unless `owner_id`
            names another owner
        target (EntityRef | Unset): An entity named by its natural key, among the caller's entities unless `owner_id`
            names another owner
        confidence (float | Unset):  Default: 1.0.
        metadata (Metadata | Unset): A JSON object: ≤ 10 KiB serialized, nested ≤ 8 levels, ≤ 256 keys in all, keys ≤
            128
            characters, no control characters in any key or string (422 otherwise).
             Example: {'source': 'crm', 'tier': 2}.
    """

    type_: str
    source_id: UUID | Unset = UNSET
    target_id: UUID | Unset = UNSET
    source: EntityRef | Unset = UNSET
    target: EntityRef | Unset = UNSET
    confidence: float | Unset = 1.0
    metadata: Metadata | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        source_id: str | Unset = UNSET
        if not isinstance(self.source_id, Unset):
            source_id = str(self.source_id)

        target_id: str | Unset = UNSET
        if not isinstance(self.target_id, Unset):
            target_id = str(self.target_id)

        source: dict[str, Any] | Unset = UNSET
        if not isinstance(self.source, Unset):
            source = self.source.to_dict()

        target: dict[str, Any] | Unset = UNSET
        if not isinstance(self.target, Unset):
            target = self.target.to_dict()

        confidence = self.confidence

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
            }
        )
        if source_id is not UNSET:
            field_dict["source_id"] = source_id
        if target_id is not UNSET:
            field_dict["target_id"] = target_id
        if source is not UNSET:
            field_dict["source"] = source
        if target is not UNSET:
            field_dict["target"] = target
        if confidence is not UNSET:
            field_dict["confidence"] = confidence
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.entity_ref import EntityRef
        from ..models.metadata import Metadata

        d = dict(src_dict)
        type_ = d.pop("type")

        _source_id = d.pop("source_id", UNSET)
        source_id: UUID | Unset
        if isinstance(_source_id, Unset):
            source_id = UNSET
        else:
            source_id = UUID(_source_id)

        _target_id = d.pop("target_id", UNSET)
        target_id: UUID | Unset
        if isinstance(_target_id, Unset):
            target_id = UNSET
        else:
            target_id = UUID(_target_id)

        _source = d.pop("source", UNSET)
        source: EntityRef | Unset
        if isinstance(_source, Unset):
            source = UNSET
        else:
            source = EntityRef.from_dict(_source)

        _target = d.pop("target", UNSET)
        target: EntityRef | Unset
        if isinstance(_target, Unset):
            target = UNSET
        else:
            target = EntityRef.from_dict(_target)

        confidence = d.pop("confidence", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: Metadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = Metadata.from_dict(_metadata)

        new_relationship = cls(
            type_=type_,
            source_id=source_id,
            target_id=target_id,
            source=source,
            target=target,
            confidence=confidence,
            metadata=metadata,
        )

        return new_relationship
