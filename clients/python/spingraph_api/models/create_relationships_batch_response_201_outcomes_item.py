from enum import StrEnum


class CreateRelationshipsBatchResponse201OutcomesItem(StrEnum):
    CREATED = "created"
    SKIPPED = "skipped"
    UPDATED = "updated"

    def __str__(self) -> str:
        return str(self.value)
