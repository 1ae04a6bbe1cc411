// What needs no server: signatures, backoff, Retry-After parsing, errors from foreign
// bodies, deprecation warnings.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  API_VERSION,
  APIConnectionError,
  backoffMs,
  constructEvent,
  DEFAULT_RETRY,
  DocintelError,
  Docintel,
  findWords,
  FoundWord,
  InternalServerError,
  pngSize,
  retryAfterSeconds,
  ServiceUnavailableError,
  shown,
  sign,
  toPixels,
  WebhookVerificationError,
  words,
  type WebhookErrorReason,
} from "../src/index.js";

const now = () => Math.floor(Date.now() / 1000);
const event = JSON.stringify({ id: "evt_1", type: "doc.processed", created: "2026-11-21T10:00:01Z", data: null });

async function refused(reason: WebhookErrorReason, p: Promise<unknown>) {
  await assert.rejects(p, (e: unknown) => e instanceof WebhookVerificationError && e.reason === reason);
}

test("sign matches an independent HMAC-SHA256 of t.body", async () => {
  const expected = createHmac("sha256", "whsec_k").update("42.body").digest("hex");
  assert.equal(await sign("whsec_k", "body", 42), `t=42,v1=${expected}`);
});

test("constructEvent accepts a fresh signature and returns the event", async () => {
  const header = await sign("whsec_a", event);
  const e = await constructEvent("whsec_a", [header], new TextEncoder().encode(event));
  assert.equal(e.id, "evt_1");
  assert.equal(e.type, "doc.processed");
});

test("a wrong secret or a changed body is a mismatch", async () => {
  const header = await sign("whsec_a", event);
  await refused("mismatch", constructEvent("whsec_b", header, event));
  await refused("mismatch", constructEvent("whsec_a", header, event.replace("evt_1", "evt_2")));
});

test("a timestamp outside the tolerance is stale, in the past or the future", async () => {
  await refused("stale", constructEvent("s", await sign("s", event, now() - 301), event));
  await refused("stale", constructEvent("s", await sign("s", event, now() + 301), event));
  await refused("stale", constructEvent("s", await sign("s", event, now() - 20), event, 10));
  assert.equal((await constructEvent("s", await sign("s", event, now() - 200), event)).id, "evt_1");
});

test("malformed headers are refused as malformed", async () => {
  const good = (await sign("s", event)).split(",v1=")[1]!;
  for (const header of [
    undefined,
    null,
    "",
    "garbage",
    `t=${now()}`,
    `v1=${good}`,
    `t=abc,v1=${good}`,
    `t=${now()},v1=zz`,
    `t=${now()},v1=abc`,
    `t=-5,v1=${good}`,
    `t=${now()},v1=${good},x`,
    "t=".padEnd(5000, "1"),
    [good, good],
  ]) {
    await refused("malformed", constructEvent("s", header, event));
  }
});

test("during a rotation either secret verifies a header carrying both", async () => {
  const t = now();
  const old = (await sign("whsec_old", event, t)).split(",")[1];
  const header = `${await sign("whsec_new", event, t)},${old}`;
  for (const secret of ["whsec_old", "whsec_new"]) assert.equal((await constructEvent(secret, header, event)).id, "evt_1");
  await refused("mismatch", constructEvent("whsec_other", header, event));
});

test("a signed body that is not an event is refused as payload", async () => {
  for (const body of ["[1,2]", "not json", '{"id":1}', "null"]) {
    await refused("payload", constructEvent("s", await sign("s", body), body));
  }
  const invalidUtf8 = new Uint8Array([0x7b, 0xff, 0x7d]);
  await refused("payload", constructEvent("s", await sign("s", invalidUtf8), invalidUtf8));
});

test("backoff is full jitter, doubling from 100 ms and capped at 5 s", () => {
  assert.deepEqual(DEFAULT_RETRY, { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 5000, maxRetryAfterMs: 60_000 });
  const samples = (retry: number) => Array.from({ length: 200 }, () => backoffMs(DEFAULT_RETRY, retry));
  assert.ok(samples(1).every((ms) => ms >= 0 && ms <= 100));
  assert.ok(samples(3).every((ms) => ms <= 400));
  assert.ok(samples(3).some((ms) => ms > 100), "the bound doubles");
  assert.ok(samples(30).every((ms) => ms <= 5000));
  assert.ok(new Set(samples(2)).size > 1, "jitter");
});

test("Retry-After is read as seconds or as an HTTP-date", () => {
  assert.equal(retryAfterSeconds("7"), 7);
  assert.equal(retryAfterSeconds(null), undefined);
  assert.equal(retryAfterSeconds("soon"), undefined);
  const inTen = new Date(Date.now() + 10_000).toUTCString();
  const s = retryAfterSeconds(inTen)!;
  assert.ok(s >= 9 && s <= 11, String(s));
  assert.equal(retryAfterSeconds(new Date(0).toUTCString()), 0);
});

