// Third-party proof: kafkajs's registry client (@kafkajs/confluent-schema-registry 3)
// through schema references and modes against docintel's embedded registry: registers a
// shared record type and a schema that refers to it, encodes and decodes a record (the
// client resolves the references through the registry), reads the latest id, and sees a
// registration refused while the subject is READONLY (set through the registry's /mode,
// which this client has no call for). Prints one JSON line; exits 1 on a mismatch.
// Usage: node kafkajs_references.mjs REGISTRY_URL ADMIN_KEY
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";

const [registryUrl, adminKey] = process.argv.slice(2);
const auth = { username: "admin", password: adminKey };
const registry = new SchemaRegistry({ host: registryUrl, auth });
const tag = `${Date.now()}`;
const addressSubject = `js-address-${tag}`;
const orderSubject = `js-orders-${tag}-value`;
const address = {
  type: "record",
  name: "Address",
  namespace: "com.acme",
  fields: [{ name: "city", type: "string" }],
};
const order = {
  type: "record",
  name: "Order",
  namespace: "com.acme",
  fields: [{ name: "to", type: "com.acme.Address" }],
};
const basic = `Basic ${Buffer.from(`admin:${adminKey}`).toString("base64")}`;
const call = async (method, path, body) => {
  const response = await fetch(`${registryUrl}${path}`, {
    method,
    headers: { "content-type": "application/vnd.schemaregistry.v1+json", authorization: basic },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
};

try {
  const { id: addressId } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(address) },
    { subject: addressSubject },
  );
  const orderSchema = {
    type: SchemaType.AVRO,
    schema: JSON.stringify(order),
    references: [{ name: "com.acme.Address", subject: addressSubject, version: 1 }],
  };
  const { id } = await registry.register(orderSchema, { subject: orderSubject });
  const encoded = await registry.encode(id, { to: { city: "Lyon" } });
  const decoded = await registry.decode(encoded);
  // (getRegistryIdBySchema sends no references, so a schema with some cannot be looked
  // up through it: Confluent's registry refuses such a lookup as well.)
  const latest = await registry.getLatestSchemaId(orderSubject);
  const referencedBy = await call("GET", `/subjects/${addressSubject}/versions/1/referencedby`);
  const readonly = await call("PUT", `/mode/${addressSubject}`, { mode: "READONLY" });
  let refused = null;
  try {
    await registry.register(
      {
        type: SchemaType.AVRO,
        schema: JSON.stringify({ ...address, fields: [...address.fields, { name: "zip", type: "string", default: "" }] }),
      },
      { subject: addressSubject },
    );
  } catch (e) {
    refused = { status: e.status, message: e.message };
  }
  const mode = await call("GET", `/mode/${addressSubject}`);
  const ok =
    id !== addressId &&
    encoded.readInt32BE(1) === id &&
    decoded.to.city === "Lyon" &&
    latest === id &&
    JSON.stringify(referencedBy.body) === JSON.stringify([id]) &&
    readonly.body.mode === "READONLY" &&
    mode.body.mode === "READONLY" &&
    refused !== null &&
    refused.status === 422 &&
    /read-only/.test(refused.message);
  console.log(JSON.stringify({ id, addressId, decoded, latest, referencedBy: referencedBy.body, refused, ok }));
  process.exit(ok ? 0 : 1);
} catch (e) {
  console.error(`kafkajs references proof failed: ${e.message ?? e}`);
  process.exit(1);
}
