// The TypeScript SDK as a consumer of docintel: its real calls, made against a Pact mock
// server, write contracts/pacts/docintel-sdk-typescript-docintel.json. With --check
// (what CI runs) the pact is written to a temporary folder and compared with the committed
// one, the library's version stamps aside; without it the committed file is rewritten.
//
//   npm run pact          (tsc, then node build/contract/consumer.js [--check])
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MatchersV3 as M, PactV4 } from "@pact-foundation/pact";
import { AuthenticationError, Docintel, NotFoundError } from "../src/index.js";

const PACTS = fileURLToPath(new URL("../../../../contracts/pacts/", import.meta.url));
const FILE = "docintel-sdk-typescript-docintel.json";
const DOC_ID = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11";
const MISSING_ID = "0192f0c4-0000-7000-8000-000000000404";
const KEY = "dik_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const TEXT = "Invoice 42. Total due: 10 EUR.";

const auth = { Authorization: M.regex(/^Bearer dik_[0-9a-f]{64}$/, `Bearer ${KEY}`) };
const timestamp = (example: string) => M.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, example);
const uuid = M.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, DOC_ID);

const processedInvoice = {
  id: uuid,
  filename: M.like("invoice.pdf"),
  status: "processed",
  classification: { label: M.like("invoice"), confidence: M.like(0.97), model_version: M.like("nb-1-090edd4a") },
  metadata: {
    content_type: M.like("application/pdf"),
    sha256: M.regex(/^[0-9a-f]{64}$/, "9f2b5c0e5d2a7f6f2c9a4f8b3c1d0e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e"),
    size_bytes: M.like(1234),
    page_count: M.like(1),
    word_count: M.like(6),
    char_count: M.like(40),
  },
  warnings: M.eachLike("ocr_unavailable", 0),
  failure: null,
  created_at: timestamp("2026-11-21T10:00:00.000Z"),
  updated_at: timestamp("2026-11-21T10:00:01.000Z"),
};

function problem(status: number, code: string, title: string, detail: string, instance: string) {
  return {
    type: `/problems/${code}`,
    title,
    status,
    code,
    detail: M.like(detail),
    instance: M.like(instance),
    request_id: M.like("01a1ffda-1d54-7153-af1d-ebb160a79ab5"),
  };
}

// The builder's body() declares a binary body whose sniffed type must be the declared one, and
// the core sniffs this text as text/plain; the core's plain body call (what jsonBody uses)
// records the bytes with their declared type and compares them as they are.
function rawBody<B>(builder: B, text: string): B {
  (builder as unknown as { interaction: { withRequestBody(body: string, contentType: string): void } }).interaction.withRequestBody(text, "application/octet-stream");
  return builder;
}

const client = (baseUrl: string, apiKey = KEY) => new Docintel({ baseUrl, apiKey, retry: { maxAttempts: 1 } });

