"""construct_event's edge cases, on deliveries signed here (the real server's signed
delivery is verified in server/test_webhook_delivery.py)."""

import json
import time

import pytest

import docintel
from docintel.webhooks import sign, verify_signature

SECRET = "whsec_0123456789abcdef"
BODY = json.dumps(
    {"id": "0192f0c4-7b21-7d40-9a3e-2c4f5e6a7b8c", "type": "doc.failed",
     "created": "2026-11-21T10:00:01.25Z", "data": None}
).encode()


def test_a_signed_delivery_becomes_a_typed_event():
    event = docintel.construct_event(SECRET, sign(SECRET, BODY), BODY)
    assert event.type_ == docintel.models.WebhookEventType.DOC_FAILED
    assert event.id == "0192f0c4-7b21-7d40-9a3e-2c4f5e6a7b8c"
    assert event.data is None


def test_the_header_matches_the_servers_format():
    # backend/src/webhooks.rs signature_header: hex HMAC-SHA256 of "t.body".
    import hashlib, hmac
    header = sign(SECRET, b"{}", timestamp=1700000000)
    expected = hmac.new(SECRET.encode(), b"1700000000.{}", hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_a_wrong_secret_is_refused():
    with pytest.raises(docintel.WebhookSignatureError, match="no signature matches"):
        docintel.construct_event("whsec_other", sign(SECRET, BODY), BODY)


def test_a_changed_body_is_refused():
    with pytest.raises(docintel.WebhookSignatureError):
        docintel.construct_event(SECRET, sign(SECRET, BODY), BODY.replace(b"failed", b"processed"))


def test_a_stale_timestamp_is_refused_and_the_tolerance_is_honoured():
    old = int(time.time()) - 600
    header = sign(SECRET, BODY, timestamp=old)
    with pytest.raises(docintel.WebhookSignatureError, match="tolerance is 300"):
        docintel.construct_event(SECRET, header, BODY)
    assert docintel.construct_event(SECRET, header, BODY, tolerance=900).id
    future = sign(SECRET, BODY, timestamp=int(time.time()) + 600)
    with pytest.raises(docintel.WebhookSignatureError):
        docintel.construct_event(SECRET, future, BODY)


@pytest.mark.parametrize("header", [
    "", "garbage", "t=,v1=00", "t=abc,v1=00", "v1=00", f"t={int(time.time())}",
    f"t={int(time.time())},v1", "t=99999999999999999999,v1=00", "t=-5,v1=00", "\x00=\xff",
])
def test_malformed_headers_are_refused_with_a_clear_error(header):
    with pytest.raises(docintel.WebhookSignatureError):
        verify_signature(SECRET, header, BODY)


def test_rotated_secrets_either_signature_verifies():
    now = int(time.time())
    old_sig = sign("whsec_old", BODY, now).split("v1=")[1]
    new_sig = sign("whsec_new", BODY, now).split("v1=")[1]
    header = f"t={now},v1={new_sig},v1={old_sig}"
    assert docintel.construct_event("whsec_new", header, BODY).id
    assert docintel.construct_event("whsec_old", header, BODY).id
    with pytest.raises(docintel.WebhookSignatureError):
        docintel.construct_event("whsec_third", header, BODY)


def test_unknown_schemes_are_ignored():
    header = sign(SECRET, BODY) + ",v0=deadbeef"
    assert docintel.construct_event(SECRET, header, BODY).id


@pytest.mark.parametrize("body", [b"not json", b"[1,2]", b'{"id": 5}', b"\xff\xfe"])
def test_a_signed_body_that_is_not_an_event_is_a_clear_error(body):
    with pytest.raises(docintel.WebhookSignatureError, match="not a webhook event"):
        docintel.construct_event(SECRET, sign(SECRET, body), body)
