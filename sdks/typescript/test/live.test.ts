// The SDK against a real `docintel serve` (started by sdks/with-server).
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import {
  API_VERSION,
  APIError,
  AuthenticationError,
  BadRequestError,
  constructEvent,
  Docintel,
  DocintelError,
  findWords,
  NotFoundError,
  pngSize,
  WebhookVerificationError,
  type PageView,
} from "../src/index.js";
import { API_KEY, BASE_URL, INVOICE_PDF, REPO, SPEC_VERSION, uniqueName } from "./server.js";

const client = new Docintel();

test("a real PDF is uploaded from disk, processed and classified", async () => {
  const doc = await client.documents.uploadFileAndWait(INVOICE_PDF, { timeoutMs: 60_000 });
  assert.equal(doc.status, "processed");
  assert.equal(doc.filename, "invoice.pdf");
  assert.equal(doc.metadata.content_type, "application/pdf");
  assert.equal(typeof doc.classification?.label, "string");
  assert.ok(doc.classification!.confidence > 0 && doc.classification!.confidence <= 1);
  assert.match(await client.documents.text(doc.id), /\S/);
});

test("listing with limit=1 walks several pages, by item and by page", async () => {
  const since = new Date(Date.now() - 1).toISOString();
  const uploaded = new Set<string>();
  for (let i = 0; i < 3; i++) {
    uploaded.add((await client.documents.upload(`memo ${i}\nplease file this`, { filename: uniqueName("txt") })).id);
  }
  const pages = [];
  for await (const page of client.documents.list({ limit: 1, created_after: since }).pages()) pages.push(page);
  assert.ok(pages.length >= 3, `${pages.length} pages`);
  assert.ok(pages.every((p) => p.items.length <= 1));
  assert.deepEqual(new Set(pages.flatMap((p) => p.items.map((d) => d.id))), uploaded);

  const seen = new Set<string>();
  for await (const doc of client.documents.list({ limit: 1, created_after: since })) seen.add(doc.id);
  assert.deepEqual(seen, uploaded);

  const first = await client.documents.listPage({ limit: 1, created_after: since });
  assert.equal(first.items.length, 1);
  assert.equal(typeof first.next_page, "string");
});

test("a missing document is a NotFoundError carrying the problem", async () => {
  const id = "0192f0c4-5d7e-7c1a-9f57-000000000000";
  const e = await client.documents.get(id).then(() => undefined, (e: unknown) => e);
  assert.ok(e instanceof NotFoundError, String(e));
  assert.ok(e instanceof APIError && e instanceof DocintelError);
  assert.equal(e.status, 404);
  assert.equal(e.code, "not_found");
  assert.equal(e.title, "Not Found");
  assert.match(e.detail, new RegExp(id));
  assert.ok(e.requestId && e.requestId.length > 0);
  assert.equal(e.requestId, e.problem.request_id);
});

test("a wrong key is an AuthenticationError", async () => {
  const wrong = new Docintel({ baseUrl: BASE_URL, apiKey: "dik_not_a_key" });
  const e = await wrong.documents.listPage().then(() => undefined, (e: unknown) => e);
  assert.ok(e instanceof AuthenticationError, String(e));
  assert.equal(e.status, 401);
  assert.equal(e.code, "unauthorized");
});

test("every request carries the api-version the SDK was generated for", async () => {
  const sent: string[] = [];
  const spy = new Docintel({ fetch: (r) => (sent.push(r.headers.get("api-version") ?? "none"), fetch(r)) });
  await spy.documents.listPage({ limit: 1 });
  await spy.documents.upload("api version check", { filename: uniqueName("txt") });
  assert.equal(API_VERSION, SPEC_VERSION);
  assert.deepEqual(sent, [SPEC_VERSION, SPEC_VERSION]);
});

