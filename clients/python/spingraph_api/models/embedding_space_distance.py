from enum import StrEnum


class EmbeddingSpaceDistance(StrEnum):
    COSINE = "cosine"
    INNER_PRODUCT = "inner_product"
    L2 = "l2"

    def __str__(self) -> str:
        return str(self.value)