// A custom fetch standing in for the server: no real server answers with these.
function answering(make: (r: Request) => Response) {
  const requests: Request[] = [];
  const fetch = async (r: Request) => (requests.push(r), make(r));
  return { requests, client: new Docintel({ baseUrl: "http://docintel.invalid", apiKey: "dik_x", fetch, retry: { initialBackoffMs: 1 } }) };
}

test("an error answer that is not a problem document still becomes a typed error", async () => {
  const { client, requests } = answering(() => new Response("<html>bad gateway</html>", { status: 502, headers: { "content-type": "text/html" } }));
  const e = await client.documents.listPage().then(() => undefined, (e: unknown) => e);
  assert.ok(e instanceof InternalServerError, String(e));
  assert.equal(e.status, 502);
  assert.equal(e.code, "unknown");
  assert.match(e.detail, /bad gateway/);
  assert.equal(requests.length, DEFAULT_RETRY.maxAttempts, "502 on a GET is retried");
});

test("a 503 carries retryAfter; a Retry-After over the limit is not waited for", async () => {
  const { client, requests } = answering(
    () => new Response(JSON.stringify({ type: "/problems/overloaded", title: "Service Unavailable", status: 503, code: "overloaded", detail: "busy", instance: "/v2/documents", request_id: "r1" }), {
      status: 503,
      headers: { "content-type": "application/problem+json", "retry-after": "120", "x-request-id": "r1" },
    }),
  );
  const e = await client.documents.listPage().then(() => undefined, (e: unknown) => e);
  assert.ok(e instanceof ServiceUnavailableError, String(e));
  assert.equal(e.retryAfter, 120);
  assert.equal(e.requestId, "r1");
  assert.equal(requests.length, 1);
});

test("a POST without an Idempotency-Key is not retried", async () => {
  const { client, requests } = answering(() => new Response("", { status: 503 }));
  await assert.rejects(client.webhooks.create({ url: "https://example.com/h", event_types: ["doc.processed"] }), ServiceUnavailableError);
  assert.equal(requests.length, 1);
});

test("a Deprecation/Sunset answer warns once per operation", async () => {
  const doc = { id: "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11" };
  const { client } = answering(
    () => new Response(JSON.stringify(doc), {
      headers: { "content-type": "application/json", deprecation: "@1780272000", sunset: "Tue, 01 Dec 2026 00:00:00 GMT", link: '</v3/documents>; rel="successor-version"' },
    }),
  );
  const warnings: Error[] = [];
  const listener = (w: Error) => warnings.push(w);
  process.on("warning", listener);
  try {
    await client.documents.get(doc.id);
    await client.documents.get(doc.id);
    await client.documents.listPage();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off("warning", listener);
  }
  assert.deepEqual(warnings.map((w) => w.name), ["DeprecationWarning", "DeprecationWarning"]);
  assert.match(warnings[0]!.message, /GET \/v2\/documents\/\{id\} is deprecated.*2026-12-01/);
  const notice = client.deprecations.get("GET /v2/documents/{id}");
  assert.equal(notice?.deprecatedSince?.toISOString(), "2026-06-01T00:00:00.000Z");
  assert.match(notice?.link ?? "", /successor/);
});

test("a client without a usable baseUrl or an apiKey is refused with a clear error", () => {
  const saved = { ...process.env };
  delete process.env.DOCINTEL_BASE_URL;
  delete process.env.DOCINTEL_API_KEY;
  try {
    assert.throws(() => new Docintel(), /DOCINTEL_BASE_URL/);
    assert.throws(() => new Docintel({ baseUrl: "http://x" }), /DOCINTEL_API_KEY/);
    for (const baseUrl of ["localhost:8080", "ftp://x", "http://", "http://[bad"]) {
      assert.throws(() => new Docintel({ baseUrl, apiKey: "k" }), (e: unknown) => e instanceof DocintelError && /http\(s\) URL/.test(e.message));
    }
  } finally {
    Object.assign(process.env, saved);
  }
});

test("a success answer that is not JSON is a DocintelError, not a crash", async () => {
  const { client } = answering(() => new Response("<html>captive portal</html>", { headers: { "content-type": "application/json" } }));
  await assert.rejects(client.documents.listPage(), (e: unknown) => e instanceof DocintelError && /not valid JSON/.test(e.message));
});

