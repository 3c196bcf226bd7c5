from enum import StrEnum


class Scope(StrEnum):
    ADMIN = "admin"
    REGULAR = "regular"
    SUPERUSER = "superuser"

    def __str__(self) -> str:
        return str(self.value)
