from enum import StrEnum


class WebhookEventType(StrEnum):
    DOC_CLASSIFIED = "doc.classified"
    DOC_FAILED = "doc.failed"
    DOC_PROCESSED = "doc.processed"

    def __str__(self) -> str:
        return str(self.value)
