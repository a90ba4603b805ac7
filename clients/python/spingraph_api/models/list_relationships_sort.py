from enum import StrEnum


class ListRelationshipsSort(StrEnum):
    CONFIDENCE = "confidence"
    CREATED_AT = "created_at"
    TYPE = "type"
    VALUE_1 = "-created_at"
    VALUE_3 = "-confidence"
    VALUE_5 = "-type"

    def __str__(self) -> str:
        return str(self.value)
