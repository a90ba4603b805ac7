from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.search_result_fusion_k import SearchResultFusionK
from ..models.search_result_fusion_method import SearchResultFusionMethod

T = TypeVar("T", bound="SearchResultFusion")


@_attrs_define
class SearchResultFusion:
    """
    Attributes:
        method (SearchResultFusionMethod):
        k (SearchResultFusionK):
    """

    method: SearchResultFusionMethod
    k: SearchResultFusionK
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        method = self.method.value

        k = self.k.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "method": method,
                "k": k,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        method = SearchResultFusionMethod(d.pop("method"))

        k = SearchResultFusionK(d.pop("k"))

        search_result_fusion = cls(
            method=method,
            k=k,
        )

        search_result_fusion.additional_properties = d
        return search_result_fusion

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
