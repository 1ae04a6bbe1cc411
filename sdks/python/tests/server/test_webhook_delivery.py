"""A real signed delivery: docintel POSTs doc.processed to a receiver here, and
construct_event verifies it with the subscription's secret."""

import http.server
import queue
import threading

import pytest

import docintel


@pytest.fixture
def receiver():
    got = queue.Queue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.put((self.headers, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/hooks", got
    srv.shutdown()
    srv.server_close()


def test_a_real_delivery_verifies_and_parses(server, receiver):
    url, got = receiver
    with docintel.Client(*server) as client:
        hook = client.create_webhook(url, ["doc.processed"], description="sdk test")
        secret = hook.secret
        assert secret.startswith("whsec_")
        doc = client.upload_and_wait(b"INVOICE 12\nTotal due: 12 EUR\n", filename="hook.txt", timeout=60)
        # The delivery is asynchronous; a missing one fails the test via queue.Empty.
        while True:
            headers, body = got.get(timeout=60)
            event = docintel.construct_event(secret, headers["Docintel-Signature"], body)
            if event.data and event.data.id == doc.id:
                break
        assert event.type_.value == "doc.processed"
        assert event.id == headers["Docintel-Event-Id"]
        assert event.data.status.value == "processed"
        with pytest.raises(docintel.WebhookSignatureError):
            docintel.construct_event("whsec_wrong", headers["Docintel-Signature"], body)
        with pytest.raises(docintel.WebhookSignatureError):
            docintel.construct_event(secret, headers["Docintel-Signature"], body + b" ")
        client.delete_webhook(hook.webhook.id)
        with pytest.raises(docintel.NotFoundError):
            client.get_webhook(hook.webhook.id)
