from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.relationship_metadata import RelationshipMetadata


T = TypeVar("T", bound="Relationship")


@_attrs_define
class Relationship:
    """
    Attributes:
        id (UUID):
        source_id (UUID):
        target_id (UUID):
        type_ (str):
        confidence (float):
        metadata (RelationshipMetadata):
        created_by (UUID):
        version (int):
        created_at (datetime.datetime): RFC 3339, UTC
        updated_at (datetime.datetime): RFC 3339, UTC
        deleted_at (datetime.datetime | None | Unset):
        deleted_by (None | Unset | UUID):
    """

    id: UUID
    source_id: UUID
    target_id: UUID
    type_: str
    confidence: float
    metadata: RelationshipMetadata
    created_by: UUID
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None | Unset = UNSET
    deleted_by: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        source_id = str(self.source_id)

        target_id = str(self.target_id)

        type_ = self.type_

        confidence = self.confidence

        metadata = self.metadata.to_dict()

        created_by = str(self.created_by)

        version = self.version

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        deleted_at: None | str | Unset
        if isinstance(self.deleted_at, Unset):
            deleted_at = UNSET
        elif isinstance(self.deleted_at, datetime.datetime):
            deleted_at = self.deleted_at.isoformat()
        else:
            deleted_at = self.deleted_at

        deleted_by: None | str | Unset
        if isinstance(self.deleted_by, Unset):
            deleted_by = UNSET
        elif isinstance(self.deleted_by, UUID):
            deleted_by = str(self.deleted_by)
        else:
            deleted_by = self.deleted_by

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "source_id": source_id,
                "target_id": target_id,
                "type": type_,
                "confidence": confidence,
                "metadata": metadata,
                "created_by": created_by,
                "version": version,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        if deleted_at is not UNSET:
            field_dict["deleted_at"] = deleted_at
        if deleted_by is not UNSET:
            field_dict["deleted_by"] = deleted_by

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.relationship_metadata import RelationshipMetadata

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        source_id = UUID(d.pop("source_id"))

        target_id = UUID(d.pop("target_id"))

        type_ = d.pop("type")

        confidence = d.pop("confidence")

        metadata = RelationshipMetadata.from_dict(d.pop("metadata"))

        created_by = UUID(d.pop("created_by"))

        version = d.pop("version")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_deleted_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                deleted_at_type_0 = datetime.datetime.fromisoformat(data)

                return deleted_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        deleted_at = _parse_deleted_at(d.pop("deleted_at", UNSET))

        def _parse_deleted_by(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                deleted_by_type_0 = UUID(data)

                return deleted_by_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        deleted_by = _parse_deleted_by(d.pop("deleted_by", UNSET))

        relationship = cls(
            id=id,
            source_id=source_id,
            target_id=target_id,
            type_=type_,
            confidence=confidence,
            metadata=metadata,
            created_by=created_by,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
            deleted_at=deleted_at,
            deleted_by=deleted_by,
        )

        relationship.additional_properties = d
        return relationship

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
