from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="EmbeddingPut")


@_attrs_define
class EmbeddingPut:
    """
    Attributes:
        vector (list[float]): Exactly the space's `dimensions` finite numbers (single precision); not all zeros in a
            `cosine` space
    """

    vector: list[float]

    def to_dict(self) -> dict[str, Any]:
        vector = self.vector

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "vector": vector,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        vector = cast(list[float], d.pop("vector"))

        embedding_put = cls(
            vector=vector,
        )

        return embedding_put
