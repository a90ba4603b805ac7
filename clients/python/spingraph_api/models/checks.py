from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.check import Check


T = TypeVar("T", bound="Checks")


@_attrs_define
class Checks:
    """
    Attributes:
        postgres (Check | Unset):
        redis (Check | Unset):
    """

    postgres: Check | Unset = UNSET
    redis: Check | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        postgres: dict[str, Any] | Unset = UNSET
        if not isinstance(self.postgres, Unset):
            postgres = self.postgres.to_dict()

        redis: dict[str, Any] | Unset = UNSET
        if not isinstance(self.redis, Unset):
            redis = self.redis.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if postgres is not UNSET:
            field_dict["postgres"] = postgres
        if redis is not UNSET:
            field_dict["redis"] = redis

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.check import Check

        d = dict(src_dict)
        _postgres = d.pop("postgres", UNSET)
        postgres: Check | Unset
        if isinstance(_postgres, Unset):
            postgres = UNSET
        else:
            postgres = Check.from_dict(_postgres)

        _redis = d.pop("redis", UNSET)
        redis: Check | Unset
        if isinstance(_redis, Unset):
            redis = UNSET
        else:
            redis = Check.from_dict(_redis)

        checks = cls(
            postgres=postgres,
            redis=redis,
        )

        checks.additional_properties = d
        return checks

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
