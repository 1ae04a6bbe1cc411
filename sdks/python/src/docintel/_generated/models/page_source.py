from enum import StrEnum


class PageSource(StrEnum):
    NONE = "none"
    OCR = "ocr"
    TEXT_LAYER = "text_layer"

    def __str__(self) -> str:
        return str(self.value)
