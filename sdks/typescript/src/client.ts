import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./generated/v2.js";
import { APIConnectionError, errorFromResponse, ProcessingFailedError, WaitTimeoutError, DocintelError, type Document } from "./errors.js";
import {
  DEFAULT_RETRY,
  deprecationNotice,
  sendWithRetries,
  warnDeprecation,
  type DeprecationNotice,
  type FetchFn,
  type RetryPolicy,
} from "./transport.js";
import type { DocumentLayout, PageView } from "./layout.js";

type Schemas = components["schemas"];
/** One page of documents: pass `next_page` as `page_token` for the next one. */
export type DocumentPage = Schemas["DocumentPage"];
export type DocumentStatus = Schemas["DocumentStatus"];
export type Webhook = Schemas["WebhookView"];
export type WebhookCreate = Schemas["WebhookCreate"];
export type WebhookWithSecret = Schemas["WebhookWithSecret"];
export type ApiKey = Schemas["KeyView"];
export type KeyCreate = Schemas["KeyCreate"];
export type KeyWithSecret = Schemas["KeyWithSecret"];
export type RotatedSecret = Schemas["RotatedSecret"];
export type Usage = Schemas["UsageView"];
export type Delivery = Schemas["DeliveryView"];
export type ListDocumentsParams = NonNullable<paths["/v2/documents"]["get"]["parameters"]["query"]>;
export type AuditEvent = Schemas["AuditEventView"];
export type AuditEventPage = Schemas["AuditEventPage"];
/** Which pages of a layout: one page (`"3"`) or a range (`"1-20"`, at most 100). */
export type LayoutParams = NonNullable<paths["/v2/documents/{id}/layout"]["get"]["parameters"]["query"]>;
export type ListAuditEventsParams = NonNullable<paths["/v2/audit-events"]["get"]["parameters"]["query"]>;

/**
 * How to reach the API.
 *
 * @example
 * ```ts
 * new Docintel({ baseUrl: "https://docintel.example.com", apiKey: "dik_…" });
 * ```
 */
export interface ClientOptions {
  /** The server's root URL; in Node defaults to `DOCINTEL_BASE_URL`. */
  baseUrl?: string;
  /** An API key (`dik_…`); in Node defaults to `DOCINTEL_API_KEY`. */
  apiKey?: string;
  /** Replaces `globalThis.fetch` (a proxy agent, a test double). */
  fetch?: FetchFn;
  /** Overrides some of the retry defaults (4 attempts, 100 ms to 5 s backoff, Retry-After up to 60 s). */
  retry?: Partial<RetryPolicy>;
  /** Aborts an attempt with no complete answer after this long (then retried if safe). Default 60 000 ms; 0 never. */
  timeoutMs?: number;
  /** Called once per operation the server says is deprecated; defaults to a warning. */
  onDeprecation?: (notice: DeprecationNotice) => void;
}

/** What a document can be uploaded from: bytes, text, a Blob or a browser File. */
export type UploadBody = Blob | ArrayBuffer | ArrayBufferView | string;

/**
 * Upload options.
 *
 * @example
 * ```ts
 * await client.documents.upload(bytes, { filename: "a.pdf", idempotencyKey: "invoice-42" });
 * ```
 */
export interface UploadOptions {
  /** The name shown for the document; for a `File` defaults to its name. */
  filename?: string;
  /** Makes the upload safe to repeat; a random one is sent when not given. */
  idempotencyKey?: string;
}

/**
 * How long to wait for processing.
 *
 * @example
 * ```ts
 * await client.documents.wait(doc.id, { timeoutMs: 30_000 });
 * ```
 */
export interface WaitOptions {
  /** Give up (with `WaitTimeoutError`) after this long. Default 60 000 ms. */
  timeoutMs?: number;
  /** Between two polls. Default 250 ms, growing to 2 s. */
  pollIntervalMs?: number;
}

function env(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[name] || undefined;
}

