from enum import StrEnum


class EmbeddingSpaceDefinitionDistance(StrEnum):
    COSINE = "cosine"
    INNER_PRODUCT = "inner_product"
    L2 = "l2"

    def __str__(self) -> str:
        return str(self.value)
