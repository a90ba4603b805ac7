from enum import StrEnum


class UnmergedMetadata(StrEnum):
    KEPT = "kept"
    RESTORED = "restored"
    UNCHANGED = "unchanged"

    def __str__(self) -> str:
        return str(self.value)
