"""Shared fixtures. The tests under server/ and ratelimit/ talk to a real docintel server:
run them through sdks/with-server, which exports DOCINTEL_BASE_URL and DOCINTEL_API_KEY
(sdks/python/check does)."""

import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
INVOICE_PDF = REPO / "governance" / "src" / "checks" / "invoice.pdf"


@pytest.fixture
def server() -> tuple[str, str]:
    base_url = os.environ.get("DOCINTEL_BASE_URL")
    key = os.environ.get("DOCINTEL_API_KEY")
    if not base_url or not key:
        pytest.fail(
            "these tests need a running docintel server: run them as "
            "`sdks/with-server -- pytest …` (DOCINTEL_BASE_URL and DOCINTEL_API_KEY are unset)",
            pytrace=False,
        )
    return base_url, key
