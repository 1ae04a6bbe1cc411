"""docintel: the Python SDK of the docintel Document Intelligence API.

>>> import docintel
>>> docintel.API_VERSION
'2.1.0'
"""

from . import layout, models, webhooks
from ._client import AsyncClient, AsyncPage, Client, Page
from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DocintelError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ProcessingFailedError,
    RateLimitError,
    ServiceUnavailableError,
    UnprocessableEntityError,
    UnsupportedMediaTypeError,
    WaitTimeoutError,
    WebhookSignatureError,
)
from ._retry import RetryPolicy
from ._version import API_VERSION, __version__
from .webhooks import construct_event

__all__ = [
    "API_VERSION", "APIConnectionError", "APIError", "APIResponseValidationError",
    "APITimeoutError", "AsyncClient", "AsyncPage", "AuthenticationError", "BadRequestError",
    "Client", "ConflictError", "DocintelError", "InternalServerError", "NotFoundError", "Page",
    "PayloadTooLargeError", "PermissionDeniedError", "ProcessingFailedError", "RateLimitError",
    "RetryPolicy", "ServiceUnavailableError", "UnprocessableEntityError",
    "UnsupportedMediaTypeError", "WaitTimeoutError", "WebhookSignatureError", "__version__",
    "construct_event", "layout", "models", "webhooks",
]