// The node: imports below are reached only in Node (browsers have what they stand in for);
// the comments keep bundlers from trying to include them in a browser build.
async function randomKey(): Promise<string> {
  const global = (globalThis as { crypto?: Crypto }).crypto;
  if (global?.randomUUID) return global.randomUUID();
  return (await import(/* webpackIgnore: true */ /* @vite-ignore */ "node:crypto")).randomUUID();
}

function isUrl(s: string): boolean {
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The data of an answer, or the error it stands for. */
async function unwrap<T>(pending: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await pending;
  } catch (e) {
    // openapi-fetch parses a success body as JSON; a body that is not is the server's fault.
    if (e instanceof SyntaxError) throw new DocintelError(`the server's answer is not valid JSON: ${e.message}`, { cause: e });
    // The attempt's timeout fired while the answer's body was read.
    if (e instanceof DOMException && e.name === "TimeoutError") throw new APIConnectionError(e.message, { cause: e });
    throw e;
  }
  if (!result.response.ok) throw errorFromResponse(result.response, result.error);
  return result.data as T;
}

/**
 * Pages of a list, as an async iterable of its items (`for await`) or, through
 * {@link Paginator.pages}, page by page. Each page is fetched when reached.
 *
 * @example
 * ```ts
 * for await (const doc of client.documents.list({ limit: 50 })) console.log(doc.id);
 * for await (const page of client.documents.list().pages()) console.log(page.items.length);
 * ```
 */
export class Paginator<T> implements AsyncIterable<T> {
  constructor(private readonly fetchPage: (token: string | undefined) => Promise<{ items: T[]; next_page?: string | null }>) {}

  /** The pages, one request each, until `next_page` is null. */
  async *pages(): AsyncGenerator<{ items: T[]; next_page?: string | null }> {
    let token: string | undefined;
    do {
      const page = await this.fetchPage(token);
      yield page;
      token = page.next_page ?? undefined;
    } while (token !== undefined);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for await (const page of this.pages()) yield* page.items;
  }
}

/**
 * The docintel API.
 *
 * @example
 * ```ts
 * import { Docintel } from "@docintel/sdk";
 * const client = new Docintel(); // DOCINTEL_BASE_URL and DOCINTEL_API_KEY
 * const doc = await client.documents.uploadFileAndWait("invoice.pdf");
 * console.log(doc.classification?.label);
 * ```
 */
export class Docintel {
  /** The generated client (openapi-fetch), with the same retries and errors, for anything the helpers lack. */
  readonly raw: Client<paths>;
  readonly documents: Documents;
  readonly webhooks: Webhooks;
  readonly keys: Keys;
  readonly audit: Audit;
  /** The deprecations the server announced for operations this client called. */
  readonly deprecations = new Map<string, DeprecationNotice>();

  constructor(options: ClientOptions = {}) {
    const baseUrl = options.baseUrl ?? env("DOCINTEL_BASE_URL");
    const apiKey = options.apiKey ?? env("DOCINTEL_API_KEY");
    if (!baseUrl) throw new DocintelError("no baseUrl: pass one or set DOCINTEL_BASE_URL");
    if (!apiKey) throw new DocintelError("no apiKey: pass one or set DOCINTEL_API_KEY");
    if (!/^https?:\/\/[^/]/i.test(baseUrl) || !isUrl(baseUrl)) {
      throw new DocintelError(`baseUrl must be an http(s) URL such as https://docintel.example.com, not ${JSON.stringify(baseUrl)}`);
    }
    const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
    const userFetch: FetchFn = options.fetch ?? ((r) => globalThis.fetch(r));
    const onDeprecation = options.onDeprecation ?? warnDeprecation;
    const timeoutMs = options.timeoutMs ?? 60_000;
    this.raw = createClient<paths>({
      baseUrl,
      headers: { Authorization: `Bearer ${apiKey}` },
      // The first request stays unread so that every attempt sends a fresh copy.
      fetch: (request: Request) => sendWithRetries(() => request.clone(), userFetch, policy, timeoutMs),
    });
    this.raw.use({
      onResponse: ({ request, response, schemaPath }) => {
        const notice = deprecationNotice(`${request.method} ${schemaPath}`, response.headers);
        if (!notice) return undefined;
        if (!this.deprecations.has(notice.operation)) onDeprecation(notice);
        this.deprecations.set(notice.operation, notice);
        return undefined;
      },
    });
    this.documents = new Documents(this.raw, (make) => sendWithRetries(make, userFetch, policy, timeoutMs));
    this.webhooks = new Webhooks(this.raw);
    this.keys = new Keys(this.raw);
    this.audit = new Audit(this.raw);
  }

