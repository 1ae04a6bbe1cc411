"""The peer for api/benches/get_throughput.sh: GET /v2/documents/{id} in FastAPI.

It answers from docintel's own database (read-only) the way docintel does: Bearer key ->
SHA-256 -> tenant, the document of that tenant by id, the same JSON shape, 404/401 as
problem documents. It keeps a recently-seen-key cache as docintel does, and one SQLite
connection per worker thread. Run by the benchmark script:

    python3 -m uvicorn --app-dir api/benches fastapi_peer:app --port 18803 --no-access-log

with DOCINTEL_DB pointing at <data-dir>/docintel.db. Needs `fastapi` and `uvicorn[standard]`.
"""

import datetime
import hashlib
import json
import os
import sqlite3
import threading

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

DB = os.environ.get("DOCINTEL_DB", "docintel-data/docintel.db")
app = FastAPI()
local = threading.local()
keys: dict[str, str] = {}


def db() -> sqlite3.Connection:
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, check_same_thread=False)
        local.conn = conn
    return conn


def problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def rfc3339(ms: int) -> str:
    t = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


@app.get("/v2/documents/{doc_id}")
def get_document(doc_id: str, authorization: str = Header(default="")):
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key:
        return problem(401, "Unauthorized", "missing API key")
    hashed = hashlib.sha256(key.encode()).hexdigest()
    tenant = keys.get(hashed)
    if tenant is None:
        row = db().execute(
            "SELECT tenant_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (hashed,)
        ).fetchone()
        if row is None:
            return problem(401, "Unauthorized", "invalid API key")
        tenant = keys[hashed] = row[0]
    row = db().execute(
        "SELECT id, filename, status, failure, content_type, size_bytes, sha256, extracted, "
        "warnings, classification, created_at, updated_at FROM documents "
        "WHERE id = ? AND tenant_id = ?",
        (doc_id, tenant),
    ).fetchone()
    if row is None:
        return problem(404, "Not Found", f"no document with id {doc_id}")
    (id_, filename, status, failure, ctype, size, sha, extracted, warnings, cls, created, updated) = row
    ex = json.loads(extracted) if extracted else {}
    return {
        "id": id_,
        "filename": filename,
        "status": status,
        "failure": failure,
        "metadata": {
            "content_type": ctype,
            "size_bytes": size,
            "sha256": sha,
            "page_count": ex.get("page_count"),
            "word_count": ex.get("word_count"),
            "char_count": ex.get("char_count"),
            "language": ex.get("language"),
        },
        "classification": json.loads(cls) if cls else None,
        "warnings": json.loads(warnings),
        "created_at": rfc3339(created),
        "updated_at": rfc3339(updated),
    }
