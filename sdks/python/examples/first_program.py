"""Upload a PDF, wait for it, list documents, meet typed errors, verify a webhook.
Usage: DOCINTEL_BASE_URL=… DOCINTEL_API_KEY=… python first_program.py invoice.pdf"""
import sys
import uuid

import docintel

client = docintel.Client()  # reads DOCINTEL_BASE_URL and DOCINTEL_API_KEY
doc = client.upload_and_wait(sys.argv[1], timeout=60)
print(f"{doc.filename}: {doc.classification.label} ({doc.classification.confidence:.2f})")
for n, page in enumerate(client.list_documents(limit=2).iter_pages(), 1):
    print(f"page {n}:", ", ".join(d.filename for d in page.items))
try:
    client.get_document(uuid.uuid4())
except docintel.NotFoundError as e:
    print(f"404 as {type(e).__name__}: code={e.code}, request id {e.request_id}")
try:
    docintel.Client(api_key="dik_wrong").list_documents()
except docintel.AuthenticationError as e:
    print(f"wrong key as {type(e).__name__}: {e}")
body = b'{"id":"evt_1","type":"doc.processed","created":"2026-12-01T10:00:00Z","data":null}'
header = docintel.webhooks.sign("whsec_example", body)  # what docintel sends
event = docintel.construct_event("whsec_example", header, body)
print(f"verified webhook: {event.type_.value} {event.id}")
try:
    docintel.construct_event("whsec_other", header, body)
except docintel.WebhookSignatureError as e:
    print(f"forged webhook refused: {e}")
