from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.search_hit import SearchHit
    from ..models.search_result_fusion import SearchResultFusion
    from ..models.search_result_graph import SearchResultGraph


T = TypeVar("T", bound="SearchResult")


@_attrs_define
class SearchResult:
    """
    Attributes:
        hits (list[SearchHit]):
        fusion (SearchResultFusion):
        graph (SearchResultGraph | Unset): With `expand`, the subgraph around the hits
    """

    hits: list[SearchHit]
    fusion: SearchResultFusion
    graph: SearchResultGraph | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        hits = []
        for hits_item_data in self.hits:
            hits_item = hits_item_data.to_dict()
            hits.append(hits_item)

        fusion = self.fusion.to_dict()

        graph: dict[str, Any] | Unset = UNSET
        if not isinstance(self.graph, Unset):
            graph = self.graph.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "hits": hits,
                "fusion": fusion,
            }
        )
        if graph is not UNSET:
            field_dict["graph"] = graph

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.search_hit import SearchHit
        from ..models.search_result_fusion import SearchResultFusion
        from ..models.search_result_graph import SearchResultGraph

        d = dict(src_dict)
        hits = []
        _hits = d.pop("hits")
        for hits_item_data in _hits:
            hits_item = SearchHit.from_dict(hits_item_data)

            hits.append(hits_item)

        fusion = SearchResultFusion.from_dict(d.pop("fusion"))

        _graph = d.pop("graph", UNSET)
        graph: SearchResultGraph | Unset
        if isinstance(_graph, Unset):
            graph = UNSET
        else:
            graph = SearchResultGraph.from_dict(_graph)

        search_result = cls(
            hits=hits,
            fusion=fusion,
            graph=graph,
        )

        search_result.additional_properties = d
        return search_result

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
