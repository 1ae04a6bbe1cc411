"""Third-party proof: Confluent's own Python client against docintel.

Registers and fetches a schema in docintel's embedded registry, consumes one event docintel
published to Kafka and deserializes it with Confluent's AvroDeserializer (which looks the
writer schema up by the id in the frame), then decodes the same Avro body with fastavro.
Prints one JSON line with what it found; exits non-zero on any mismatch.

Run by tests/e2e/events_kafka.rs; needs `pip install 'confluent-kafka[avro,schemaregistry]' fastavro`.
"""

import argparse
import io
import json
import sys
import uuid

import fastavro
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--registry", required=True)
    p.add_argument("--admin-key", required=True)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", default="doc.classified")
    p.add_argument("--document-id", required=True)
    a = p.parse_args()

    sr = SchemaRegistryClient(
        {"url": a.registry, "basic.auth.user.info": f"admin:{a.admin_key}"}
    )

    # 1. Register a schema of our own and read it back by id and by subject.
    subject = f"proof-{uuid.uuid4().hex[:8]}-value"
    proof = {
        "type": "record",
        "name": "Proof",
        "namespace": "dev.docintel.proof",
        "fields": [{"name": "n", "type": "long"}],
    }
    schema_id = sr.register_schema(subject, Schema(json.dumps(proof), "AVRO"))
    fetched = sr.get_schema(schema_id)
    latest = sr.get_latest_version(subject)
    assert json.loads(fetched.schema_str)["name"] == "Proof", fetched.schema_str
    assert latest.schema_id == schema_id and latest.version == 1, latest

    # 2. Consume docintel's event for the document and deserialize it.
    consumer = Consumer(
        {
            "bootstrap.servers": a.bootstrap,
            "group.id": f"proof-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(a.topic, 0, 0)])
    deserializer = AvroDeserializer(sr)
    found = None
    for _ in range(100):
        msg = consumer.poll(0.5)
        if msg is None or msg.error():
            continue
        if msg.key() == a.document_id.encode():
            found = msg
            break
    consumer.close()
    if found is None:
        print(f"no {a.topic} event for {a.document_id}", file=sys.stderr)
        return 1
    value = found.value()
    assert value[0] == 0, "magic byte"
    writer_id = int.from_bytes(value[1:5], "big")
    record = deserializer(value, SerializationContext(a.topic, MessageField.VALUE))
    assert str(record["document_id"]) == a.document_id, record

    # 3. fastavro decodes the Avro body with the writer schema from the registry.
    writer = fastavro.parse_schema(json.loads(sr.get_schema(writer_id).schema_str))
    body = fastavro.schemaless_reader(io.BytesIO(value[5:]), writer)
    assert str(body["event_id"]) == str(record["event_id"]), (body, record)

    print(
        json.dumps(
            {
                "registered_id": schema_id,
                "writer_schema_id": writer_id,
                "label": record.get("label"),
                "model_version": record.get("model_version"),
                "document_id": str(record["document_id"]),
                "fastavro_event_id": str(body["event_id"]),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
