from enum import StrEnum


class ChangeOp(StrEnum):
    CREATE = "create"
    DELETE = "delete"
    EMBEDDING = "embedding"
    MERGE = "merge"
    RESTORE = "restore"
    UPDATE = "update"

    def __str__(self) -> str:
        return str(self.value)
