from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.search_filter_metadata import SearchFilterMetadata


T = TypeVar("T", bound="SearchFilter")


@_attrs_define
class SearchFilter:
    """
    Attributes:
        types (list[str] | Unset):
        min_confidence (float | Unset):
        metadata (SearchFilterMetadata | Unset): JSON containment
        owner (UUID | Unset): Only this owner's entities
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):
        include_merged (bool | Unset):  Default: False.
    """

    types: list[str] | Unset = UNSET
    min_confidence: float | Unset = UNSET
    metadata: SearchFilterMetadata | Unset = UNSET
    owner: UUID | Unset = UNSET
    created_after: datetime.datetime | Unset = UNSET
    created_before: datetime.datetime | Unset = UNSET
    include_merged: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        types: list[str] | Unset = UNSET
        if not isinstance(self.types, Unset):
            types = self.types

        min_confidence = self.min_confidence

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        owner: str | Unset = UNSET
        if not isinstance(self.owner, Unset):
            owner = str(self.owner)

        created_after: str | Unset = UNSET
        if not isinstance(self.created_after, Unset):
            created_after = self.created_after.isoformat()

        created_before: str | Unset = UNSET
        if not isinstance(self.created_before, Unset):
            created_before = self.created_before.isoformat()

        include_merged = self.include_merged

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if types is not UNSET:
            field_dict["types"] = types
        if min_confidence is not UNSET:
            field_dict["min_confidence"] = min_confidence
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if owner is not UNSET:
            field_dict["owner"] = owner
        if created_after is not UNSET:
            field_dict["created_after"] = created_after
        if created_before is not UNSET:
            field_dict["created_before"] = created_before
        if include_merged is not UNSET:
            field_dict["include_merged"] = include_merged

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.search_filter_metadata import SearchFilterMetadata

        d = dict(src_dict)
        types = cast(list[str], d.pop("types", UNSET))

        min_confidence = d.pop("min_confidence", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: SearchFilterMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = SearchFilterMetadata.from_dict(_metadata)

        _owner = d.pop("owner", UNSET)
        owner: UUID | Unset
        if isinstance(_owner, Unset):
            owner = UNSET
        else:
            owner = UUID(_owner)

        _created_after = d.pop("created_after", UNSET)
        created_after: datetime.datetime | Unset
        if isinstance(_created_after, Unset):
            created_after = UNSET
        else:
            created_after = datetime.datetime.fromisoformat(_created_after)

        _created_before = d.pop("created_before", UNSET)
        created_before: datetime.datetime | Unset
        if isinstance(_created_before, Unset):
            created_before = UNSET
        else:
            created_before = datetime.datetime.fromisoformat(_created_before)

        include_merged = d.pop("include_merged", UNSET)

        search_filter = cls(
            types=types,
            min_confidence=min_confidence,
            metadata=metadata,
            owner=owner,
            created_after=created_after,
            created_before=created_before,
            include_merged=include_merged,
        )

        return search_filter
