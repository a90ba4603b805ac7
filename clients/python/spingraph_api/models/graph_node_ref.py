from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.relationship import Relationship


T = TypeVar("T", bound="GraphNodeRef")


@_attrs_define
class GraphNodeRef:
    """A graph node shown to a caller that may not read entities

    Attributes:
        id (UUID):
        type_ (str):
        depth (int):
        edges (list[Relationship] | Unset):
        truncated (bool | Unset): Neighbors only: true when nodes or edges were left out, for `limit`, the 5000-edge
            answer cap or the walk's 20000-relationship budget.
    """

    id: UUID
    type_: str
    depth: int
    edges: list[Relationship] | Unset = UNSET
    truncated: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        type_ = self.type_

        depth = self.depth

        edges: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.edges, Unset):
            edges = []
            for edges_item_data in self.edges:
                edges_item = edges_item_data.to_dict()
                edges.append(edges_item)

        truncated = self.truncated

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "type": type_,
                "depth": depth,
            }
        )
        if edges is not UNSET:
            field_dict["edges"] = edges
        if truncated is not UNSET:
            field_dict["truncated"] = truncated

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.relationship import Relationship

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        type_ = d.pop("type")

        depth = d.pop("depth")

        _edges = d.pop("edges", UNSET)
        edges: list[Relationship] | Unset = UNSET
        if _edges is not UNSET:
            edges = []
            for edges_item_data in _edges:
                edges_item = Relationship.from_dict(edges_item_data)

                edges.append(edges_item)

        truncated = d.pop("truncated", UNSET)

        graph_node_ref = cls(
            id=id,
            type_=type_,
            depth=depth,
            edges=edges,
            truncated=truncated,
        )

        return graph_node_ref
