from enum import StrEnum


class PrincipalCredential(StrEnum):
    API_KEY = "api-key"
    BEARER = "bearer"
    COOKIE = "cookie"

    def __str__(self) -> str:
        return str(self.value)