  /**
   * The documents and bytes the tenant stores, and its quotas (`null`: no limit); the
   * calling key needs `documents:read`. An upload past a quota fails with a 413 whose
   * `code` is `quota_exceeded`. @example `const { documents, max_documents } = await client.usage()`
   */
  async usage(): Promise<Usage> {
    return unwrap(this.raw.GET("/v2/usage"));
  }
}

/**
 * Documents: upload, wait, list, read, delete.
 *
 * @example
 * ```ts
 * const doc = await client.documents.uploadAndWait(bytes, { filename: "note.txt" });
 * ```
 */
export class Documents {
  constructor(
    private readonly raw: Client<paths>,
    private readonly transport: (make: () => Request) => Promise<Response>,
  ) {}

  /**
   * All documents (newest first), fetched a page at a time as the iteration goes.
   *
   * @example
   * ```ts
   * for await (const doc of client.documents.list({ status: "processed" })) console.log(doc.filename);
   * ```
   */
  list(params: Omit<ListDocumentsParams, "page_token"> = {}): Paginator<Document> {
    return new Paginator((token) => this.listPage({ ...params, ...(token ? { page_token: token } : {}) }));
  }

  /**
   * One page; pass the previous page's `next_page` as `page_token` for the next.
   *
   * @example
   * ```ts
   * const page = await client.documents.listPage({ limit: 10 });
   * if (page.next_page) await client.documents.listPage({ page_token: page.next_page });
   * ```
   */
  async listPage(params: ListDocumentsParams = {}): Promise<DocumentPage> {
    return unwrap(this.raw.GET("/v2/documents", { params: { query: params } }));
  }

  /**
   * One document by id; `NotFoundError` when this key has none.
   *
   * @example
   * ```ts
   * const doc = await client.documents.get("0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11");
   * ```
   */
  async get(id: string): Promise<Document> {
    return unwrap(this.raw.GET("/v2/documents/{id}", { params: { path: { id } } }));
  }

  /**
   * The extracted text of a processed document.
   *
   * @example
   * ```ts
   * const text = await client.documents.text(doc.id);
   * ```
   */
  async text(id: string): Promise<string> {
    return (await unwrap(this.raw.GET("/v2/documents/{id}/text", { params: { path: { id } }, parseAs: "text" }))) as string;
  }

  /**
   * The PNG thumbnail of a processed document's first page.
   *
   * @example
   * ```ts
   * const png = await client.documents.thumbnail(doc.id);
   * ```
   */
  async thumbnail(id: string): Promise<Blob> {
    return (await unwrap(this.raw.GET("/v2/documents/{id}/thumbnail", { params: { path: { id } }, parseAs: "blob" }))) as Blob;
  }

  /**
   * A processed document's text as Markdown (`format=markdown`): headings, list items and
   * paragraphs recovered from its layout.
   *
   * @example
   * ```ts
   * const markdown = await client.documents.markdown(doc.id);
   * ```
   */
  async markdown(id: string): Promise<string> {
    const query = { format: "markdown" as const };
    return (await unwrap(this.raw.GET("/v2/documents/{id}/text", { params: { path: { id }, query }, parseAs: "text" }))) as string;
  }

