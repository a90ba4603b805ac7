from enum import StrEnum


class ExportGraphFormat(StrEnum):
    GRAPHML = "graphml"
    JSONLD = "jsonld"
    NDJSON = "ndjson"

    def __str__(self) -> str:
        return str(self.value)
