from __future__ import annotations

from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    Self,
    TypeVar,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.checks import Checks
    from ..models.health_components_item import HealthComponentsItem


T = TypeVar("T", bound="Health")


@_attrs_define
class Health:
    """
    Attributes:
        status (Literal['up']):
        checks (Checks):
        components (list[HealthComponentsItem]):
    """

    status: Literal["up"]
    checks: Checks
    components: list[HealthComponentsItem]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status

        checks = self.checks.to_dict()

        components = []
        for components_item_data in self.components:
            components_item = components_item_data.to_dict()
            components.append(components_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
                "checks": checks,
                "components": components,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.checks import Checks
        from ..models.health_components_item import HealthComponentsItem

        d = dict(src_dict)
        status = cast(Literal["up"], d.pop("status"))
        if status != "up":
            raise ValueError(f"status must match const 'up', got '{status}'")

        checks = Checks.from_dict(d.pop("checks"))

        components = []
        _components = d.pop("components")
        for components_item_data in _components:
            components_item = HealthComponentsItem.from_dict(components_item_data)

            components.append(components_item)

        health = cls(
            status=status,
            checks=checks,
            components=components,
        )

        health.additional_properties = d
        return health

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
