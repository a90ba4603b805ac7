from enum import StrEnum


class RefreshTokenDataBodyGrantType(StrEnum):
    REFRESH_TOKEN = "refresh_token"

    def __str__(self) -> str:
        return str(self.value)
