from enum import StrEnum


class CreateTokenDataBodyGrantType(StrEnum):
    PASSWORD = "password"

    def __str__(self) -> str:
        return str(self.value)
