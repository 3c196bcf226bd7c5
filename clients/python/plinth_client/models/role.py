from enum import StrEnum


class Role(StrEnum):
    CREATOR = "creator"
    MEMBER = "member"

    def __str__(self) -> str:
        return str(self.value)
