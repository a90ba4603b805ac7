from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.metadata import Metadata


T = TypeVar("T", bound="NewEntity")


@_attrs_define
class NewEntity:
    """
    Attributes:
        type_ (str): 1..64 characters, not blank, no control characters Example: company.
        name (str): 1..512 characters, not blank, no control characters Example: Acme Corp.
        confidence (float | Unset):  Default: 1.0.
        metadata (Metadata | Unset): A JSON object: ≤ 10 KiB serialized, nested ≤ 8 levels, ≤ 256 keys in all, keys ≤
            128
            characters, no control characters in any key or string (422 otherwise).
             Example: {'source': 'crm', 'tier': 2}.
        external_id (None | str | Unset): The writer's own key, unique per type among their live entities (409 when they
            hold it already); other users' keys are theirs
    """

    type_: str
    name: str
    confidence: float | Unset = 1.0
    metadata: Metadata | Unset = UNSET
    external_id: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        name = self.name

        confidence = self.confidence

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        external_id: None | str | Unset
        if isinstance(self.external_id, Unset):
            external_id = UNSET
        else:
            external_id = self.external_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
                "name": name,
            }
        )
        if confidence is not UNSET:
            field_dict["confidence"] = confidence
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if external_id is not UNSET:
            field_dict["external_id"] = external_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.metadata import Metadata

        d = dict(src_dict)
        type_ = d.pop("type")

        name = d.pop("name")

        confidence = d.pop("confidence", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: Metadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = Metadata.from_dict(_metadata)

        def _parse_external_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        external_id = _parse_external_id(d.pop("external_id", UNSET))

        new_entity = cls(
            type_=type_,
            name=name,
            confidence=confidence,
            metadata=metadata,
            external_id=external_id,
        )

        return new_entity