  /**
   * A processed document's layout: its pages, each with its blocks, lines and words in
   * reading order, every one with its `bbox` (see {@link findWords} and {@link toPixels}).
   * `pages` is one page (`"3"`) or a range (`"1-20"`, at most 100); the first 20 when
   * omitted. `next_pages` is the range after this one (null after the last page);
   * {@link Documents.layoutPages} follows it. A text document has no layout
   * (`NotFoundError`); a bad `pages` is a `BadRequestError` (`invalid_parameter`).
   *
   * @example
   * ```ts
   * const layout = await client.documents.layout(doc.id, { pages: "1-5" });
   * for (const page of layout.pages) console.log(page.number, page.source, page.blocks.length);
   * ```
   */
  async layout(id: string, params: LayoutParams = {}): Promise<DocumentLayout> {
    return unwrap(this.raw.GET("/v2/documents/{id}/layout", { params: { path: { id }, query: params } }));
  }

  /**
   * Every page of a document's layout in order, fetched a range at a time (following
   * `next_pages`) as the iteration goes.
   *
   * @example
   * ```ts
   * for await (const page of client.documents.layoutPages(doc.id)) {
   *   for (const found of findWords(page, "Total")) console.log(page.number, found.bbox);
   * }
   * ```
   */
  async *layoutPages(id: string): AsyncGenerator<PageView> {
    let pages: string | undefined;
    do {
      const layout = await this.layout(id, pages === undefined ? {} : { pages });
      yield* layout.pages;
      pages = layout.next_pages ?? undefined;
    } while (pages !== undefined);
  }

  /**
   * The searchable PDF of an image, TIFF or scanned PDF that OCR read: its pages as
   * pictures with the words laid over them as invisible text. `NotFoundError` for a
   * document without one (text, a PDF with a text layer, no OCR on the server); its
   * `metadata.searchable_pdf` says beforehand whether it has one.
   *
   * @example
   * ```ts
   * if (doc.metadata.searchable_pdf) {
   *   const pdf = await client.documents.searchablePdf(doc.id);
   *   await writeFile("searchable.pdf", new Uint8Array(await pdf.arrayBuffer()));
   * }
   * ```
   */
  async searchablePdf(id: string): Promise<Blob> {
    return (await unwrap(this.raw.GET("/v2/documents/{id}/searchable.pdf", { params: { path: { id } }, parseAs: "blob" }))) as Blob;
  }

  /**
   * Deletes a document and what was extracted from it.
   *
   * @example
   * ```ts
   * await client.documents.delete(doc.id);
   * ```
   */
  async delete(id: string): Promise<void> {
    await unwrap(this.raw.DELETE("/v2/documents/{id}", { params: { path: { id } } }));
  }

  /**
   * Uploads bytes, text, a Blob or a File (its name is the default `filename`). An
   * `Idempotency-Key` is always sent, so a retried upload never creates a second document.
   * Resolves once stored (status `queued`); see {@link Documents.wait}.
   *
   * @example
   * ```ts
   * const doc = await client.documents.upload("INVOICE 42\nTotal: 10 EUR", { filename: "invoice.txt" });
   * ```
   */
  async upload(body: UploadBody, options: UploadOptions = {}): Promise<Document> {
    const filename = options.filename ?? (typeof File !== "undefined" && body instanceof File ? body.name : undefined);
    if (!filename) throw new DocintelError("upload needs a filename (options.filename)");
    const bytes = body as BodyInit;
    return this.send(() => bytes, filename, options.idempotencyKey);
  }