test("an upload whose response is lost is retried without creating a second document", async () => {
  const filename = uniqueName("txt");
  const answers: Response[] = [];
  let lost = false;
  const flaky = new Docintel({
    retry: { initialBackoffMs: 1 },
    fetch: async (request) => {
      const response = await fetch(request);
      if (request.method === "POST" && !lost) {
        // The server stored the document; the client never hears of it.
        lost = true;
        await response.arrayBuffer();
        throw new TypeError("fetch failed: socket hang up");
      }
      answers.push(response.clone());
      return response;
    },
  });
  const doc = await flaky.documents.upload("lost response\ntotal 3 EUR", { filename });
  assert.ok(lost);
  assert.equal(answers[0]?.headers.get("idempotent-replayed"), "true");
  const same = [];
  for await (const d of client.documents.list({ limit: 100 })) if (d.filename === filename) same.push(d.id);
  assert.deepEqual(same, [doc.id]);
});

function receiver(): Promise<{ url: string; next: () => Promise<{ headers: IncomingMessage["headers"]; body: Buffer }>; close: () => void }> {
  const waiting: ((d: { headers: IncomingMessage["headers"]; body: Buffer }) => void)[] = [];
  const queued: { headers: IncomingMessage["headers"]; body: Buffer }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      res.writeHead(204).end();
      const delivery = { headers: req.headers, body: Buffer.concat(chunks) };
      const w = waiting.shift();
      if (w) w(delivery);
      else queued.push(delivery);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
        next: () => {
          const q = queued.shift();
          return q ? Promise.resolve(q) : new Promise((r) => waiting.push(r));
        },
        close: () => server.close(),
      }),
    ),
  );
}

test("a real signed doc.processed delivery verifies with constructEvent, also across a secret rotation", async () => {
  const hook = await receiver();
  try {
    const { webhook, secret } = await client.webhooks.create({ url: hook.url, event_types: ["doc.processed"] });
    const doc = await client.documents.upload("INVOICE 7\nTotal due: 12.00 EUR", { filename: uniqueName("txt") });
    let delivery = await hook.next();
    let event = await constructEvent(secret, delivery.headers["docintel-signature"] as string, delivery.body);
    assert.equal(event.type, "doc.processed");
    assert.equal(event.data?.id, doc.id);
    assert.equal(event.id, delivery.headers["docintel-event-id"]);
    await assert.rejects(
      constructEvent("whsec_wrong", delivery.headers["docintel-signature"] as string, delivery.body),
      (e: unknown) => e instanceof WebhookVerificationError && e.reason === "mismatch",
    );

    const rotated = await client.webhooks.rotateSecret(webhook.id);
    const second = await client.documents.upload("INVOICE 8\nTotal due: 13.00 EUR", { filename: uniqueName("txt") });
    delivery = await hook.next();
    const header = delivery.headers["docintel-signature"] as string;
    assert.equal(header.match(/v1=/g)?.length, 2, header);
    for (const s of [secret, rotated.secret]) {
      event = await constructEvent(s, header, delivery.body);
      assert.equal(event.data?.id, second.id);
    }
    assert.equal((await client.webhooks.get(webhook.id)).url, hook.url);
    assert.ok((await client.webhooks.list()).items.some((w) => w.id === webhook.id));
    assert.ok((await client.webhooks.deliveries(webhook.id, { limit: 10 })).items.length >= 1);
    await client.webhooks.delete(webhook.id);
    await assert.rejects(client.webhooks.get(webhook.id), NotFoundError);
  } finally {
    hook.close();
  }
});

test("the key the tests use is the one with-server made", () => {
  assert.match(API_KEY, /^dik_/);
});

test("a key made through the SDK holds only its scopes until it is revoked", async () => {
  const { key, secret } = await client.keys.create({ scopes: ["documents:read"] });
  assert.deepEqual(key.scopes, ["documents:read"]);
  assert.ok(secret.startsWith(key.prefix));
  const reader = new Docintel({ baseUrl: BASE_URL, apiKey: secret });
  await reader.documents.listPage({ limit: 1 });
  await assert.rejects(
    reader.documents.upload("a note", { filename: uniqueName("txt") }),
    (e: unknown) => e instanceof APIError && e.status === 403 && e.code === "insufficient_scope",
  );
  assert.ok((await client.keys.list()).items.some((k) => k.id === key.id));
  await client.keys.revoke(key.id);
  await assert.rejects(reader.documents.listPage({ limit: 1 }), AuthenticationError);
  await assert.rejects(client.keys.revoke(key.id), NotFoundError);
  const trail = [];
  for await (const e of client.audit.list({ action: "key.", limit: 1 })) {
    if (e.resource_id === key.id) trail.push(e.action);
  }
  assert.deepEqual(trail, ["key.revoke", "key.create"]);
});

