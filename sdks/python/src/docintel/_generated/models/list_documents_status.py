from enum import StrEnum


class ListDocumentsStatus(StrEnum):
    FAILED = "failed"
    PROCESSED = "processed"
    PROCESSING = "processing"
    QUEUED = "queued"

    def __str__(self) -> str:
        return str(self.value)