  /**
   * Uploads a file from disk (Node), streamed rather than read into memory.
   *
   * @example
   * ```ts
   * const doc = await client.documents.uploadFile("./invoice.pdf");
   * ```
   */
  async uploadFile(path: string, options: UploadOptions = {}): Promise<Document> {
    const fs = await import(/* webpackIgnore: true */ /* @vite-ignore */ "node:fs");
    const { basename } = await import(/* webpackIgnore: true */ /* @vite-ignore */ "node:path");
    const filename = options.filename ?? basename(path);
    // A missing or unreadable file fails here with its path (openAsBlob's error names neither).
    await fs.promises.access(path, fs.constants.R_OK);
    if (typeof fs.openAsBlob === "function") {
      // A Blob backed by the file: streamed, and readable again for a retry.
      const blob = await fs.openAsBlob(path);
      return this.send(() => blob, filename, options.idempotencyKey);
    }
    // Node 18 has no openAsBlob: a fresh stream from disk for every attempt.
    const { Readable } = await import(/* webpackIgnore: true */ /* @vite-ignore */ "node:stream");
    return this.send(
      () => Readable.toWeb(fs.createReadStream(path)) as unknown as ReadableStream<Uint8Array>,
      filename,
      options.idempotencyKey,
    );
  }

  /**
   * {@link Documents.upload} then {@link Documents.wait}: the processed document, or
   * `ProcessingFailedError` / `WaitTimeoutError`.
   *
   * @example
   * ```ts
   * const doc = await client.documents.uploadAndWait(file, { timeoutMs: 30_000 });
   * ```
   */
  async uploadAndWait(body: UploadBody, options: UploadOptions & WaitOptions = {}): Promise<Document> {
    return this.wait(await this.upload(body, options), options);
  }

  /**
   * {@link Documents.uploadFile} then {@link Documents.wait}.
   *
   * @example
   * ```ts
   * const doc = await client.documents.uploadFileAndWait("./invoice.pdf");
   * console.log(doc.classification?.label, doc.classification?.confidence);
   * ```
   */
  async uploadFileAndWait(path: string, options: UploadOptions & WaitOptions = {}): Promise<Document> {
    return this.wait(await this.uploadFile(path, options), options);
  }

  /**
   * Polls a document until it is `processed` (returned) or `failed`
   * (`ProcessingFailedError`), or `timeoutMs` passes (`WaitTimeoutError`).
   *
   * @example
   * ```ts
   * const done = await client.documents.wait(doc.id);
   * ```
   */
  async wait(document: string | Document, options: WaitOptions = {}): Promise<Document> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    let interval = options.pollIntervalMs ?? 250;
    let doc = typeof document === "string" ? await this.get(document) : document;
    for (;;) {
      if (doc.status === "processed") return doc;
      if (doc.status === "failed") throw new ProcessingFailedError(doc);
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitTimeoutError(doc, timeoutMs);
      await new Promise((resolve) => setTimeout(resolve, Math.min(interval, left)));
      if (options.pollIntervalMs === undefined) interval = Math.min(interval * 2, 2000);
      doc = await this.get(doc.id);
    }
  }

  private async send(body: () => BodyInit, filename: string, idempotencyKey?: string): Promise<Document> {
    const key = idempotencyKey ?? (await randomKey());
    const result = this.raw.POST("/v2/documents", {
      params: { query: { filename }, header: { "Idempotency-Key": key } },
      // openapi-fetch would serialise the body once; the real one is given to each attempt below.
      body: "",
      bodySerializer: () => undefined,
      fetch: (request: Request) =>
        this.transport(() => {
          const headers = new Headers(request.headers);
          headers.set("Content-Type", "application/octet-stream");
          return new Request(request.url, {
            method: "POST",
            headers,
            body: body(),
            signal: request.signal,
            // Needed for a stream body (Node 18), harmless otherwise.
            duplex: "half",
          } as RequestInit);
        }),
    });
    return unwrap(result);
  }
}

/**
 * Webhook subscriptions. `create` answers with the signing secret, once.
 *
 * @example
 * ```ts
 * const { webhook, secret } = await client.webhooks.create({ url, event_types: ["doc.processed"] });
 * ```
 */
export class Webhooks {
  constructor(private readonly raw: Client<paths>) {}

  /** Subscribes `url` to events. @example `await client.webhooks.create({ url, event_types: ["doc.processed"] })` */
  async create(body: WebhookCreate): Promise<WebhookWithSecret> {
    return unwrap(this.raw.POST("/v2/webhooks", { body }));
  }