async function build(dir: string): Promise<void> {
  const pact = new PactV4({ consumer: "docintel-sdk-typescript", provider: "docintel", dir, logLevel: (process.env.PACT_LOG as "debug") ?? "warn" });

  await pact
    .addInteraction()
    .given("the API key is valid")
    .uponReceiving("upload a text document")
    .withRequest("POST", "/v2/documents", (b) =>
      rawBody(b.query({ filename: "invoice.txt" }).headers({ ...auth, "Content-Type": "application/octet-stream" }), TEXT),
    )
    .willRespondWith(202, (b) =>
      b.headers({ Location: M.regex(/^\/v2\/documents\/[0-9a-f-]{36}$/, `/v2/documents/${DOC_ID}`) }).jsonBody({
        id: uuid,
        filename: "invoice.txt",
        status: "queued",
        classification: null,
        failure: null,
        metadata: { content_type: "text/plain", size_bytes: TEXT.length, sha256: M.regex(/^[0-9a-f]{64}$/, "0bd7d4c2f3a1e6f0c3b1e2d4a5f6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4") },
        warnings: [],
        created_at: timestamp("2026-11-21T10:00:00.000Z"),
        updated_at: timestamp("2026-11-21T10:00:00.000Z"),
      }),
    )
    .executeTest(async (server) => {
      const doc = await client(server.url).documents.upload(TEXT, { filename: "invoice.txt" });
      assert.equal(doc.status, "queued");
    });

  await pact
    .addInteraction()
    .given(`a processed invoice document exists with id ${DOC_ID}`)
    .uponReceiving("get a processed invoice")
    .withRequest("GET", `/v2/documents/${DOC_ID}`, (b) => b.headers(auth))
    .willRespondWith(200, (b) => b.jsonBody(processedInvoice))
    .executeTest(async (server) => {
      const doc = await client(server.url).documents.get(DOC_ID);
      assert.equal(doc.classification?.label, "invoice");
    });

  await pact
    .addInteraction()
    .given(`a processed invoice document exists with id ${DOC_ID}`)
    .uponReceiving("list documents, one page")
    .withRequest("GET", "/v2/documents", (b) => b.query({ limit: "10" }).headers(auth))
    .willRespondWith(200, (b) => b.jsonBody({ items: M.eachLike(processedInvoice, 1), next_page: null }))
    .executeTest(async (server) => {
      const page = await client(server.url).documents.listPage({ limit: 10 });
      assert.equal(page.items[0]?.id, DOC_ID);
    });

  await pact
    .addInteraction()
    .given(`no document with id ${MISSING_ID}`)
    .uponReceiving("get a document that does not exist")
    .withRequest("GET", `/v2/documents/${MISSING_ID}`, (b) => b.headers(auth))
    .willRespondWith(404, (b) =>
      b.headers({ "Content-Type": "application/problem+json" })
        .jsonBody(problem(404, "not_found", "Not Found", `no document with id ${MISSING_ID}`, `/v2/documents/${MISSING_ID}`)),
    )
    .executeTest(async (server) => {
      await assert.rejects(client(server.url).documents.get(MISSING_ID), (e: unknown) => e instanceof NotFoundError && e.code === "not_found");
    });

  await pact
    .addInteraction()
    .given("an expired key")
    .uponReceiving("use an expired key")
    .withRequest("GET", `/v2/documents/${DOC_ID}`, (b) => b.headers({ Authorization: "Bearer dik_expired" }))
    .willRespondWith(401, (b) =>
      b.headers({ "Content-Type": "application/problem+json" })
        .jsonBody(problem(401, "unauthorized", "Unauthorized", "invalid API key", `/v2/documents/${DOC_ID}`)),
    )
    .executeTest(async (server) => {
      await assert.rejects(client(server.url, "dik_expired").documents.get(DOC_ID), AuthenticationError);
    });
}

function normalized(path: string): unknown {
  const pact = JSON.parse(readFileSync(path, "utf8"));
  for (const stamp of ["pact-js", "pactJs", "pactRust"]) delete pact.metadata?.[stamp];
  return pact;
}

if (process.argv.includes("--check")) {
  const tmp = mkdtempSync(join(tmpdir(), "pact-ts-"));
  try {
    await build(tmp);
    const committed = join(PACTS, FILE);
    if (!existsSync(committed)) throw new Error(`contracts/pacts/${FILE} is missing`);
    try {
      assert.deepStrictEqual(normalized(join(tmp, FILE)), normalized(committed));
    } catch {
      console.error(`contracts/pacts/${FILE} differs from what the TypeScript SDK's consumer test writes; run \`npm run pact\` in sdks/typescript and review the diff`);
      process.exit(1);
    }
    console.log(`${FILE} is current`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
} else {
  // Written fresh: pact-js would merge into an existing file.
  rmSync(join(PACTS, FILE), { force: true });
  await build(PACTS);
  console.log(`wrote contracts/pacts/${FILE}`);
}
