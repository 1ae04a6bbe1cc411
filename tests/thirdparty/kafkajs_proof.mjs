// Third-party proof: kafkajs's registry client (@kafkajs/confluent-schema-registry 3)
// registers a schema in docintel's embedded registry, reads it back, and round-trips a
// record through the Confluent wire format. Prints one JSON line; exits 1 on a mismatch.
// Usage: node kafkajs_proof.mjs REGISTRY_URL ADMIN_KEY
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";

const [registryUrl, adminKey] = process.argv.slice(2);
const registry = new SchemaRegistry({
  host: registryUrl,
  auth: { username: "admin", password: adminKey },
});
const subject = `kafkajs-proof-${Date.now()}-value`;
const schema = {
  type: "record",
  name: "KafkajsProof",
  namespace: "dev.docintel.proof",
  fields: [{ name: "greeting", type: "string" }],
};
try {
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
    { subject },
  );
  const latest = await registry.getLatestSchemaId(subject);
  const encoded = await registry.encode(id, { greeting: "hello" });
  const decoded = await registry.decode(encoded);
  const ok = latest === id && encoded[0] === 0 && encoded.readInt32BE(1) === id &&
    decoded.greeting === "hello";
  console.log(JSON.stringify({ id, latest, decoded, ok }));
  process.exit(ok ? 0 : 1);
} catch (e) {
  console.error(`kafkajs proof failed: ${e.message ?? e}`);
  process.exit(1);
}
