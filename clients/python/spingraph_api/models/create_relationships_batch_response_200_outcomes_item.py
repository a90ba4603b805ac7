from enum import StrEnum


class CreateRelationshipsBatchResponse200OutcomesItem(StrEnum):
    CREATED = "created"
    SKIPPED = "skipped"
    UPDATED = "updated"

    def __str__(self) -> str:
        return str(self.value)
