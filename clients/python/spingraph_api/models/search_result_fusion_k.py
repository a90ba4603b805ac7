from enum import IntEnum


class SearchResultFusionK(IntEnum):
    VALUE_60 = 60

    def __str__(self) -> str:
        return str(self.value)
