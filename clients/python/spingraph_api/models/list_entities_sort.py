from enum import StrEnum


class ListEntitiesSort(StrEnum):
    CONFIDENCE = "confidence"
    CREATED_AT = "created_at"
    NAME = "name"
    VALUE_1 = "-created_at"
    VALUE_3 = "-name"
    VALUE_5 = "-confidence"

    def __str__(self) -> str:
        return str(self.value)
