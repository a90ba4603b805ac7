from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.merge_request_metadata import MergeRequestMetadata
from ..types import UNSET, Unset

T = TypeVar("T", bound="MergeRequest")


@_attrs_define
class MergeRequest:
    """
    Attributes:
        from_ (list[UUID]): The entities folded into this one (distinct, live, not this one)
        metadata (MergeRequestMetadata | Unset): `merge` adds the merged entities' metadata keys (this entity's own win)
            Default: MergeRequestMetadata.KEEP.
    """

    from_: list[UUID]
    metadata: MergeRequestMetadata | Unset = MergeRequestMetadata.KEEP

    def to_dict(self) -> dict[str, Any]:
        from_ = []
        for from_item_data in self.from_:
            from_item = str(from_item_data)
            from_.append(from_item)

        metadata: str | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "from": from_,
            }
        )
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        from_ = []
        _from_ = d.pop("from")
        for from_item_data in _from_:
            from_item = UUID(from_item_data)

            from_.append(from_item)

        _metadata = d.pop("metadata", UNSET)
        metadata: MergeRequestMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = MergeRequestMetadata(_metadata)

        merge_request = cls(
            from_=from_,
            metadata=metadata,
        )

        return merge_request
