from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.graph_node_ref import GraphNodeRef
    from ..models.graph_nodes_item_type_0 import GraphNodesItemType0


T = TypeVar("T", bound="Graph")


@_attrs_define
class Graph:
    """
    Attributes:
        nodes (list[GraphNodeRef | GraphNodesItemType0]): Entities with their `depth`; for a caller without
            `entities:read` (an API key holding only relationship scopes), each node's `id`, `type` and `depth` only.
    """

    nodes: list[GraphNodeRef | GraphNodesItemType0]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.graph_nodes_item_type_0 import GraphNodesItemType0

        nodes = []
        for nodes_item_data in self.nodes:
            nodes_item: dict[str, Any]
            if isinstance(nodes_item_data, GraphNodesItemType0):
                nodes_item = nodes_item_data.to_dict()
            else:
                nodes_item = nodes_item_data.to_dict()

            nodes.append(nodes_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "nodes": nodes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.graph_node_ref import GraphNodeRef
        from ..models.graph_nodes_item_type_0 import GraphNodesItemType0

        d = dict(src_dict)
        nodes = []
        _nodes = d.pop("nodes")
        for nodes_item_data in _nodes:

            def _parse_nodes_item(data: object) -> GraphNodeRef | GraphNodesItemType0:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    nodes_item_type_0 = GraphNodesItemType0.from_dict(data)

                    return nodes_item_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                nodes_item_type_1 = GraphNodeRef.from_dict(data)

                return nodes_item_type_1

            nodes_item = _parse_nodes_item(nodes_item_data)

            nodes.append(nodes_item)

        graph = cls(
            nodes=nodes,
        )

        graph.additional_properties = d
        return graph

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