test("an upload needs a filename unless it is a File", async () => {
  const { client, requests } = answering(() => new Response("{}", { status: 202, headers: { "content-type": "application/json" } }));
  await assert.rejects(client.documents.upload(new Blob(["x"])), /filename/);
  assert.equal(requests.length, 0);
  await client.documents.upload(new File(["hello"], "note.txt"));
  const sent = requests[0]!;
  assert.equal(new URL(sent.url).searchParams.get("filename"), "note.txt");
  assert.equal(sent.headers.get("content-type"), "application/octet-stream");
  assert.match(sent.headers.get("idempotency-key") ?? "", /^[0-9a-f-]{36}$/);
  assert.equal(await sent.text(), "hello");
});

test("the README names the API version the SDK was generated for", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  assert.ok(readme.includes(`version **${API_VERSION}**`), "update the Versioning section of README.md");
});

test("without fs.openAsBlob (Node 18) uploadFile streams a fresh read of the file for every attempt", async () => {
  const fs = await import("node:fs");
  const { syncBuiltinESMExports } = await import("node:module");
  const { tmpdir } = await import("node:os");
  const path = `${fs.mkdtempSync(`${tmpdir()}/docintel-`)}/memo.txt`;
  fs.writeFileSync(path, "streamed memo");
  const bodies: string[] = [];
  const client = new Docintel({
    baseUrl: "http://docintel.invalid",
    apiKey: "dik_x",
    retry: { initialBackoffMs: 1 },
    fetch: async (r) => {
      bodies.push(await r.text());
      if (bodies.length === 1) throw new TypeError("fetch failed: connection reset");
      return new Response('{"id":"d1"}', { status: 202, headers: { "content-type": "application/json" } });
    },
  });
  const openAsBlob = fs.default.openAsBlob;
  (fs.default as { openAsBlob?: unknown }).openAsBlob = undefined;
  syncBuiltinESMExports();
  try {
    assert.equal(typeof fs.openAsBlob, "undefined");
    const doc = await client.documents.uploadFile(path);
    assert.equal(doc.id, "d1");
  } finally {
    fs.default.openAsBlob = openAsBlob;
    syncBuiltinESMExports();
    fs.rmSync(path);
  }
  assert.deepEqual(bodies, ["streamed memo", "streamed memo"]);
  await assert.rejects(client.documents.uploadFile("/nonexistent/file.pdf"), /ENOENT/);
});

// A fetch that never answers, as a stalled server would, until its request is aborted.
const stalled = (calls: Request[]) => (r: Request) => {
  calls.push(r);
  return new Promise<Response>((_, reject) => r.signal.addEventListener("abort", () => reject(r.signal.reason)));
};

test("an attempt without an answer is aborted after timeoutMs, retried, then an APIConnectionError", async () => {
  const calls: Request[] = [];
  const client = new Docintel({ baseUrl: "http://docintel.invalid", apiKey: "dik_x", timeoutMs: 20, retry: { maxAttempts: 2, initialBackoffMs: 1 }, fetch: stalled(calls) });
  await assert.rejects(client.documents.listPage(), (e: unknown) => e instanceof APIConnectionError && /within 20 ms/.test(e.message));
  assert.equal(calls.length, 2);
});

test("the caller's own abort is not retried", async () => {
  const calls: Request[] = [];
  const client = new Docintel({ baseUrl: "http://docintel.invalid", apiKey: "dik_x", timeoutMs: 0, fetch: stalled(calls) });
  const abort = new AbortController();
  const pending = client.raw.GET("/v2/documents", { signal: abort.signal });
  abort.abort();
  await assert.rejects(pending, (e: unknown) => e instanceof DOMException && e.name === "AbortError");
  assert.equal(calls.length, 1);
});

// The layout helpers, and layoutPages following next_pages through a fake fetch: a
// document of 45 pages answered 20 at a time, as the server does.
const layoutPage = (number: number, words: [string, number[]][] = [], rotation = 0) => ({
  number, width: 612, height: 792, unit: "pt" as const, rotation, source: "text_layer" as const, confidence: null,
  blocks: [{ bbox: [0, 0, 1, 1], lines: [{ bbox: [0, 0, 1, 1], words: words.map(([text, bbox]) => ({ text, bbox })) }] }],
});

test("toPixels scales a box to a rendering, rounded outwards and within it", () => {
  const px = (b: number[], w: number, h: number) => { const p = toPixels(b, w, h); return [p.left, p.top, p.right, p.bottom]; };
  assert.deepEqual(px([0.1, 0.25, 0.5, 0.5], 256, 200), [25, 50, 128, 100]);
  assert.deepEqual(px([0.1, 0, 0.501, 1], 256, 181), [25, 0, 129, 181]);
  // f32 noise does not push an edge out by a pixel (0.2 as f32 is 0.2000000030).
  assert.deepEqual(px([0.10000000149, 0.5, 0.20000000298, 0.51999998093], 100, 100), [10, 50, 20, 52]);
  assert.deepEqual(toPixels([0.1176, 0.0712, 0.2471, 0.0871], 181, 256), { left: 21, top: 18, right: 45, bottom: 23, width: 24, height: 5 });
  assert.deepEqual(px([], 10, 10), [0, 0, 0, 0]);
  assert.deepEqual(px([1.5, -1, 0.5, Number.NaN], 100, 100), [50, 0, 100, 0]);
  assert.equal(toPixels([0.9, 0.9, 0.1, 0.1], 10, 10).width, 8);
});

