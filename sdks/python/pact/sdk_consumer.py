#!/usr/bin/env python3
"""The Python SDK as a consumer of docintel: its real calls, run against a Pact mock
server, write the pact contracts/pacts/docintel-sdk-python-docintel.json, which the
provider (docintel) verifies in the governance gate.

    python3 sdks/python/pact/sdk_consumer.py            rewrite the committed pact
    python3 sdks/python/pact/sdk_consumer.py --check    fail when it differs from the
                                                        committed one (library versions aside)
"""

import json
import os
import sys
import tempfile
import uuid

from pact import Pact, match

import docintel

HERE = os.path.dirname(os.path.abspath(__file__))
PACTS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "contracts", "pacts"))
FILE = "docintel-sdk-python-docintel.json"
DOC_ID = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11"
MISSING_ID = "0192f0c4-0000-7000-8000-000000000404"
KEY = "dik_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TIME_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
TEXT = b"Invoice 42. Total due: 10 EUR."


def auth():
    return match.regex(f"Bearer {KEY}", regex=r"^Bearer dik_[0-9a-f]{64}$")


def document(filename, status, content_type, classification):
    return {
        "id": match.regex(DOC_ID, regex=UUID_RE),
        "filename": match.like(filename),
        "status": status,
        "classification": classification,
        "failure": None,
        "metadata": {
            "content_type": match.like(content_type),
            "sha256": match.like("9f2b5c0e5d2a7f6f2c9a4f8b3c1d0e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e"),
            "size_bytes": match.like(30),
        },
        "warnings": match.like([]),
        "created_at": match.regex("2026-11-21T10:00:00.000Z", regex=TIME_RE),
        "updated_at": match.regex("2026-11-21T10:00:01.000Z", regex=TIME_RE),
    }


PROCESSED = document("invoice.pdf", "processed", "application/pdf", {
    "label": match.like("invoice"),
    "confidence": match.like(0.97),
    "model_version": match.like("nb-1-090edd4a"),
})


def problem(status, code, title, detail, instance):
    return {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": match.like(detail),
        "instance": match.like(instance),
        "request_id": match.like("01a1ffda-1d54-7153-af1d-ebb160a79ab5"),
    }


def build(out_dir):
    pact = Pact("docintel-sdk-python", "docintel").with_specification("V4")
    (
        pact.upon_receiving("upload a text document")
        .given("the API key is valid")
        .with_request("POST", "/v2/documents")
        .with_query_parameter("filename", "invoice.txt")
        .with_header("Authorization", auth())
        .with_binary_body(TEXT, content_type="application/octet-stream")
        .will_respond_with(202)
        .with_header("Location", match.regex(f"/v2/documents/{DOC_ID}", regex=r"^/v2/documents/[0-9a-f-]{36}$"))
        .with_body(document("invoice.txt", "queued", "text/plain", None), content_type="application/json")
    )
    (
        pact.upon_receiving("get a processed invoice")
        .given(f"a processed invoice document exists with id {DOC_ID}")
        .with_request("GET", f"/v2/documents/{DOC_ID}")
        .with_header("Authorization", auth())
        .will_respond_with(200)
        .with_body(PROCESSED, content_type="application/json")
    )
    (
        pact.upon_receiving("list documents, one page")
        .given(f"a processed invoice document exists with id {DOC_ID}")
        .with_request("GET", "/v2/documents")
        .with_query_parameter("limit", "10")
        .with_header("Authorization", auth())
        .will_respond_with(200)
        .with_body({"items": match.each_like(PROCESSED, min=1), "next_page": None},
                   content_type="application/json")
    )
    (
        pact.upon_receiving("get a document that does not exist")
        .given(f"no document with id {MISSING_ID}")
        .with_request("GET", f"/v2/documents/{MISSING_ID}")
        .with_header("Authorization", auth())
        .will_respond_with(404)
        .with_body(problem(404, "not_found", "Not Found", f"no document with id {MISSING_ID}",
                           f"/v2/documents/{MISSING_ID}"), content_type="application/problem+json")
    )
    (
        pact.upon_receiving("use an expired key")
        .given("an expired key")
        .with_request("GET", f"/v2/documents/{DOC_ID}")
        .with_header("Authorization", "Bearer dik_expired")
        .will_respond_with(401)
        .with_body(problem(401, "unauthorized", "Unauthorized", "invalid API key", f"/v2/documents/{DOC_ID}"),
                   content_type="application/problem+json")
    )
    with pact.serve() as srv:
        exercise(str(srv.url).rstrip("/"))
    pact.write_file(out_dir, overwrite=True)


def exercise(base_url):
    """The SDK's own calls; each asserts what the SDK made of the answer."""
    once = docintel.RetryPolicy(max_attempts=1)
    with docintel.Client(base_url, KEY, retry=once) as client:
        queued = client.upload(TEXT, "invoice.txt")
        assert queued.status.value == "queued" and queued.classification is None
        doc = client.get_document(DOC_ID)
        assert doc.status.value == "processed" and doc.classification.label == "invoice"
        page = client.list_documents(limit=10)
        assert [d.id for d in page.items] == [uuid.UUID(DOC_ID)] and not page.has_next_page()
        try:
            client.get_document(MISSING_ID)
            raise AssertionError("a missing document did not raise")
        except docintel.NotFoundError as e:
            assert e.code == "not_found" and e.request_id
    with docintel.Client(base_url, "dik_expired", retry=once) as client:
        try:
            client.get_document(DOC_ID)
            raise AssertionError("an expired key did not raise")
        except docintel.AuthenticationError as e:
            assert e.status == 401 and e.code == "unauthorized"


def normalized(path):
    with open(path) as f:
        v = json.load(f)
    v.get("metadata", {}).pop("pactRust", None)
    v.get("metadata", {}).pop("pactPython", None)
    return v


def main():
    if "--check" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            build(tmp)
            committed = os.path.join(PACTS, FILE)
            if not os.path.exists(committed) or normalized(os.path.join(tmp, FILE)) != normalized(committed):
                sys.exit(f"contracts/pacts/{FILE} differs from what the Python SDK's consumer test writes; "
                         "run sdks/python/pact/sdk_consumer.py and review the diff")
        print(f"{FILE} is current")
    else:
        build(PACTS)
        print(f"wrote {os.path.join(PACTS, FILE)}")


if __name__ == "__main__":
    main()
