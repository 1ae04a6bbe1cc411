"""The namespace of the doctests in src/docintel: they run against the real server of the
tests under tests/server (sdks/with-server), so every example in the SDK's doc comments
is a checked call. Fails, not skips, when no server is given."""

import asyncio
import os
import shutil
from pathlib import Path

import pytest

INVOICE_PDF = Path(__file__).resolve().parents[2] / "governance" / "src" / "checks" / "invoice.pdf"


@pytest.fixture(scope="session")
def _doc_world(tmp_path_factory):
    import docintel

    if not os.environ.get("DOCINTEL_BASE_URL") or not os.environ.get("DOCINTEL_API_KEY"):
        pytest.fail("the SDK's doctests call a real server: run them through sdks/with-server "
                    "(DOCINTEL_BASE_URL and DOCINTEL_API_KEY are unset)", pytrace=False)
    work = tmp_path_factory.mktemp("doctests")
    shutil.copy(INVOICE_PDF, work / "invoice.pdf")
    client = docintel.Client()
    doc = client.upload_and_wait(INVOICE_PDF, timeout=60)
    hook = client.create_webhook("http://127.0.0.1:9/hooks", ["doc.processed"])
    yield work, {"docintel": docintel, "asyncio": asyncio, "client": client, "doc": doc, "hook": hook}
    client.close()


@pytest.fixture(autouse=True)
def _doctest_namespace(request, doctest_namespace, monkeypatch):
    if type(request.node).__name__ != "DoctestItem":
        return
    # Doctests whose examples need no server (errors, webhooks, the retry policy) still
    # share this namespace, so the server is required for the whole doctest run.
    work, names = request.getfixturevalue("_doc_world")
    monkeypatch.chdir(work)
    doctest_namespace.update(names)
