import { DocintelError } from "./errors.js";
import type { components } from "./generated/v2.js";

/** The body of every webhook delivery; `type` says which event it is. */
export type WebhookEvent = components["schemas"]["WebhookEvent"];

/** Why a delivery was refused: `malformed` header, `stale` timestamp, signature `mismatch`, or a `payload` that is not an event. */
export type WebhookErrorReason = "malformed" | "stale" | "mismatch" | "payload";

/**
 * A webhook delivery failed verification: do not trust its body (answer 400).
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof WebhookVerificationError) res.writeHead(400).end(e.reason); }
 * ```
 */
export class WebhookVerificationError extends DocintelError {
  constructor(readonly reason: WebhookErrorReason, message: string) {
    super(message);
  }
}

/**
 * The tolerance the server's documentation asks for: five minutes.
 *
 * @example
 * ```ts
 * await constructEvent(secret, header, body, DEFAULT_TOLERANCE_SECONDS);
 * ```
 */
export const DEFAULT_TOLERANCE_SECONDS = 300;

async function subtle(): Promise<SubtleCrypto> {
  // Browsers, Deno, Bun and Node ≥ 19 have Web Crypto as a global; Node 18 only in node:crypto.
  const global = (globalThis as { crypto?: Crypto }).crypto;
  if (global?.subtle) return global.subtle;
  const { webcrypto } = await import(/* webpackIgnore: true */ /* @vite-ignore */ "node:crypto");
  return webcrypto.subtle as SubtleCrypto;
}

const encoder = new TextEncoder();

async function hmacKey(secret: string): Promise<CryptoKey> {
  return (await subtle()).importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

function bytesOf(body: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof body === "string") return encoder.encode(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

function signedPayload(timestamp: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`${timestamp}.`);
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix);
  out.set(body, prefix.length);
  return out;
}

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * A `Docintel-Signature` header for `body`, as the server makes it: for tests and for
 * trying a receiver out.
 *
 * @example
 * ```ts
 * const header = await sign("whsec_…", JSON.stringify(event));
 * ```
 */
export async function sign(
  secret: string,
  body: string | Uint8Array | ArrayBuffer,
  timestamp: number = Math.floor(Date.now() / 1000),
): Promise<string> {
  const mac = await (await subtle()).sign("HMAC", await hmacKey(secret), signedPayload(timestamp, bytesOf(body)));
  const hex = Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
  return `t=${timestamp},v1=${hex}`;
}

/**
 * Checks a delivery's `Docintel-Signature` header against the raw body (the bytes as
 * received, before any JSON parsing) and returns the event. Any `v1=` signature made with
 * `secret` is accepted, so deliveries keep verifying while a rotated secret is in its grace
 * period. Throws {@link WebhookVerificationError}.
 *
 * @example
 * ```ts
 * const event = await constructEvent(secret, req.headers["docintel-signature"], rawBody);
 * if (event.type === "doc.processed") console.log(event.data?.classification?.label);
 * ```
 */
export async function constructEvent(
  secret: string,
  header: string | readonly string[] | null | undefined,
  body: string | Uint8Array | ArrayBuffer,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
): Promise<WebhookEvent> {
  // Node's IncomingHttpHeaders allows a repeated header as an array: one is expected.
  if (Array.isArray(header)) header = header.length === 1 ? header[0] : undefined;
  if (typeof header !== "string" || header.length === 0 || header.length > 4096) {
    throw new WebhookVerificationError("malformed", "missing or oversized Docintel-Signature header");
  }
  let timestamp: number | undefined;
  const signatures: Uint8Array<ArrayBuffer>[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) throw new WebhookVerificationError("malformed", "malformed Docintel-Signature header");
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === "t") {
      if (!/^\d{1,12}$/.test(value)) throw new WebhookVerificationError("malformed", "malformed timestamp");
      timestamp = Number(value);
    } else if (name === "v1") {
      const sig = hexToBytes(value);
      if (!sig) throw new WebhookVerificationError("malformed", "malformed v1 signature");
      signatures.push(sig);
    }
  }
  if (timestamp === undefined || signatures.length === 0) {
    throw new WebhookVerificationError("malformed", "Docintel-Signature needs t= and at least one v1=");
  }
  const age = Math.abs(Math.floor(Date.now() / 1000) - timestamp);
  if (age > toleranceSeconds) {
    throw new WebhookVerificationError("stale", `the signature is ${age} s away from now; tolerance is ${toleranceSeconds} s`);
  }
  const bytes = bytesOf(body);
  const data = signedPayload(timestamp, bytes);
  const key = await hmacKey(secret);
  const crypto = await subtle();
  let matched = false;
  // subtle.verify compares in constant time.
  for (const sig of signatures) {
    if (await crypto.verify("HMAC", key, sig, data)) matched = true;
  }
  if (!matched) throw new WebhookVerificationError("mismatch", "no signature matches");
  let event: unknown;
  try {
    event = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new WebhookVerificationError("payload", `the body is not JSON: ${String(e)}`);
  }
  if (
    typeof event !== "object" || event === null || Array.isArray(event) ||
    typeof (event as WebhookEvent).id !== "string" ||
    typeof (event as WebhookEvent).type !== "string" ||
    typeof (event as WebhookEvent).created !== "string"
  ) {
    throw new WebhookVerificationError("payload", "the body is not a webhook event (needs id, type, created)");
  }
  return event as WebhookEvent;
}
