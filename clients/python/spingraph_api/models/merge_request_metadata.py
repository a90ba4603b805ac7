from enum import StrEnum


class MergeRequestMetadata(StrEnum):
    KEEP = "keep"
    MERGE = "merge"

    def __str__(self) -> str:
        return str(self.value)
