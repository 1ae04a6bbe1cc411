#!/usr/bin/env python3
"""analytics-team: a consumer of docintel's v2 API written in Python with pact-python.

The analytics team counts processed documents by label. This test runs their client
against a Pact mock server and writes the pact. With --check (what CI runs) it writes to
a temp folder and fails if contracts/pacts/analytics-team-docintel.json differs (the
library's version stamp aside); without it, it rewrites the committed file.

    pip install "pact-python>=4,<5" requests
    python3 contracts/consumers/python/analytics_consumer.py [--check]
"""
import json
import os
import sys
import tempfile
from collections import Counter

import requests
from pact import Pact, match

HERE = os.path.dirname(os.path.abspath(__file__))
PACTS = os.path.normpath(os.path.join(HERE, "..", "..", "pacts"))
FILE = "analytics-team-docintel.json"
DOC_ID = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11"
KEY = "dik_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


def label_counts(base_url, key):
    """The analytics team's client: processed documents per label."""
    r = requests.get(
        f"{base_url}/v2/documents",
        params={"status": "processed", "limit": "100"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    r.raise_for_status()
    page = r.json()
    return Counter(d["classification"]["label"] for d in page["items"] if d["classification"])


def build(out_dir):
    pact = Pact("analytics-team", "docintel").with_specification("V4")
    (
        pact.upon_receiving("list processed documents for label statistics")
        .given(f"a processed invoice document exists with id {DOC_ID}")
        .with_request("GET", "/v2/documents")
        .with_query_parameter("status", "processed")
        .with_query_parameter("limit", "100")
        .with_header("Authorization", match.regex(f"Bearer {KEY}", regex=r"^Bearer dik_[0-9a-f]{64}$"))
        .will_respond_with(200)
        .with_body(
            {
                "items": match.each_like(
                    {
                        "id": match.regex(DOC_ID, regex=r"^[0-9a-f-]{36}$"),
                        "status": "processed",
                        "classification": {
                            "label": match.like("invoice"),
                            "confidence": match.like(0.97),
                            "model_version": match.like("nb-1-090edd4a"),
                        },
                        "metadata": {"word_count": match.like(6)},
                    },
                    min=1,
                ),
                "next_page": None,
            },
            content_type="application/json",
        )
    )
    with pact.serve() as srv:
        counts = label_counts(str(srv.url).rstrip("/"), KEY)
        assert counts == Counter({"invoice": 1}), counts
    pact.write_file(out_dir, overwrite=True)


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
            written = normalized(os.path.join(tmp, FILE))
            committed_path = os.path.join(PACTS, FILE)
            committed = normalized(committed_path) if os.path.exists(committed_path) else None
            if written != committed:
                sys.exit(f"contracts/pacts/{FILE} differs from what the analytics consumer writes; "
                         "run contracts/consumers/python/analytics_consumer.py and review the diff")
        print(f"{FILE} is current")
    else:
        build(PACTS)
        print(f"wrote {os.path.join(PACTS, FILE)}")


if __name__ == "__main__":
    main()
