from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.type_report_types_item import TypeReportTypesItem


T = TypeVar("T", bound="TypeReport")


@_attrs_define
class TypeReport:
    """
    Example:
        {'owner_id': '0193a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b', 'total': 3, 'types': [{'type': 'organization', 'count': 1},
            {'type': 'person', 'count': 2}]}

    Attributes:
        owner_id (UUID): The caller
        total (int): The sum of every type's count
        types (list[TypeReportTypesItem]): One item per type the caller has live entities of, in byte order of the type
    """

    owner_id: UUID
    total: int
    types: list[TypeReportTypesItem]

    def to_dict(self) -> dict[str, Any]:
        owner_id = str(self.owner_id)

        total = self.total

        types = []
        for types_item_data in self.types:
            types_item = types_item_data.to_dict()
            types.append(types_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "owner_id": owner_id,
                "total": total,
                "types": types,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.type_report_types_item import TypeReportTypesItem

        d = dict(src_dict)
        owner_id = UUID(d.pop("owner_id"))

        total = d.pop("total")

        types = []
        _types = d.pop("types")
        for types_item_data in _types:
            types_item = TypeReportTypesItem.from_dict(types_item_data)

            types.append(types_item)

        type_report = cls(
            owner_id=owner_id,
            total=total,
            types=types,
        )

        return type_report
