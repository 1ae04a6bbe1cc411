"""The SDK against a real docintel server on loopback (sdks/with-server starts it)."""

import asyncio
import json
import os
import uuid

import httpx
import pytest

import docintel
from conftest import INVOICE_PDF


@pytest.fixture
def client(server):
    base_url, key = server
    with docintel.Client(base_url, key) as c:
        yield c


class Recording(httpx.BaseTransport):
    """Forwards to the real server and keeps the requests it sent."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()
        self.requests = []

    def handle_request(self, request):
        self.requests.append(request)
        return self.inner.handle_request(request)


class LosesFirstAnswer(httpx.BaseTransport):
    """Forwards every request to the real server, but the first answer is lost on its
    way back: the server has acted, the client sees a broken connection."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()
        self.lost = 0
        self.answers = []

    def handle_request(self, request):
        response = self.inner.handle_request(request)
        response.read()
        self.answers.append(response)
        if self.lost == 0:
            self.lost += 1
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


def test_upload_a_pdf_and_wait_for_it(client):
    doc = client.upload_and_wait(INVOICE_PDF, timeout=60)
    assert doc.status.value == "processed"
    assert doc.filename == "invoice.pdf"
    assert doc.metadata.content_type == "application/pdf"
    assert doc.classification.label and 0 < doc.classification.confidence <= 1
    assert "INVOICE" in client.get_document_text(doc.id).upper()
    assert client.get_document(doc.id).id == doc.id


def test_upload_bytes_and_read_the_text(client):
    doc = client.upload_and_wait(b"INVOICE 2026-11\nTotal due: 1,250.00 EUR\n", filename="inv.txt", timeout=60)
    assert doc.metadata.content_type.startswith("text/plain")
    assert "1,250.00 EUR" in client.get_document_text(doc.id)


def test_every_request_carries_the_api_version_and_user_agent(server):
    transport = Recording()
    with docintel.Client(*server, transport=transport) as c:
        with pytest.raises(docintel.NotFoundError):
            c.get_document(uuid.uuid4())
        c.list_documents(limit=1)
    assert len(transport.requests) == 2
    for r in transport.requests:
        assert r.headers["api-version"] == docintel.API_VERSION
        assert r.headers["user-agent"] == f"docintel-python/{docintel.__version__}"


def test_listing_goes_over_every_page(client):
    ids = {client.upload(f"page test {i}\n".encode(), f"p{i}.txt").id for i in range(3)}
    first = client.list_documents(limit=1)
    assert len(first.items) == 1 and first.has_next_page()
    pages = list(first.iter_pages())
    assert all(len(p.items) <= 1 for p in pages) and len(pages) >= 3
    listed = [d.id for d in client.list_documents(limit=1)]
    assert ids <= set(listed)
    assert len(listed) == len(set(listed)), "a document listed twice"


def test_a_missing_document_is_a_typed_404(client):
    missing = uuid.uuid4()
    with pytest.raises(docintel.NotFoundError) as e:
        client.get_document(missing)
    err = e.value
    assert (err.status, err.code, err.title) == (404, "not_found", "Not Found")
    assert str(missing) in err.detail
    assert err.request_id and err.retry_after is None


def test_a_bad_id_is_a_typed_400(client):
    with pytest.raises(docintel.BadRequestError) as e:
        client.get_document("../../etc/passwd")
    assert e.value.code == "invalid_id"


def test_a_wrong_key_is_an_authentication_error(server):
    with docintel.Client(server[0], "dik_" + "0" * 64) as c:
        with pytest.raises(docintel.AuthenticationError) as e:
            c.list_documents()
    assert e.value.status == 401 and e.value.code and e.value.request_id


def test_an_unreachable_server_is_a_connection_error():
    with docintel.Client("http://127.0.0.1:9", "dik_x", retry=docintel.RetryPolicy(max_attempts=2, initial_backoff=0)) as c:
        with pytest.raises(docintel.APIConnectionError):
            c.get_document(uuid.uuid4())


def test_a_retried_upload_does_not_make_a_second_document(server):
    transport = LosesFirstAnswer()
    name = f"retried-{uuid.uuid4()}.txt"
    with docintel.Client(*server, transport=transport) as c:
        doc = c.upload(b"INVOICE 9\nTotal due: 9 EUR\n", name)
        assert [a.status_code for a in transport.answers] == [202, 202]
        assert transport.answers[1].headers.get("idempotent-replayed") == "true"
        assert json.loads(transport.answers[0].content)["id"] == str(doc.id)
        same = [d for d in c.list_documents(limit=100) if d.filename == name]
        assert len(same) == 1


def test_upload_file_streams_from_disk_and_is_retried_whole(server, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"line of text\n" * 20000)  # 260 kB: several chunks
    transport = LosesFirstAnswer()
    with docintel.Client(*server, transport=transport) as c:
        doc = c.upload_file(path)
        assert doc.metadata.size_bytes == path.stat().st_size
        assert transport.answers[1].headers.get("idempotent-replayed") == "true"
        assert c.wait(doc.id, timeout=60).status.value == "processed"


def test_an_upload_over_the_limit_is_a_typed_413(client):
    limit = int(os.environ["DOCINTEL_TEST_MAX_UPLOAD"])
    with pytest.raises(docintel.PayloadTooLargeError) as e:
        client.upload(b"x" * (limit + 1), "big.txt")
    assert e.value.status == 413 and e.value.code


def test_an_empty_upload_is_a_typed_400(client):
    with pytest.raises(docintel.BadRequestError) as e:
        client.upload(b"", "empty.txt")
    assert e.value.code == "empty_body"


def test_a_missing_file_fails_before_any_request(client, tmp_path):
    with pytest.raises(FileNotFoundError):
        client.upload_file(tmp_path / "nope.pdf")


def test_the_async_client_has_the_same_surface(server, tmp_path):
    async def main():
        async with docintel.AsyncClient(*server) as c:
            doc = await c.upload_and_wait(INVOICE_PDF, timeout=60)
            assert doc.status.value == "processed"
            path = tmp_path / "a.txt"
            path.write_bytes(b"async upload\n")
            queued = await c.upload_file(path)
            listed = [d.id async for d in await c.list_documents(limit=1)]
            assert doc.id in listed and queued.id in listed
            with pytest.raises(docintel.NotFoundError):
                await c.get_document(uuid.uuid4())
    asyncio.run(main())


def test_a_document_that_fails_processing_is_a_typed_error(client):
    with pytest.raises(docintel.ProcessingFailedError) as e:
        client.upload_and_wait(b"%PDF-1.4\nnot really a PDF\n", filename="broken.pdf", timeout=60)
    assert e.value.document.status.value == "failed"
    assert "PDF" in e.value.document.failure
