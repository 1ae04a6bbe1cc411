"""The peer for `cargo bench --bench event_encode`: fastavro (C-accelerated) encoding the
same doc.classified record with the same schema, plus the 5-byte Confluent frame.
Prints events per second (best of 5 runs)."""

import io
import json
import pathlib
import struct
import time
import uuid

import fastavro

ROOT = pathlib.Path(__file__).resolve().parents[2]
schema = fastavro.parse_schema(
    json.loads((ROOT / "schemas/avro/doc.classified/v2.avsc").read_text())
)
record = {
    "event_id": str(uuid.uuid4()),
    "occurred_at": int(time.time() * 1000),
    "document_id": str(uuid.uuid4()),
    "tenant_id": str(uuid.uuid4()),
    "label": "invoice",
    "confidence": 0.9731,
    "model_version": "nb-1-090edd4a",
}
frame = b"\x00" + struct.pack(">I", 3)
N = 200_000
best = 0.0
for _ in range(5):
    start = time.perf_counter()
    for _ in range(N):
        buf = io.BytesIO()
        buf.write(frame)
        fastavro.schemaless_writer(buf, schema, record)
        buf.getvalue()
    best = max(best, N / (time.perf_counter() - start))
print(f"fastavro {fastavro.__version__}: {best:,.0f} events/s (encode + frame, one core)")
