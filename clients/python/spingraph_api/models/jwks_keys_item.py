from __future__ import annotations

from collections.abc import Mapping
from typing import (
    Any,
    Literal,
    Self,
    TypeVar,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="JwksKeysItem")


@_attrs_define
class JwksKeysItem:
    """
    Attributes:
        kty (Literal['OKP']):
        kid (str):
        crv (Literal['Ed25519'] | Unset):
        alg (Literal['EdDSA'] | Unset):
        use (Literal['sig'] | Unset):
        x (str | Unset):
    """

    kty: Literal["OKP"]
    kid: str
    crv: Literal["Ed25519"] | Unset = UNSET
    alg: Literal["EdDSA"] | Unset = UNSET
    use: Literal["sig"] | Unset = UNSET
    x: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        kty = self.kty

        kid = self.kid

        crv = self.crv

        alg = self.alg

        use = self.use

        x = self.x

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kty": kty,
                "kid": kid,
            }
        )
        if crv is not UNSET:
            field_dict["crv"] = crv
        if alg is not UNSET:
            field_dict["alg"] = alg
        if use is not UNSET:
            field_dict["use"] = use
        if x is not UNSET:
            field_dict["x"] = x

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        kty = cast(Literal["OKP"], d.pop("kty"))
        if kty != "OKP":
            raise ValueError(f"kty must match const 'OKP', got '{kty}'")

        kid = d.pop("kid")

        crv = cast(Literal["Ed25519"] | Unset, d.pop("crv", UNSET))
        if crv != "Ed25519" and not isinstance(crv, Unset):
            raise ValueError(f"crv must match const 'Ed25519', got '{crv}'")

        alg = cast(Literal["EdDSA"] | Unset, d.pop("alg", UNSET))
        if alg != "EdDSA" and not isinstance(alg, Unset):
            raise ValueError(f"alg must match const 'EdDSA', got '{alg}'")

        use = cast(Literal["sig"] | Unset, d.pop("use", UNSET))
        if use != "sig" and not isinstance(use, Unset):
            raise ValueError(f"use must match const 'sig', got '{use}'")

        x = d.pop("x", UNSET)

        jwks_keys_item = cls(
            kty=kty,
            kid=kid,
            crv=crv,
            alg=alg,
            use=use,
            x=x,
        )

        jwks_keys_item.additional_properties = d
        return jwks_keys_item

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
