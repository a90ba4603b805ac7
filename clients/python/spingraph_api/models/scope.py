from enum import StrEnum


class Scope(StrEnum):
    ADMIN = "admin"
    CHANGESREAD = "changes:read"
    ENTITIESREAD = "entities:read"
    ENTITIESWRITE = "entities:write"
    EXPORT = "export"
    RELATIONSHIPSREAD = "relationships:read"
    RELATIONSHIPSWRITE = "relationships:write"

    def __str__(self) -> str:
        return str(self.value)
