// Your first docintel program: node first-program.mjs invoice.pdf
import { AuthenticationError, constructEvent, Docintel, NotFoundError, sign } from "@docintel/sdk";

const client = new Docintel(); // reads DOCINTEL_BASE_URL and DOCINTEL_API_KEY
const doc = await client.documents.uploadFileAndWait(process.argv[2] ?? "invoice.pdf", { timeoutMs: 60_000 });
console.log(`${doc.filename}: ${doc.classification?.label} (confidence ${doc.classification?.confidence.toFixed(2)})`);

let n = 0;
for await (const page of client.documents.list({ limit: 2 }).pages()) {
  console.log(`page ${++n}: ${page.items.map((d) => d.filename).join(", ")}`);
}

try {
  await client.documents.get("0192f0c4-0000-7000-8000-000000000404");
} catch (e) {
  if (!(e instanceof NotFoundError)) throw e;
  console.log(`404 ${e.code}: ${e.detail} (request ${e.requestId})`);
}
try {
  await new Docintel({ apiKey: "dik_wrong" }).documents.listPage();
} catch (e) {
  if (!(e instanceof AuthenticationError)) throw e;
  console.log(`401 ${e.code}: ${e.detail}`);
}

const body = JSON.stringify({ id: "evt_1", type: "doc.processed", created: new Date().toISOString(), data: doc });
const event = await constructEvent("whsec_demo", await sign("whsec_demo", body), body);
console.log(`verified a signed ${event.type} webhook for ${event.data?.id}`);
