from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.create_token_data_body_grant_type import CreateTokenDataBodyGrantType
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateTokenDataBody")


@_attrs_define
class CreateTokenDataBody:
    """
    Attributes:
        username (str):
        password (str):
        grant_type (CreateTokenDataBodyGrantType | Unset):
    """

    username: str
    password: str
    grant_type: CreateTokenDataBodyGrantType | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        username = self.username

        password = self.password

        grant_type: str | Unset = UNSET
        if not isinstance(self.grant_type, Unset):
            grant_type = self.grant_type.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "username": username,
                "password": password,
            }
        )
        if grant_type is not UNSET:
            field_dict["grant_type"] = grant_type

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        username = d.pop("username")

        password = d.pop("password")

        _grant_type = d.pop("grant_type", UNSET)
        grant_type: CreateTokenDataBodyGrantType | Unset
        if isinstance(_grant_type, Unset):
            grant_type = UNSET
        else:
            grant_type = CreateTokenDataBodyGrantType(_grant_type)

        create_token_data_body = cls(
            username=username,
            password=password,
            grant_type=grant_type,
        )

        return create_token_data_body
