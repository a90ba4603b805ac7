from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.principal_credential import PrincipalCredential
from ..models.role import Role
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.principal_sign_in_failures import PrincipalSignInFailures


T = TypeVar("T", bound="Principal")


@_attrs_define
class Principal:
    """
    Attributes:
        id (UUID):
        role (Role):
        credential (PrincipalCredential):
        email (None | str | Unset):
        scopes (list[str] | None | Unset):
        expires_at (int | None | str | Unset):
        sign_in_failures (PrincipalSignInFailures | Unset): Failed password sign-ins on this account: every failure
            since each client network's
            last success, how many networks are locked out of the account now (five failures in a
            row from one network lock that network, not the owner), and the latest failure.
    """

    id: UUID
    role: Role
    credential: PrincipalCredential
    email: None | str | Unset = UNSET
    scopes: list[str] | None | Unset = UNSET
    expires_at: int | None | str | Unset = UNSET
    sign_in_failures: PrincipalSignInFailures | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        role = self.role.value

        credential = self.credential.value

        email: None | str | Unset
        if isinstance(self.email, Unset):
            email = UNSET
        else:
            email = self.email

        scopes: list[str] | None | Unset
        if isinstance(self.scopes, Unset):
            scopes = UNSET
        elif isinstance(self.scopes, list):
            scopes = self.scopes

        else:
            scopes = self.scopes

        expires_at: int | None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = self.expires_at

        sign_in_failures: dict[str, Any] | Unset = UNSET
        if not isinstance(self.sign_in_failures, Unset):
            sign_in_failures = self.sign_in_failures.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "role": role,
                "credential": credential,
            }
        )
        if email is not UNSET:
            field_dict["email"] = email
        if scopes is not UNSET:
            field_dict["scopes"] = scopes
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if sign_in_failures is not UNSET:
            field_dict["sign_in_failures"] = sign_in_failures

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.principal_sign_in_failures import PrincipalSignInFailures

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        role = Role(d.pop("role"))

        credential = PrincipalCredential(d.pop("credential"))

        def _parse_email(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        email = _parse_email(d.pop("email", UNSET))

        def _parse_scopes(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                scopes_type_0 = cast(list[str], data)

                return scopes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        scopes = _parse_scopes(d.pop("scopes", UNSET))

        def _parse_expires_at(data: object) -> int | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | str | Unset, data)

        expires_at = _parse_expires_at(d.pop("expires_at", UNSET))

        _sign_in_failures = d.pop("sign_in_failures", UNSET)
        sign_in_failures: PrincipalSignInFailures | Unset
        if isinstance(_sign_in_failures, Unset):
            sign_in_failures = UNSET
        else:
            sign_in_failures = PrincipalSignInFailures.from_dict(_sign_in_failures)

        principal = cls(
            id=id,
            role=role,
            credential=credential,
            email=email,
            scopes=scopes,
            expires_at=expires_at,
            sign_in_failures=sign_in_failures,
        )

        principal.additional_properties = d
        return principal

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
