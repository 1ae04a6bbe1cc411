"""Retries with backoff, run under every request as an httpx transport: one policy for
the sync and the async client."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Optional

import httpx

from ._errors import parse_retry_after

# What the Rust SDK retries too (sdks/rust/src/hooks.rs): the answers that say "later".
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
_SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Failures another attempt may not meet; not, e.g., a base URL with an unknown scheme.
_TRANSIENT = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    """How requests are retried. The defaults are the Rust SDK's.

    Only safe requests are retried: GET, HEAD, PUT, DELETE, OPTIONS, and a POST that
    carries an ``Idempotency-Key`` (uploads always do). They are retried after a
    connection error or a 429, 502, 503 or 504 answer. The wait is the answer's
    ``Retry-After`` when it has one (a ``Retry-After`` over ``max_retry_after`` is not
    waited for: the error is raised), else exponential backoff with full jitter: a
    random time up to ``min(max_backoff, initial_backoff * 2**(retry-1))``.

    >>> import docintel
    >>> docintel.RetryPolicy().max_attempts
    4
    >>> client = docintel.Client("http://127.0.0.1:1", "dik_x", retry=docintel.RetryPolicy(max_attempts=1))
    """

    #: Attempts in all, the first included; 1 disables retries.
    max_attempts: int = 4
    #: Seconds before the first retry; doubled for each further one, with full jitter.
    initial_backoff: float = 0.1
    #: The longest backoff between two attempts, in seconds.
    max_backoff: float = 5.0
    #: A ``Retry-After`` longer than this many seconds is not waited for.
    max_retry_after: float = 60.0

    def backoff(self, retry: int) -> float:
        """Full-jitter exponential backoff before retry number ``retry`` (1-based)."""
        cap = min(self.max_backoff, self.initial_backoff * (2 ** min(retry - 1, 16)))
        return random.uniform(0, cap)

    def delay(self, request: httpx.Request, attempt: int, response: Optional[httpx.Response]) -> Optional[float]:
        """Seconds to wait before another attempt, or ``None`` to stop here. ``response``
        is ``None`` after a connection error."""
        if attempt >= self.max_attempts or not is_retry_safe(request):
            return None
        if response is None:
            return self.backoff(attempt)
        if response.status_code not in RETRYABLE_STATUSES:
            return None
        after = parse_retry_after(response.headers)
        if after is None:
            return self.backoff(attempt)
        return after if after <= self.max_retry_after else None


def is_retry_safe(request: httpx.Request) -> bool:
    """Whether sending ``request`` twice does no harm."""
    return request.method in _SAFE_METHODS or "idempotency-key" in request.headers


class RetryTransport(httpx.BaseTransport):
    """Sends through ``inner``, retrying as ``policy`` says."""

    def __init__(self, inner: httpx.BaseTransport, policy: RetryPolicy) -> None:
        self._inner = inner
        self._policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 1
        while True:
            try:
                response = self._inner.handle_request(request)
            except _TRANSIENT:
                wait = self._policy.delay(request, attempt, None)
                if wait is None:
                    raise
            else:
                wait = self._policy.delay(request, attempt, response)
                if wait is None:
                    return response
                response.close()
            time.sleep(wait)
            attempt += 1

    def close(self) -> None:
        self._inner.close()


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """``RetryTransport`` for ``httpx.AsyncClient``: the same policy, awaited sleeps."""

    def __init__(self, inner: httpx.AsyncBaseTransport, policy: RetryPolicy) -> None:
        self._inner = inner
        self._policy = policy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 1
        while True:
            try:
                response = await self._inner.handle_async_request(request)
            except _TRANSIENT:
                wait = self._policy.delay(request, attempt, None)
                if wait is None:
                    raise
            else:
                wait = self._policy.delay(request, attempt, response)
                if wait is None:
                    return response
                await response.aclose()
            await asyncio.sleep(wait)
            attempt += 1

    async def aclose(self) -> None:
        await self._inner.aclose()