test("shown turns a box clockwise by the page's rotation", () => {
  const box = [0.1, 0.2, 0.3, 0.6];
  const expected: Record<number, number[]> = {
    0: [0.1, 0.2, 0.3, 0.6], 90: [0.4, 0.1, 0.8, 0.3], 180: [0.7, 0.4, 0.9, 0.8], 270: [0.2, 0.7, 0.6, 0.9], 360: box,
  };
  for (const [rotation, want] of Object.entries(expected)) {
    const got = shown({ rotation: Number(rotation) }, box);
    assert.ok(got.every((v, i) => Math.abs(v - want[i]!) < 1e-9), `${rotation}: ${got}`);
  }
});

test("findWords ignores case and punctuation and gives the page and the box as shown", () => {
  const layout = {
    document_id: "d", page_count: 2, ocr_page_limit: 20, next_pages: null,
    pages: [
      layoutPage(1, [["Subtotal", [0.1, 0.1, 0.2, 0.12]], ["Total:", [0.1, 0.5, 0.2, 0.52]], ["1,250.00", [0.3, 0.5, 0.4, 0.52]]]),
      layoutPage(2, [["(TOTAL)", [0, 0, 0.5, 0.5]]], 90),
    ],
  };
  assert.deepEqual([...words(layout.pages[0]!)].map((w) => w.text), ["Subtotal", "Total:", "1,250.00"]);
  const found = findWords(layout, "total");
  assert.deepEqual(found.map((f) => [f.page, f.word.text]), [[1, "Total:"], [2, "(TOTAL)"]]);
  assert.ok(found[0] instanceof FoundWord);
  assert.deepEqual(found[0]!.toPixels(100, 100), { left: 10, top: 50, right: 20, bottom: 52, width: 10, height: 2 });
  assert.deepEqual(found[1]!.bbox, [0.5, 0, 1, 0.5]); // as shown: the page is turned 90°
  assert.deepEqual(found[1]!.word.bbox, [0, 0, 0.5, 0.5]); // as the API gave it
  assert.equal(findWords(layout.pages[0]!, "1,250.00").length, 1);
  assert.equal(findWords(layout.pages.values(), "TOTAL").length, 2);
  assert.deepEqual(findWords(layout, ""), []);
  assert.deepEqual(findWords(layout, "::"), []);
});

test("pngSize reads a PNG's header", () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 181, 0, 0, 1, 0, 8, 6, 0, 0, 0]);
  assert.deepEqual(pngSize(png), { width: 181, height: 256 });
  assert.throws(() => pngSize(new TextEncoder().encode("GIF89a".padEnd(30, "\0"))), DocintelError);
});

test("layoutPages follows next_pages to the last page; markdown asks for format=markdown", async () => {
  const asked: (string | null)[] = [];
  const client = new Docintel({
    baseUrl: "http://docintel.invalid",
    apiKey: "dik_x",
    fetch: async (r) => {
      const url = new URL(r.url);
      if (url.pathname.endsWith("/text")) {
        return new Response(`# ${url.searchParams.get("format")}\n`, { headers: { "content-type": "text/markdown; charset=utf-8" } });
      }
      assert.equal(url.pathname, "/v2/documents/d1/layout");
      const pages = url.searchParams.get("pages");
      asked.push(pages);
      const [first, last, next] = ({ none: [1, 20, "21-40"], "21-40": [21, 40, "41-45"], "41-45": [41, 45, null] } as const)[
        (pages ?? "none") as "none" | "21-40" | "41-45"
      ];
      const body = {
        document_id: "d1", page_count: 45, ocr_page_limit: 20, next_pages: next,
        pages: Array.from({ length: last - first + 1 }, (_, i) => layoutPage(first + i, [[`w${first + i}`, [0.1, 0.1, 0.2, 0.2]]])),
      };
      return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
    },
  });
  const numbers: number[] = [];
  for await (const page of client.documents.layoutPages("d1")) numbers.push(page.number);
  assert.deepEqual(numbers, Array.from({ length: 45 }, (_, i) => i + 1));
  assert.deepEqual(asked, [null, "21-40", "41-45"]);
  assert.equal(await client.documents.markdown("d1"), "# markdown\n");
});
