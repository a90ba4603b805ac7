from enum import StrEnum


class SearchResultFusionMethod(StrEnum):
    RRF = "rrf"

    def __str__(self) -> str:
        return str(self.value)
