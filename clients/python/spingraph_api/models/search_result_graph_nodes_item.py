from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.entity_metadata import EntityMetadata


T = TypeVar("T", bound="SearchResultGraphNodesItem")


@_attrs_define
class SearchResultGraphNodesItem:
    """
    Attributes:
        id (UUID):
        type_ (str):
        name (str):
        confidence (float):
        metadata (EntityMetadata):
        owner_id (UUID):
        version (int):
        created_at (datetime.datetime): RFC 3339, UTC
        updated_at (datetime.datetime): RFC 3339, UTC
        external_id (None | str | Unset):
        deleted_at (datetime.datetime | None | Unset):
        deleted_by (None | Unset | UUID):
        merged_into (None | Unset | UUID): The entity this one was merged into
        depth (int | Unset):
    """

    id: UUID
    type_: str
    name: str
    confidence: float
    metadata: EntityMetadata
    owner_id: UUID
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    external_id: None | str | Unset = UNSET
    deleted_at: datetime.datetime | None | Unset = UNSET
    deleted_by: None | Unset | UUID = UNSET
    merged_into: None | Unset | UUID = UNSET
    depth: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        type_ = self.type_

        name = self.name

        confidence = self.confidence

        metadata = self.metadata.to_dict()

        owner_id = str(self.owner_id)

        version = self.version

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        external_id: None | str | Unset
        if isinstance(self.external_id, Unset):
            external_id = UNSET
        else:
            external_id = self.external_id

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

        merged_into: None | str | Unset
        if isinstance(self.merged_into, Unset):
            merged_into = UNSET
        elif isinstance(self.merged_into, UUID):
            merged_into = str(self.merged_into)
        else:
            merged_into = self.merged_into

        depth = self.depth

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "type": type_,
                "name": name,
                "confidence": confidence,
                "metadata": metadata,
                "owner_id": owner_id,
                "version": version,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        if external_id is not UNSET:
            field_dict["external_id"] = external_id
        if deleted_at is not UNSET:
            field_dict["deleted_at"] = deleted_at
        if deleted_by is not UNSET:
            field_dict["deleted_by"] = deleted_by
        if merged_into is not UNSET:
            field_dict["merged_into"] = merged_into
        if depth is not UNSET:
            field_dict["depth"] = depth

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.entity_metadata import EntityMetadata

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        type_ = d.pop("type")

        name = d.pop("name")

        confidence = d.pop("confidence")

        metadata = EntityMetadata.from_dict(d.pop("metadata"))

        owner_id = UUID(d.pop("owner_id"))

        version = d.pop("version")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_external_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        external_id = _parse_external_id(d.pop("external_id", UNSET))

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

        def _parse_merged_into(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                merged_into_type_0 = UUID(data)

                return merged_into_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        merged_into = _parse_merged_into(d.pop("merged_into", UNSET))

        depth = d.pop("depth", UNSET)

        search_result_graph_nodes_item = cls(
            id=id,
            type_=type_,
            name=name,
            confidence=confidence,
            metadata=metadata,
            owner_id=owner_id,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
            external_id=external_id,
            deleted_at=deleted_at,
            deleted_by=deleted_by,
            merged_into=merged_into,
            depth=depth,
        )

        search_result_graph_nodes_item.additional_properties = d
        return search_result_graph_nodes_item

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
