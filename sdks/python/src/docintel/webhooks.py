"""Verifying that a webhook delivery came from docintel.

Each delivery carries ``Docintel-Signature: t=<unix seconds>,v1=<hex>``, the hex being
the HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with the subscription's whole secret
(``whsec_…`` included). While a rotated secret is still valid the header has one ``v1=``
per secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Optional, Union

from ._errors import WebhookSignatureError
from ._generated.models import WebhookEvent

#: How far a signature's time may be from now by default (seconds): the API's advice.
DEFAULT_TOLERANCE = 300.0


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _bytes(body: Union[bytes, str]) -> bytes:
    return body.encode() if isinstance(body, str) else bytes(body)


def sign(secret: str, body: Union[bytes, str], timestamp: Optional[int] = None) -> str:
    """The ``Docintel-Signature`` header docintel would send for ``body`` at
    ``timestamp`` (unix seconds, default now): for your receiver's tests.

    >>> import docintel
    >>> docintel.webhooks.sign("whsec_test", b"{}", timestamp=1700000000)[:16]
    't=1700000000,v1='
    """
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_mac(secret, t, _bytes(body))}"


def verify_signature(
    secret: str, header: str, body: Union[bytes, str], tolerance: float = DEFAULT_TOLERANCE
) -> None:
    """Raises ``WebhookSignatureError`` unless one ``v1`` signature in ``header`` is the
    HMAC of ``body`` under ``secret`` and its time is within ``tolerance`` seconds of
    now. Pass the raw body, before any JSON parsing. Compares in constant time.

    >>> import docintel
    >>> header = docintel.webhooks.sign("whsec_a", b"{}")
    >>> docintel.webhooks.verify_signature("whsec_a", header, b"{}")
    """
    timestamp: Optional[int] = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise WebhookSignatureError("malformed Docintel-Signature header")
        if key == "t":
            if not value.isdigit() or len(value) > 12:
                raise WebhookSignatureError("malformed Docintel-Signature header: bad t=")
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value.lower())
        # Other schemes may be added later: ignored, not refused.
    if timestamp is None or not signatures:
        raise WebhookSignatureError("malformed Docintel-Signature header: needs t= and v1=")
    age = abs(time.time() - timestamp)
    if age > tolerance:
        raise WebhookSignatureError(
            f"the signature is {age:.0f} s away from now; tolerance is {tolerance:g} s"
        )
    expected = _mac(secret, timestamp, _bytes(body))
    # Every entry is compared (no early exit), each in constant time.
    matched = False
    for signature in signatures:
        matched |= hmac.compare_digest(expected, signature)
    if not matched:
        raise WebhookSignatureError("no signature matches this secret and body")


def construct_event(
    secret: str, header: str, body: Union[bytes, str], tolerance: float = DEFAULT_TOLERANCE
) -> WebhookEvent:
    """Verifies a delivery (see ``verify_signature``) and parses it into a typed event:
    one call in your receiver, from the raw body to the event.

    >>> import docintel
    >>> body = b'{"id":"evt_1","type":"doc.processed","created":"2026-12-01T10:00:00Z","data":null}'
    >>> header = docintel.webhooks.sign("whsec_a", body)   # as docintel sends it
    >>> event = docintel.construct_event("whsec_a", header, body)
    >>> event.type_.value
    'doc.processed'
    """
    verify_signature(secret, header, body, tolerance)
    try:
        data = json.loads(_bytes(body))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        event: WebhookEvent = WebhookEvent.from_dict(data)
        return event
    except (ValueError, KeyError, TypeError) as e:
        raise WebhookSignatureError(f"the body is not a webhook event: {e}") from e
