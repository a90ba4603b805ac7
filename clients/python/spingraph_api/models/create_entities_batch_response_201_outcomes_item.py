from enum import StrEnum


class CreateEntitiesBatchResponse201OutcomesItem(StrEnum):
    CREATED = "created"
    SKIPPED = "skipped"
    UPDATED = "updated"

    def __str__(self) -> str:
        return str(self.value)
