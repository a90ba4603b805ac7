from enum import StrEnum


class CreateSessionDataBodyGrantType(StrEnum):
    PASSWORD = "password"

    def __str__(self) -> str:
        return str(self.value)
