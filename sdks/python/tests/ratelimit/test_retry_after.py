"""Against a real server with a tight per-key limit (sdks/python/check starts it with
--rate-limit 2/2): the SDK waits as Retry-After says and the calls succeed."""

import time

import pytest

import docintel


def test_429s_are_retried_after_the_servers_retry_after(server):
    seen = []

    import httpx

    class Watch(httpx.BaseTransport):
        inner = httpx.HTTPTransport()

        def handle_request(self, request):
            response = self.inner.handle_request(request)
            seen.append((response.status_code, response.headers.get("retry-after"), time.monotonic()))
            return response

    with docintel.Client(*server, transport=Watch(), retry=docintel.RetryPolicy(max_attempts=10)) as c:
        for _ in range(5):
            c.list_documents(limit=1)
    statuses = [s for s, _, _ in seen]
    assert statuses.count(200) == 5 and 429 in statuses
    for i, (status, after, at) in enumerate(seen[:-1]):
        if status == 429:
            assert after is not None
            # The next attempt came no sooner than the server asked.
            assert seen[i + 1][2] - at >= float(after) - 0.05


def test_without_retries_the_429_is_a_typed_error(server):
    with docintel.Client(*server, retry=docintel.RetryPolicy(max_attempts=1)) as c:
        with pytest.raises(docintel.RateLimitError) as e:
            for _ in range(10):
                c.list_documents(limit=1)
    assert e.value.status == 429 and e.value.retry_after is not None and e.value.code
