"""Third-party proof: Confluent's own Python client through references, mode and the
endpoints it calls beyond register and fetch, against docintel's embedded registry.

Registers a shared record type and a schema that refers to it, serializes a record with
Confluent's AvroSerializer (which resolves the references through the registry) and
deserializes it with AvroDeserializer; reads references back, `referencedby`, the
schema's subjects and versions, the schema types, checks compatibility against all
versions, and sets, reads and deletes modes (a write refused in READONLY mode with
Confluent's error code). Prints one JSON line (`ok`, and `framed`: the serialized record
in hex, for the Rust side to decode); exits non-zero on any mismatch.

Run by tests/e2e/registry_confluent.rs; needs `pip install 'confluent-kafka[avro,schemaregistry]'`.
"""

import argparse
import json
import sys
import uuid

from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext


def expect_error(code, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except SchemaRegistryError as e:
        assert e.error_code == code, (e.error_code, e.error_message)
        return e
    raise AssertionError(f"expected error {code} from {call.__name__}")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--registry", required=True)
    p.add_argument("--admin-key", required=True)
    a = p.parse_args()
    sr = SchemaRegistryClient({"url": a.registry, "basic.auth.user.info": f"admin:{a.admin_key}"})
    tag = uuid.uuid4().hex[:8]
    address_subject = f"py-address-{tag}"
    order_subject = f"py-orders-{tag}-value"

    address = {
        "type": "record",
        "name": "Address",
        "namespace": "com.acme",
        "fields": [{"name": "city", "type": "string"}],
    }
    order = {
        "type": "record",
        "name": "Order",
        "namespace": "com.acme",
        # The referenced type by its short name, in its own namespace: the form every
        # client resolves (schema_registry_converter, which decodes this in the Rust test,
        # matches no other).
        "fields": [{"name": "to", "type": "Address"}, {"name": "n", "type": "long"}],
    }
    address_id = sr.register_schema(address_subject, Schema(json.dumps(address), "AVRO"))
    ref = SchemaReference("com.acme.Address", address_subject, 1)
    order_schema = Schema(json.dumps(order), "AVRO", [ref])
    order_id = sr.register_schema(order_subject, order_schema)
    assert order_id != address_id

    # References come back by subject and by id.
    latest = sr.get_latest_version(order_subject)
    refs = latest.schema.references
    assert latest.schema_id == order_id and latest.version == 1, latest
    assert [(r.name, r.subject, r.version) for r in refs] == [("com.acme.Address", address_subject, 1)], refs
    by_id = sr.get_schema(order_id)
    assert [r.subject for r in by_id.references] == [address_subject], by_id
    assert json.loads(by_id.schema_str) == order, by_id.schema_str

    # The endpoints beyond register and fetch.
    assert sr.get_referenced_by(address_subject, 1) == [order_id]
    assert sr.get_schema_types() == ["AVRO"], sr.get_schema_types()
    assert sr.get_subjects_by_schema_id(order_id) == [order_subject]
    versions = sr.get_schema_versions(order_id)
    assert [(v.subject, v.version) for v in versions] == [(order_subject, 1)], versions
    assert sr.test_compatibility_all_versions(order_subject, order_schema) is True
    looked_up = sr.lookup_schema(order_subject, order_schema)
    assert looked_up.schema_id == order_id and looked_up.version == 1, looked_up
    # Deleting the referenced version is refused while the order refers to it.
    expect_error(42206, sr.delete_version, address_subject, 1)

    # Produce and consume with references: the serializer resolves the named type.
    serializer = AvroSerializer(sr, order_schema, conf={"auto.register.schemas": False, "use.latest.version": True})
    ctx = SerializationContext(order_subject[: -len("-value")], MessageField.VALUE)
    framed = serializer({"to": {"city": "Lyon"}, "n": 7}, ctx)
    assert framed[0] == 0 and int.from_bytes(framed[1:5], "big") == order_id, framed[:5]
    record = AvroDeserializer(sr)(framed, ctx)
    assert record == {"to": {"city": "Lyon"}, "n": 7}, record

    # Modes: global and per subject; READONLY refuses writes with 42205.
    assert sr.get_global_mode() == "READWRITE"
    expect_error(40409, sr.get_mode, address_subject)
    assert sr.update_mode(address_subject, "READONLY") == "READONLY"
    assert sr.get_mode(address_subject) == "READONLY"
    changed = dict(address, fields=address["fields"] + [{"name": "zip", "type": "string", "default": ""}])
    expect_error(42205, sr.register_schema, address_subject, Schema(json.dumps(changed), "AVRO"))
    assert sr.delete_mode(address_subject) == "READONLY"
    expect_error(42204, sr.update_mode, address_subject, "SIDEWAYS")
    # IMPORT on a subject with versions needs force (sent as force=True).
    expect_error(42205, sr.update_mode, order_subject, "IMPORT")
    assert sr.update_mode(order_subject, "IMPORT", force=True) == "IMPORT"
    assert sr.update_mode(order_subject, "READWRITE") == "READWRITE"

    print(json.dumps({"ok": True, "order_id": order_id, "framed": framed.hex()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