test("usage counts an upload, with no quota by default", async () => {
  const before = await client.usage();
  const note = "a note that counts";
  const doc = await client.documents.upload(note, { filename: uniqueName("txt") });
  const after = await client.usage();
  assert.ok(after.documents >= before.documents + 1, JSON.stringify({ before, after }));
  assert.ok(after.bytes >= before.bytes + note.length, JSON.stringify({ before, after }));
  assert.equal(after.max_documents ?? null, null);
  assert.equal(after.max_bytes ?? null, null);
  await client.documents.delete(doc.id);
});

test("a layout a range at a time, every page through layoutPages, and a word's box on the thumbnail", async () => {
  const doc = await client.documents.uploadFileAndWait(`${REPO}backend/benches/layout/corpus/three-pages.pdf`, { timeoutMs: 60_000 });
  const first = await client.documents.layout(doc.id, { pages: "1-2" });
  assert.deepEqual([first.page_count, first.pages.map((p) => p.number), first.next_pages], [3, [1, 2], "3-3"]);
  const pages: PageView[] = [];
  for await (const page of client.documents.layoutPages(doc.id)) pages.push(page);
  assert.deepEqual(pages.map((p) => p.number), [1, 2, 3]);
  const provider = findWords(pages, "provider");
  assert.ok(new Set(provider.map((f) => f.page)).has(2), JSON.stringify(provider.map((f) => f.page)));

  const invoice = await client.documents.uploadFileAndWait(INVOICE_PDF, { timeoutMs: 60_000 });
  const [total, ...more] = findWords(await client.documents.layout(invoice.id), "Total");
  assert.ok(total && more.length === 0);
  assert.equal(total.word.text, "Total");
  const png = new Uint8Array(await (await client.documents.thumbnail(invoice.id)).arrayBuffer());
  const { width, height } = pngSize(png);
  assert.equal(Math.max(width, height), 256);
  const box = total.toPixels(width, height);
  assert.ok(box.left < box.right && box.right <= width && box.top < box.bottom && box.bottom <= height, JSON.stringify(box));

  assert.match(await client.documents.markdown(invoice.id), /INVOICE[\s\S]*Total/);
  await assert.rejects(client.documents.searchablePdf(invoice.id), NotFoundError); // it has a text layer
  await assert.rejects(client.documents.layout(invoice.id, { pages: "3-1" }), (e: unknown) => e instanceof BadRequestError && e.code === "invalid_parameter");
  const note = await client.documents.uploadAndWait("just text", { filename: uniqueName("txt") });
  await assert.rejects(client.documents.layout(note.id), NotFoundError);
});

test("a scan read by OCR has a searchable PDF and OCR confidences", async (t) => {
  const { execFileSync } = await import("node:child_process");
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(`${tmpdir()}/docintel-scan-`);
  try {
    execFileSync("pdftoppm", ["-png", "-r", "150", "-singlefile", INVOICE_PDF, `${dir}/scan`]);
  } catch {
    t.skip("pdftoppm (poppler-utils) makes the scan: not installed");
    return;
  }
  const doc = await client.documents.uploadFileAndWait(`${dir}/scan.png`, { timeoutMs: 120_000 });
  if (doc.warnings.includes("ocr_unavailable")) {
    t.skip("the server has no OCR");
    return;
  }
  assert.equal(doc.metadata.searchable_pdf, true);
  assert.ok(typeof doc.metadata.ocr_confidence === "number" && doc.metadata.ocr_confidence >= 0 && doc.metadata.ocr_confidence <= 1);
  assert.deepEqual(doc.metadata.ocr_pages?.map((p) => p.page), [1]);
  const pdf = new Uint8Array(await (await client.documents.searchablePdf(doc.id)).arrayBuffer());
  assert.equal(new TextDecoder().decode(pdf.subarray(0, 5)), "%PDF-");
  const layout = await client.documents.layout(doc.id);
  assert.equal(layout.pages[0]?.source, "ocr");
  assert.deepEqual(findWords(layout, "invoice").map((f) => f.word.text), ["INVOICE"]);
});
