from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.change_kind import ChangeKind
from ..models.change_op import ChangeOp
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.change_document_type_1 import ChangeDocumentType1


T = TypeVar("T", bound="Change")


@_attrs_define
class Change:
    """
    Attributes:
        cursor (str): Resume after this change (`after=`)
        seq (int):
        kind (ChangeKind):
        op (ChangeOp): `embedding`: one of the entity's vectors was written or deleted (by a PUT, a batch, a merge
            copying one to the survivor, or an unmerge taking it back); the document is the entity plus `"embedding":
            {"space", "present"}`
        id (UUID):
        type_ (str):
        version (int): The version the change made
        actor_id (None | UUID):
        at (datetime.datetime): RFC 3339, UTC
        document (ChangeDocumentType1 | None): The entity or relationship after the change; `null` for a delete (a
            tombstone), or when `withheld`
        withheld (bool | Unset): Present when the document was left out because the reader could not GET it directly:
            entity documents need `entities:read`, relationship documents `relationships:read` (or the write scope)
    """

    cursor: str
    seq: int
    kind: ChangeKind
    op: ChangeOp
    id: UUID
    type_: str
    version: int
    actor_id: None | UUID
    at: datetime.datetime
    document: ChangeDocumentType1 | None
    withheld: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.change_document_type_1 import ChangeDocumentType1

        cursor = self.cursor

        seq = self.seq

        kind = self.kind.value

        op = self.op.value

        id = str(self.id)

        type_ = self.type_

        version = self.version

        actor_id: None | str
        if isinstance(self.actor_id, UUID):
            actor_id = str(self.actor_id)
        else:
            actor_id = self.actor_id

        at = self.at.isoformat()

        document: dict[str, Any] | None
        if isinstance(self.document, ChangeDocumentType1):
            document = self.document.to_dict()
        else:
            document = self.document

        withheld = self.withheld

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cursor": cursor,
                "seq": seq,
                "kind": kind,
                "op": op,
                "id": id,
                "type": type_,
                "version": version,
                "actor_id": actor_id,
                "at": at,
                "document": document,
            }
        )
        if withheld is not UNSET:
            field_dict["withheld"] = withheld

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.change_document_type_1 import ChangeDocumentType1

        d = dict(src_dict)
        cursor = d.pop("cursor")

        seq = d.pop("seq")

        kind = ChangeKind(d.pop("kind"))

        op = ChangeOp(d.pop("op"))

        id = UUID(d.pop("id"))

        type_ = d.pop("type")

        version = d.pop("version")

        def _parse_actor_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                actor_id_type_0 = UUID(data)

                return actor_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        actor_id = _parse_actor_id(d.pop("actor_id"))

        at = datetime.datetime.fromisoformat(d.pop("at"))

        def _parse_document(data: object) -> ChangeDocumentType1 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                document_type_1 = ChangeDocumentType1.from_dict(data)

                return document_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ChangeDocumentType1 | None, data)

        document = _parse_document(d.pop("document"))

        withheld = d.pop("withheld", UNSET)

        change = cls(
            cursor=cursor,
            seq=seq,
            kind=kind,
            op=op,
            id=id,
            type_=type_,
            version=version,
            actor_id=actor_id,
            at=at,
            document=document,
            withheld=withheld,
        )

        change.additional_properties = d
        return change

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
