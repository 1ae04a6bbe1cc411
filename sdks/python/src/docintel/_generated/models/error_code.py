from enum import StrEnum


class ErrorCode(StrEnum):
    BODY_READ_FAILED = "body_read_failed"
    BODY_TOO_SLOW = "body_too_slow"
    EMPTY_BODY = "empty_body"
    GONE = "gone"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    INSUFFICIENT_STORAGE = "insufficient_storage"
    INTERNAL = "internal"
    INVALID_BODY = "invalid_body"
    INVALID_FILENAME = "invalid_filename"
    INVALID_ID = "invalid_id"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    INVALID_MULTIPART = "invalid_multipart"
    INVALID_PAGE_TOKEN = "invalid_page_token"
    INVALID_PARAMETER = "invalid_parameter"
    INVALID_WEBHOOK = "invalid_webhook"
    MALFORMED_JSON = "malformed_json"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_FOUND = "not_found"
    NOT_PROCESSED = "not_processed"
    OVERLOADED = "overloaded"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    PROCESSING_FAILED = "processing_failed"
    QUOTA_EXCEEDED = "quota_exceeded"
    RATE_LIMITED = "rate_limited"
    TOO_MANY_IN_FLIGHT = "too_many_in_flight"
    TOO_MANY_KEYS = "too_many_keys"
    TOO_MANY_WEBHOOKS = "too_many_webhooks"
    UNAUTHORIZED = "unauthorized"
    UNAVAILABLE = "unavailable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"

    def __str__(self) -> str:
        return str(self.value)
