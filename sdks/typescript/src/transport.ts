import { API_VERSION } from "./generated/api-version.js";
import { APIConnectionError, retryAfterSeconds } from "./errors.js";

/**
 * How requests are retried; the defaults match the Rust SDK's.
 *
 * Only requests that are safe to send twice are retried: GET, HEAD, PUT, DELETE, OPTIONS,
 * and any request carrying an `Idempotency-Key` (uploads always do). They are retried on a
 * lost connection and on 429, 502, 503 and 504, after the answer's `Retry-After` when it
 * has one, else after an exponential backoff with full jitter.
 *
 * @example
 * ```ts
 * const client = new Docintel({ retry: { maxAttempts: 6 } });
 * ```
 */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 disables retries. Default 4. */
  maxAttempts: number;
  /** Backoff before the first retry, doubled for each further one (full jitter). Default 100 ms. */
  initialBackoffMs: number;
  /** Longest backoff between two attempts. Default 5000 ms. */
  maxBackoffMs: number;
  /** A `Retry-After` longer than this is not waited for: the error is thrown. Default 60 s. */
  maxRetryAfterMs: number;
}

/**
 * The defaults, the Rust SDK's too.
 *
 * @example
 * ```ts
 * new Docintel({ retry: { ...DEFAULT_RETRY, maxAttempts: 8 } });
 * ```
 */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 4,
  initialBackoffMs: 100,
  maxBackoffMs: 5000,
  maxRetryAfterMs: 60_000,
};

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const SAFE_METHODS = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/**
 * Full-jitter exponential backoff before retry number `retry` (1-based), in ms: a random
 * time up to `initialBackoffMs * 2^(retry-1)`, capped at `maxBackoffMs`.
 *
 * @example
 * ```ts
 * backoffMs(DEFAULT_RETRY, 3); // somewhere in [0, 400]
 * ```
 */
export function backoffMs(policy: RetryPolicy, retry: number): number {
  const exp = policy.initialBackoffMs * 2 ** Math.min(Math.max(retry - 1, 0), 16);
  return Math.random() * Math.min(exp, policy.maxBackoffMs);
}

/**
 * A deprecation the server announced (RFC 9745 `Deprecation`, RFC 8594 `Sunset`) for an
 * operation this client called.
 *
 * @example
 * ```ts
 * new Docintel({ onDeprecation: (n) => log.warn(`${n.operation} ends ${n.sunset}`) });
 * ```
 */
export interface DeprecationNotice {
  /** Method and path template, e.g. `GET /v2/documents/{id}`. */
  operation: string;
  /** From `Deprecation: @<unix seconds>`. */
  deprecatedSince: Date | undefined;
  /** From `Sunset` (an HTTP-date): when the operation stops working. */
  sunset: Date | undefined;
  /** The `Link` header, naming the successor and the calendar. */
  link: string | undefined;
}

/** The built-in handler: one warning through the platform's channel. */
export function warnDeprecation(n: DeprecationNotice): void {
  const message =
    `docintel: ${n.operation} is deprecated` +
    (n.sunset ? ` and stops working on ${n.sunset.toISOString()}` : "") +
    (n.link ? ` (${n.link})` : "") +
    "; migrate before its sunset";
  const proc = (globalThis as { process?: { emitWarning?: (m: string, t: string) => void } }).process;
  if (typeof proc?.emitWarning === "function") proc.emitWarning(message, "DeprecationWarning");
  else console.warn(message);
}

export function deprecationNotice(operation: string, headers: Headers): DeprecationNotice | undefined {
  const deprecation = headers.get("deprecation");
  const sunset = headers.get("sunset");
  if (deprecation === null && sunset === null) return undefined;
  const since = deprecation?.trim().match(/^@(-?\d+)$/);
  const sunsetAt = sunset === null ? NaN : Date.parse(sunset);
  return {
    operation,
    deprecatedSince: since?.[1] ? new Date(Number(since[1]) * 1000) : undefined,
    sunset: Number.isNaN(sunsetAt) ? undefined : new Date(sunsetAt),
    link: headers.get("link") ?? undefined,
  };
}

export type FetchFn = (request: Request) => Promise<Response>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends requests made by `make` (called once per attempt, so a body can be produced
 * again), adding `api-version`, and retrying as `policy` allows. Each attempt is aborted
 * after `timeoutMs` (0: never), answer body included; the caller's own signal still aborts
 * at once and is never retried.
 */
export async function sendWithRetries(
  make: () => Request,
  fetchFn: FetchFn,
  policy: RetryPolicy,
  timeoutMs: number,
): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const made = make();
    const callerSignal = made.signal;
    const controller = new AbortController();
    let timedOut = false;
    const onAbort = () => controller.abort(callerSignal.reason);
    callerSignal.addEventListener("abort", onAbort, { once: true });
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort(new DOMException(`no complete answer within ${timeoutMs} ms`, "TimeoutError"));
          }, timeoutMs)
        : undefined;
    const request = new Request(made, { signal: controller.signal, duplex: "half" } as RequestInit);
    request.headers.set("api-version", API_VERSION);
    const safe = SAFE_METHODS.has(request.method) || request.headers.has("idempotency-key");
    const canRetry = safe && attempt < policy.maxAttempts;
    let wait: number;
    try {
      const response = await fetchFn(request);
      // The timer also covers reading the body, which may end long before it fires: from
      // here it must not keep Node running.
      (timer as { unref?: () => void } | undefined)?.unref?.();
      if (!canRetry || !RETRYABLE_STATUS.has(response.status)) return response;
      const after = retryAfterSeconds(response.headers.get("retry-after"));
      if (after !== undefined && after * 1000 > policy.maxRetryAfterMs) return response;
      wait = after !== undefined ? after * 1000 : backoffMs(policy, attempt);
      // The answer is dropped; free its connection.
      await response.body?.cancel().catch(() => {});
    } catch (error) {
      clearTimeout(timer);
      callerSignal.removeEventListener("abort", onAbort);
      if (callerSignal.aborted) throw error;
      if (!canRetry) {
        const what = timedOut ? `no answer within ${timeoutMs} ms` : `no answer: ${String(error)}`;
        throw new APIConnectionError(`${request.method} ${request.url}: ${what}`, { cause: error });
      }
      wait = backoffMs(policy, attempt);
    }
    // This attempt is over; an answer returned above keeps both while its body is read.
    clearTimeout(timer);
    callerSignal.removeEventListener("abort", onAbort);
    await sleep(wait);
  }
}
