from enum import StrEnum


class PageUnit(StrEnum):
    PT = "pt"
    PX = "px"

    def __str__(self) -> str:
        return str(self.value)
