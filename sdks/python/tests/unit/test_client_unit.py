"""What the client does with answers the real server cannot be made to give: deprecated
operations, hostile error bodies, a Retry-After beyond the policy. These use
httpx.MockTransport as the server, and say so."""

import json
import pathlib
import warnings

import httpx
import pytest

import docintel

DOC = {
    "id": "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11", "filename": "a.txt", "status": "processed",
    "metadata": {"content_type": "text/plain", "sha256": "00", "size_bytes": 1},
    "warnings": [], "created_at": "2026-11-21T10:00:00Z", "updated_at": "2026-11-21T10:00:00Z",
}


def client_answering(handler, **kw):
    return docintel.Client("http://docintel.test", "dik_test", transport=httpx.MockTransport(handler), **kw)


def test_a_deprecated_operation_warns_once():
    """MockTransport stands in for the server: the v2 API has no deprecated operation
    today, so no real server sends `Deprecation`/`Sunset`."""
    def handler(request):
        return httpx.Response(200, json=DOC, headers={
            "Deprecation": "@1767225600", "Sunset": "Wed, 01 Jul 2026 00:00:00 GMT",
            "Link": '</v3/documents>; rel="successor-version"'})
    client = client_answering(handler)
    with pytest.warns(DeprecationWarning, match="get_document is deprecated.*01 Jul 2026"):
        client.get_document(DOC["id"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.get_document(DOC["id"])  # the second call of the operation does not warn


def test_no_warning_without_a_deprecation_header():
    client = client_answering(lambda r: httpx.Response(200, json=DOC))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert client.get_document(DOC["id"]).filename == "a.txt"


@pytest.mark.parametrize("status, body, ctype, cls", [
    (502, b"<html>bad gateway</html>", "text/html", docintel.InternalServerError),
    (500, b"\xff\xfe\x00garbage", "application/problem+json", docintel.InternalServerError),
    (404, b'{"code": 5, "title": ["x"]}', "application/problem+json", docintel.NotFoundError),
    (418, b"", "text/plain", docintel.APIError),
    (401, b"[]", "application/json", docintel.AuthenticationError),
])
def test_hostile_error_bodies_still_give_a_typed_error(status, body, ctype, cls):
    client = client_answering(lambda r: httpx.Response(status, content=body, headers={"Content-Type": ctype}),
                              retry=docintel.RetryPolicy(max_attempts=1))
    with pytest.raises(cls) as e:
        client.get_document(DOC["id"])
    assert e.value.status == status
    assert e.value.code is None


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"id": 1}', b"\x00" * 100])
def test_a_malformed_success_body_is_a_clear_error(body):
    client = client_answering(lambda r: httpx.Response(200, content=body))
    with pytest.raises(docintel.APIResponseValidationError):
        client.get_document(DOC["id"])


def test_a_retry_after_beyond_the_policy_is_not_waited_for():
    calls = []
    def handler(request):
        calls.append(request)
        return httpx.Response(429, headers={"Retry-After": "3600"}, json={"code": "rate_limited"})
    with pytest.raises(docintel.RateLimitError) as e:
        client_answering(handler).get_document(DOC["id"])
    assert len(calls) == 1 and e.value.retry_after == 3600


def test_unsafe_posts_are_not_retried_but_uploads_are():
    calls = []
    def handler(request):
        calls.append(request)
        return httpx.Response(503, headers={"Retry-After": "0"}, json={"code": "overloaded"})
    client = client_answering(handler)
    with pytest.raises(docintel.ServiceUnavailableError):
        client.create_webhook("http://example.com/h", ["doc.processed"])
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(docintel.ServiceUnavailableError) as e:
        client.upload(b"hello", "a.txt")
    assert len(calls) == 4 and e.value.retry_after == 0
    assert len({c.headers["Idempotency-Key"] for c in calls}) == 1


def test_backoff_is_capped_full_jitter():
    policy = docintel.RetryPolicy()
    assert (policy.max_attempts, policy.initial_backoff, policy.max_backoff, policy.max_retry_after) == (4, 0.1, 5.0, 60.0)
    for retry in range(1, 30):
        assert 0 <= policy.backoff(retry) <= min(5.0, 0.1 * 2 ** (retry - 1))


def test_missing_configuration_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("DOCINTEL_API_KEY", raising=False)
    monkeypatch.setenv("DOCINTEL_BASE_URL", "http://x")
    with pytest.raises(docintel.DocintelError, match="DOCINTEL_API_KEY"):
        docintel.Client()


def test_api_version_is_the_committed_documents():
    spec = json.loads((pathlib.Path(__file__).resolve().parents[4] / "openapi" / "v2.json").read_text())
    assert docintel.API_VERSION == spec["info"]["version"]


def test_waiting_past_the_timeout_is_a_typed_error():
    """MockTransport keeps the document `processing`: a real server finishes too fast to
    outwait deterministically."""
    client = client_answering(lambda r: httpx.Response(200, json={**DOC, "status": "processing"}))
    with pytest.raises(docintel.WaitTimeoutError) as e:
        client.wait(DOC["id"], timeout=0)
    assert e.value.document.status.value == "processing" and e.value.timeout == 0


def test_the_deprecation_warning_points_at_the_callers_line():
    """MockTransport as the server, as in test_a_deprecated_operation_warns_once."""
    client = client_answering(lambda r: httpx.Response(200, json=DOC, headers={"Deprecation": "@1767225600"}))
    with pytest.warns(DeprecationWarning) as record:
        client.get_document(DOC["id"])
    assert record[0].filename == __file__


def test_upload_file_streams_the_file_in_chunks(tmp_path):
    """A transport standing in for the server sees how the body arrives (MockTransport
    would read it whole first)."""
    path = tmp_path / "big.txt"
    path.write_bytes(b"0123456789" * 30000)
    seen = {}

    class Server(httpx.BaseTransport):
        def handle_request(self, request):
            seen["chunks"] = [len(c) for c in request.stream]
            seen["transfer-encoding"] = request.headers.get("transfer-encoding")
            seen["filename"] = request.url.params["filename"]
            return httpx.Response(202, json={**DOC, "status": "queued"})

    docintel.Client("http://docintel.test", "dik_test", transport=Server()).upload_file(path)
    assert seen["transfer-encoding"] == "chunked"
    assert sum(seen["chunks"]) == 300000 and max(seen["chunks"]) <= 64 * 1024
    assert seen["filename"] == "big.txt"


def test_the_async_client_retries_with_the_same_policy():
    """MockTransport as the server: three 503s, then the document."""
    import asyncio
    calls = []
    def handler(request):
        calls.append(request)
        if len(calls) < 4:
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"code": "overloaded"})
        return httpx.Response(200, json=DOC)
    async def main():
        async with docintel.AsyncClient("http://docintel.test", "dik_test", transport=httpx.MockTransport(handler)) as c:
            return await c.get_document(DOC["id"])
    assert asyncio.run(main()).filename == "a.txt" and len(calls) == 4
    assert calls[0].headers["api-version"] == docintel.API_VERSION


