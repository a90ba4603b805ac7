from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.refresh_token_data_body_grant_type import RefreshTokenDataBodyGrantType
from ..types import UNSET, Unset

T = TypeVar("T", bound="RefreshTokenDataBody")


@_attrs_define
class RefreshTokenDataBody:
    """
    Attributes:
        refresh_token (str):
        grant_type (RefreshTokenDataBodyGrantType | Unset):
    """

    refresh_token: str
    grant_type: RefreshTokenDataBodyGrantType | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        refresh_token = self.refresh_token

        grant_type: str | Unset = UNSET
        if not isinstance(self.grant_type, Unset):
            grant_type = self.grant_type.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "refresh_token": refresh_token,
            }
        )
        if grant_type is not UNSET:
            field_dict["grant_type"] = grant_type

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        refresh_token = d.pop("refresh_token")

        _grant_type = d.pop("grant_type", UNSET)
        grant_type: RefreshTokenDataBodyGrantType | Unset
        if isinstance(_grant_type, Unset):
            grant_type = UNSET
        else:
            grant_type = RefreshTokenDataBodyGrantType(_grant_type)

        refresh_token_data_body = cls(
            refresh_token=refresh_token,
            grant_type=grant_type,
        )

        return refresh_token_data_body
