from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="TypeReportTypesItem")


@_attrs_define
class TypeReportTypesItem:
    """
    Attributes:
        type_ (str):
        count (int):
    """

    type_: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        count = self.count

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
                "count": count,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = d.pop("type")

        count = d.pop("count")

        type_report_types_item = cls(
            type_=type_,
            count=count,
        )

        return type_report_types_item