def test_retry_after_as_an_http_date():
    from email.utils import format_datetime
    from datetime import datetime, timedelta, timezone
    from docintel._errors import parse_retry_after
    soon = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 <= parse_retry_after({"retry-after": soon}) <= 30
    assert parse_retry_after({"retry-after": "Wed, 01 Jan 2020 00:00:00 GMT"}) == 0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "7"}) == 7


def test_a_failure_no_retry_can_mend_is_not_retried_but_a_broken_connection_is():
    """A transport standing in for the network, failing as told."""
    class Failing(httpx.BaseTransport):
        def __init__(self, error):
            self.error, self.calls = error, 0
        def handle_request(self, request):
            self.calls += 1
            raise self.error("failed", request=request)
    policy = docintel.RetryPolicy(initial_backoff=0)
    for error, attempts in [(httpx.UnsupportedProtocol, 1), (httpx.ConnectError, 4), (httpx.ReadTimeout, 4)]:
        transport = Failing(error)
        with pytest.raises(docintel.APIConnectionError) as e:
            docintel.Client("http://docintel.test", "dik_test", transport=transport, retry=policy).get_document(DOC["id"])
        assert transport.calls == attempts
        assert isinstance(e.value, docintel.APITimeoutError) == (error is httpx.ReadTimeout)
