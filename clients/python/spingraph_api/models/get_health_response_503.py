from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.checks import Checks
    from ..models.problem_errors_item import ProblemErrorsItem


T = TypeVar("T", bound="GetHealthResponse503")


@_attrs_define
class GetHealthResponse503:
    """
    Attributes:
        type_ (str):
        title (str):
        status (int):
        detail (str):
        instance (str):
        request_id (str):
        errors (list[ProblemErrorsItem] | Unset):
        failed (list[str] | Unset):
        checks (Checks | Unset):
    """

    type_: str
    title: str
    status: int
    detail: str
    instance: str
    request_id: str
    errors: list[ProblemErrorsItem] | Unset = UNSET
    failed: list[str] | Unset = UNSET
    checks: Checks | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        title = self.title

        status = self.status

        detail = self.detail

        instance = self.instance

        request_id = self.request_id

        errors: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.errors, Unset):
            errors = []
            for errors_item_data in self.errors:
                errors_item = errors_item_data.to_dict()
                errors.append(errors_item)

        failed: list[str] | Unset = UNSET
        if not isinstance(self.failed, Unset):
            failed = self.failed

        checks: dict[str, Any] | Unset = UNSET
        if not isinstance(self.checks, Unset):
            checks = self.checks.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "title": title,
                "status": status,
                "detail": detail,
                "instance": instance,
                "request_id": request_id,
            }
        )
        if errors is not UNSET:
            field_dict["errors"] = errors
        if failed is not UNSET:
            field_dict["failed"] = failed
        if checks is not UNSET:
            field_dict["checks"] = checks

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.checks import Checks
        from ..models.problem_errors_item import ProblemErrorsItem

        d = dict(src_dict)
        type_ = d.pop("type")

        title = d.pop("title")

        status = d.pop("status")

        detail = d.pop("detail")

        instance = d.pop("instance")

        request_id = d.pop("request_id")

        _errors = d.pop("errors", UNSET)
        errors: list[ProblemErrorsItem] | Unset = UNSET
        if _errors is not UNSET:
            errors = []
            for errors_item_data in _errors:
                errors_item = ProblemErrorsItem.from_dict(errors_item_data)

                errors.append(errors_item)

        failed = cast(list[str], d.pop("failed", UNSET))

        _checks = d.pop("checks", UNSET)
        checks: Checks | Unset
        if isinstance(_checks, Unset):
            checks = UNSET
        else:
            checks = Checks.from_dict(_checks)

        get_health_response_503 = cls(
            type_=type_,
            title=title,
            status=status,
            detail=detail,
            instance=instance,
            request_id=request_id,
            errors=errors,
            failed=failed,
            checks=checks,
        )

        get_health_response_503.additional_properties = d
        return get_health_response_503

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
