from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.search_expand import SearchExpand
    from ..models.search_filter import SearchFilter


T = TypeVar("T", bound="SearchRequest")


@_attrs_define
class SearchRequest:
    """At least one of `text` and `vector`; `vector` needs `space`.

    Attributes:
        text (str | Unset):
        vector (list[float] | Unset): As many numbers as the space's dimensions; not all zeros in a cosine space
        space (str | Unset): A space's name
        filter_ (SearchFilter | Unset):
        limit (int | Unset):  Default: 10.
        expand (SearchExpand | Unset):
    """

    text: str | Unset = UNSET
    vector: list[float] | Unset = UNSET
    space: str | Unset = UNSET
    filter_: SearchFilter | Unset = UNSET
    limit: int | Unset = 10
    expand: SearchExpand | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        text = self.text

        vector: list[float] | Unset = UNSET
        if not isinstance(self.vector, Unset):
            vector = self.vector

        space = self.space

        filter_: dict[str, Any] | Unset = UNSET
        if not isinstance(self.filter_, Unset):
            filter_ = self.filter_.to_dict()

        limit = self.limit

        expand: dict[str, Any] | Unset = UNSET
        if not isinstance(self.expand, Unset):
            expand = self.expand.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if text is not UNSET:
            field_dict["text"] = text
        if vector is not UNSET:
            field_dict["vector"] = vector
        if space is not UNSET:
            field_dict["space"] = space
        if filter_ is not UNSET:
            field_dict["filter"] = filter_
        if limit is not UNSET:
            field_dict["limit"] = limit
        if expand is not UNSET:
            field_dict["expand"] = expand

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.search_expand import SearchExpand
        from ..models.search_filter import SearchFilter

        d = dict(src_dict)
        text = d.pop("text", UNSET)

        vector = cast(list[float], d.pop("vector", UNSET))

        space = d.pop("space", UNSET)

        _filter_ = d.pop("filter", UNSET)
        filter_: SearchFilter | Unset
        if isinstance(_filter_, Unset):
            filter_ = UNSET
        else:
            filter_ = SearchFilter.from_dict(_filter_)

        limit = d.pop("limit", UNSET)

        _expand = d.pop("expand", UNSET)
        expand: SearchExpand | Unset
        if isinstance(_expand, Unset):
            expand = UNSET
        else:
            expand = SearchExpand.from_dict(_expand)

        search_request = cls(
            text=text,
            vector=vector,
            space=space,
            filter_=filter_,
            limit=limit,
            expand=expand,
        )

        return search_request
