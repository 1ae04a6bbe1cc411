"""The exceptions the SDK raises, one hierarchy a caller can catch at any level."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Optional

# The most of an error body read into an exception: a hostile or broken server must not
# make the SDK hold megabytes per error.
_BODY_LIMIT = 64 * 1024


class DocintelError(Exception):
    """The base of every exception this SDK raises.

    >>> import docintel
    >>> issubclass(docintel.NotFoundError, docintel.DocintelError)
    True
    """


class APIConnectionError(DocintelError):
    """The server could not be reached, or the connection broke before an answer (after
    the retries the policy allows).

    >>> nowhere = docintel.Client("http://127.0.0.1:9", "dik_x", retry=docintel.RetryPolicy(max_attempts=1))
    >>> try:
    ...     nowhere.list_documents()
    ... except docintel.APIConnectionError as e:
    ...     print(type(e).__name__)
    APIConnectionError
    """


class APITimeoutError(APIConnectionError):
    """The request timed out (``Client(timeout=…)`` seconds).

    >>> issubclass(docintel.APITimeoutError, docintel.APIConnectionError)
    True
    """


class APIError(DocintelError):
    """The server answered with an error: an RFC 9457 problem document.

    ``status`` is the HTTP status, ``code`` the stable machine-readable name (see
    ``/problems/{code}``), ``title`` and ``detail`` are for humans, ``request_id`` is the
    answer's ``X-Request-Id`` (quote it when reporting a problem), and ``retry_after``
    the seconds the server asked to wait (429, 503), else ``None``.

    >>> import docintel
    >>> e = docintel.APIError(404, code="not_found", title="Not Found", detail="no such document")
    >>> (e.status, e.code, str(e))
    (404, 'not_found', '404 not_found: no such document')
    """

    def __init__(
        self,
        status: int,
        *,
        code: Optional[str] = None,
        title: Optional[str] = None,
        detail: Optional[str] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        body: Any = None,
    ) -> None:
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body
        what = detail or title or "error"
        super().__init__(f"{status} {code}: {what}" if code else f"{status}: {what}")


class BadRequestError(APIError):
    """400: the request was malformed (bad parameter, empty upload, bad file name).

    >>> try:
    ...     client.upload(b"", "empty.txt")
    ... except docintel.BadRequestError as e:
    ...     print(e.code)
    empty_body
    """


class AuthenticationError(APIError):
    """401: the API key is missing, unknown, revoked or expired.

    >>> try:
    ...     docintel.Client(api_key="dik_wrong").list_documents()
    ... except docintel.AuthenticationError as e:
    ...     print(e.status, e.code)
    401 unauthorized
    """


class PermissionDeniedError(APIError):
    """403: the key may not do this."""


class NotFoundError(APIError):
    """404: no such document, webhook or route.

    >>> try:
    ...     client.get_document("0192f0c4-0000-7000-8000-000000000404")
    ... except docintel.NotFoundError as e:
    ...     print(e.code, e.detail)
    not_found no document with id 0192f0c4-0000-7000-8000-000000000404
    """


class ConflictError(APIError):
    """409: the resource is not in a state for this (e.g. text of a failed document)."""


class PayloadTooLargeError(APIError):
    """413: the upload (or body) is over the server's limit."""


class UnsupportedMediaTypeError(APIError):
    """415: the file's type is not one docintel accepts, or mismatches Content-Type."""


class UnprocessableEntityError(APIError):
    """422: well-formed but refused (e.g. an Idempotency-Key reused for another request)."""


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` says how long to wait. Raised once the
    retries are spent, or at once when ``Retry-After`` is longer than the policy waits.

    >>> e = docintel.RateLimitError(429, code="rate_limited", retry_after=2.0)
    >>> e.retry_after
    2.0
    """


class InternalServerError(APIError):
    """5xx: the server failed."""


class ServiceUnavailableError(InternalServerError):
    """503: the server is overloaded or shutting down; ``retry_after`` may say when to retry."""


class APIResponseValidationError(APIError):
    """A success answer whose body is not what the API documents."""


class ProcessingFailedError(DocintelError):
    """``upload_and_wait``: docintel could not process the document; ``document`` holds it
    and ``document.failure`` says why.

    >>> try:
    ...     client.upload_and_wait(b"%PDF-1.4 broken", filename="broken.pdf")
    ... except docintel.ProcessingFailedError as e:
    ...     print(e.document.status.value)
    failed
    """

    def __init__(self, document: Any) -> None:
        self.document = document
        super().__init__(f"document {document.id} failed: {document.failure}")


class WaitTimeoutError(DocintelError):
    """``upload_and_wait``: the document was not processed within the timeout;
    ``document`` is its last state (poll on with ``wait``).

    >>> try:
    ...     doc = client.upload_and_wait("invoice.pdf", timeout=120)
    ... except docintel.WaitTimeoutError as e:
    ...     doc = client.wait(e.document.id, timeout=600)
    """

    def __init__(self, document: Any, timeout: float) -> None:
        self.document = document
        self.timeout = timeout
        super().__init__(
            f"document {document.id} is still {document.status} after {timeout:g} s"
        )


class WebhookSignatureError(DocintelError):
    """``construct_event``: the delivery's signature is malformed, stale or wrong, or its
    body is not an event. Answer such a request with 400 and do not trust its body.

    >>> try:
    ...     docintel.construct_event("whsec_a", "t=1,v1=00", b"{}")
    ... except docintel.WebhookSignatureError as e:
    ...     print(e)
    the signature is ... s away from now; tolerance is 300 s
    """


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def _str(v: Any) -> Optional[str]:
    return v if isinstance(v, str) else None


def parse_retry_after(headers: Mapping[str, str]) -> Optional[float]:
    """``Retry-After`` in seconds, from delay-seconds or an HTTP-date; ``None`` when
    absent or unreadable."""
    from email.utils import parsedate_to_datetime
    from datetime import datetime, timezone

    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return max(0.0, (at - datetime.now(timezone.utc)).total_seconds())


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> APIError:
    """The exception for an error answer. Reads the problem document when the body is
    one, and still gives a typed error with the status when it is not (a proxy's HTML
    page, a truncated body)."""
    problem: Any = None
    try:
        problem = json.loads(body[:_BODY_LIMIT])
    except (ValueError, UnicodeDecodeError):
        pass
    if not isinstance(problem, dict):
        problem = {}
    try:
        reason: Optional[str] = HTTPStatus(status).phrase
    except ValueError:
        reason = None
    detail = _str(problem.get("detail"))
    if detail is None and body and not problem:
        detail = body[:500].decode("utf-8", "replace").strip() or None
    cls = _BY_STATUS.get(status) or (InternalServerError if status >= 500 else APIError)
    return cls(
        status,
        code=_str(problem.get("code")),
        title=_str(problem.get("title")) or reason,
        detail=detail,
        request_id=headers.get("x-request-id") or _str(problem.get("request_id")),
        retry_after=parse_retry_after(headers),
        body=problem or None,
    )
