from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.search_expand_direction import SearchExpandDirection
from ..types import UNSET, Unset

T = TypeVar("T", bound="SearchExpand")


@_attrs_define
class SearchExpand:
    """
    Attributes:
        depth (int | Unset):  Default: 1.
        direction (SearchExpandDirection | Unset):  Default: SearchExpandDirection.BOTH.
        types (list[str] | Unset):
        max_nodes (int | Unset): Nodes in the subgraph Default: 100.
    """

    depth: int | Unset = 1
    direction: SearchExpandDirection | Unset = SearchExpandDirection.BOTH
    types: list[str] | Unset = UNSET
    max_nodes: int | Unset = 100

    def to_dict(self) -> dict[str, Any]:
        depth = self.depth

        direction: str | Unset = UNSET
        if not isinstance(self.direction, Unset):
            direction = self.direction.value

        types: list[str] | Unset = UNSET
        if not isinstance(self.types, Unset):
            types = self.types

        max_nodes = self.max_nodes

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if depth is not UNSET:
            field_dict["depth"] = depth
        if direction is not UNSET:
            field_dict["direction"] = direction
        if types is not UNSET:
            field_dict["types"] = types
        if max_nodes is not UNSET:
            field_dict["max_nodes"] = max_nodes

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        depth = d.pop("depth", UNSET)

        _direction = d.pop("direction", UNSET)
        direction: SearchExpandDirection | Unset
        if isinstance(_direction, Unset):
            direction = UNSET
        else:
            direction = SearchExpandDirection(_direction)

        types = cast(list[str], d.pop("types", UNSET))

        max_nodes = d.pop("max_nodes", UNSET)

        search_expand = cls(
            depth=depth,
            direction=direction,
            types=types,
            max_nodes=max_nodes,
        )

        return search_expand
