from enum import StrEnum


class CreateEntitiesBatchBodyOnConflict(StrEnum):
    ERROR = "error"
    SKIP = "skip"
    UPDATE = "update"

    def __str__(self) -> str:
        return str(self.value)
