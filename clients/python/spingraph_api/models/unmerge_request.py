from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="UnmergeRequest")


@_attrs_define
class UnmergeRequest:
    """
    Attributes:
        from_ (list[UUID]): The entities merged into this one to take back out (distinct, not this one)
    """

    from_: list[UUID]

    def to_dict(self) -> dict[str, Any]:
        from_ = []
        for from_item_data in self.from_:
            from_item = str(from_item_data)
            from_.append(from_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "from": from_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        from_ = []
        _from_ = d.pop("from")
        for from_item_data in _from_:
            from_item = UUID(from_item_data)

            from_.append(from_item)

        unmerge_request = cls(
            from_=from_,
        )

        return unmerge_request
