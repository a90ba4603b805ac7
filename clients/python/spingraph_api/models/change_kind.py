from enum import StrEnum


class ChangeKind(StrEnum):
    ENTITY = "entity"
    RELATIONSHIP = "relationship"

    def __str__(self) -> str:
        return str(self.value)