  /** All subscriptions of this tenant. @example `const { items } = await client.webhooks.list()` */
  async list(): Promise<Schemas["WebhookList"]> {
    return unwrap(this.raw.GET("/v2/webhooks"));
  }

  /** One subscription. @example `const hook = await client.webhooks.get(id)` */
  async get(id: string): Promise<Webhook> {
    return unwrap(this.raw.GET("/v2/webhooks/{id}", { params: { path: { id } } }));
  }

  /** Removes a subscription. @example `await client.webhooks.delete(id)` */
  async delete(id: string): Promise<void> {
    await unwrap(this.raw.DELETE("/v2/webhooks/{id}", { params: { path: { id } } }));
  }

  /** Re-enables a subscription disabled after failing deliveries. @example `await client.webhooks.enable(id)` */
  async enable(id: string): Promise<Webhook> {
    return unwrap(this.raw.POST("/v2/webhooks/{id}/enable", { params: { path: { id } } }));
  }

  /** A new signing secret; the previous one keeps signing until `previous_secret_expires_at`. @example `const { secret } = await client.webhooks.rotateSecret(id)` */
  async rotateSecret(id: string): Promise<RotatedSecret> {
    return unwrap(this.raw.POST("/v2/webhooks/{id}/rotate-secret", { params: { path: { id } } }));
  }

  /** Recent delivery attempts, newest first. @example `const { items } = await client.webhooks.deliveries(id, { limit: 10 })` */
  async deliveries(id: string, query: { limit?: number } = {}): Promise<Schemas["DeliveryList"]> {
    return unwrap(this.raw.GET("/v2/webhooks/{id}/deliveries", { params: { path: { id }, query } }));
  }
}

/**
 * The tenant's API keys (the calling key needs `keys:manage`). `create` answers with the
 * key's secret, once; a key never makes one with a scope it does not hold.
 *
 * @example
 * ```ts
 * const { key, secret } = await client.keys.create({ scopes: ["documents:read"] });
 * await client.keys.revoke(key.id); // refused at once from now on
 * ```
 */
export class Keys {
  constructor(private readonly raw: Client<paths>) {}

  /** A new key with only these scopes. @example `await client.keys.create({ scopes: ["documents:read"] })` */
  async create(body: KeyCreate): Promise<KeyWithSecret> {
    return unwrap(this.raw.POST("/v2/keys", { body }));
  }

  /** The tenant's unrevoked keys, without their secrets. @example `const { items } = await client.keys.list()` */
  async list(): Promise<Schemas["KeyList"]> {
    return unwrap(this.raw.GET("/v2/keys"));
  }

  /** Revokes a key (`key_…`). @example `await client.keys.revoke(id)` */
  async revoke(id: string): Promise<void> {
    await unwrap(this.raw.DELETE("/v2/keys/{id}", { params: { path: { id } } }));
  }
}

/**
 * The tenant's audit trail (the calling key needs `audit:read`): every change made to its
 * data, newest first, with the key that made it, the client's address and the request id.
 *
 * @example
 * ```ts
 * for await (const e of client.audit.list({ action: "document.delete" })) {
 *   console.log(e.at, e.actor, e.resource_id, e.address);
 * }
 * ```
 */
export class Audit {
  constructor(private readonly raw: Client<paths>) {}

  /** Every entry matching the filters, fetched a page at a time. @example `for await (const e of client.audit.list({ action: "webhook." })) console.log(e.action)` */
  list(params: Omit<ListAuditEventsParams, "page_token"> = {}): Paginator<AuditEvent> {
    return new Paginator((token) => this.listPage({ ...params, ...(token ? { page_token: token } : {}) }));
  }

  /** One page; pass the previous page's `next_page` as `page_token` for the next. @example `const page = await client.audit.listPage({ limit: 10 })` */
  async listPage(params: ListAuditEventsParams = {}): Promise<AuditEventPage> {
    return unwrap(this.raw.GET("/v2/audit-events", { params: { query: params } }));
  }
}
