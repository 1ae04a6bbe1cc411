import type { components } from "./generated/v2.js";

/** An RFC 9457 problem document as the server sends it. @example `if (e instanceof APIError) console.log(e.problem.instance)` */
export type Problem = components["schemas"]["Problem"];
/** A document as the API shows it. @example `const doc: Document = await client.documents.get(id)` */
export type Document = components["schemas"]["DocumentView"];

/**
 * The base of every error the SDK throws.
 *
 * @example
 * ```ts
 * try { await client.documents.get(id); }
 * catch (e) { if (e instanceof DocintelError) console.error(e.message); }
 * ```
 */
export class DocintelError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The server answered with an error status. `code` is the stable name from the problem
 * document (see `/problems/{code}` on the server); `requestId` is what to quote when
 * reporting it.
 *
 * @example
 * ```ts
 * try { await client.documents.get(id); }
 * catch (e) { if (e instanceof APIError) console.error(e.status, e.code, e.requestId); }
 * ```
 */
export class APIError extends DocintelError {
  /** The HTTP status. */
  readonly status: number;
  /** The problem's `code`, e.g. `not_found`; `unknown` when the body was not a problem. */
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  /** The `X-Request-Id` header, else the problem's `request_id`. */
  readonly requestId: string | undefined;
  /** Seconds from `Retry-After`, for 429 and 503 answers that carry it. */
  readonly retryAfter: number | undefined;
  /** The problem document, or one made from the status when the body was not one. */
  readonly problem: Problem;
  readonly headers: Headers;

  constructor(status: number, problem: Problem, headers: Headers) {
    super(`${status} ${problem.code}: ${problem.detail}`);
    this.status = status;
    this.code = problem.code;
    this.title = problem.title;
    this.detail = problem.detail;
    this.requestId = headers.get("x-request-id") ?? (problem.request_id || undefined);
    this.retryAfter = retryAfterSeconds(headers.get("retry-after"));
    this.problem = problem;
    this.headers = headers;
  }
}

/** 400: the request is malformed (`invalid_parameter`, `invalid_filename`, …). @example `if (e instanceof BadRequestError) console.error(e.detail)` */
export class BadRequestError extends APIError {}
/** 401: no key, or one the server does not know. @example `if (e instanceof AuthenticationError) askForANewKey()` */
export class AuthenticationError extends APIError {}
/** 403: the key may not do this. @example `if (e instanceof PermissionDeniedError) console.error(e.detail)` */
export class PermissionDeniedError extends APIError {}
/** 404: no such resource for this key. @example `if (e instanceof NotFoundError) return null` */
export class NotFoundError extends APIError {}
/** 409: the resource is not in a state that allows this (`not_processed`, …). @example `if (e instanceof ConflictError && e.code === "not_processed") await wait()` */
export class ConflictError extends APIError {}
/** 413: the body is over the server's limit. @example `if (e instanceof PayloadTooLargeError) console.error(e.detail)` */
export class PayloadTooLargeError extends APIError {}
/** 415: not a PDF, PNG, JPEG or UTF-8 text. @example `if (e instanceof UnsupportedMediaTypeError) console.error(e.detail)` */
export class UnsupportedMediaTypeError extends APIError {}
/** 422: a well-formed request the server refuses (`invalid_webhook`, `idempotency_key_reused`, …). @example `if (e instanceof UnprocessableEntityError) console.error(e.detail)` */
export class UnprocessableEntityError extends APIError {}
/** 429, after the retries: wait `retryAfter` seconds. @example `if (e instanceof RateLimitError) await sleep((e.retryAfter ?? 1) * 1000)` */
export class RateLimitError extends APIError {}
/** 500 and other 5xx without a class of their own. @example `if (e instanceof InternalServerError) report(e.requestId)` */
export class InternalServerError extends APIError {}
/** 503, after the retries: the server or a service it needs is unavailable. @example `if (e instanceof ServiceUnavailableError) console.error(e.retryAfter)` */
export class ServiceUnavailableError extends APIError {}

/**
 * No answer: the connection failed, was reset or timed out (after the retries).
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof APIConnectionError) console.error("cannot reach docintel", e.cause); }
 * ```
 */
export class APIConnectionError extends DocintelError {}

/**
 * `uploadAndWait` saw the document fail processing; `document.failure` says why.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof ProcessingFailedError) console.error(e.document.failure); }
 * ```
 */
export class ProcessingFailedError extends DocintelError {
  constructor(readonly document: Document) {
    super(`document ${document.id} failed processing: ${document.failure ?? "no reason given"}`);
  }
}

/**
 * `uploadAndWait` gave up before the document was processed; `document` is how it was last
 * seen (it may still finish: poll `documents.get(document.id)`).
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof WaitTimeoutError) console.error(e.document.status); }
 * ```
 */
export class WaitTimeoutError extends DocintelError {
  constructor(readonly document: Document, readonly timeoutMs: number) {
    super(`document ${document.id} is still ${document.status} after ${timeoutMs} ms`);
  }
}

const BY_STATUS: Record<number, typeof APIError> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  415: UnsupportedMediaTypeError,
  422: UnprocessableEntityError,
  429: RateLimitError,
  503: ServiceUnavailableError,
};

/**
 * `Retry-After` as seconds: delay-seconds or an HTTP-date (RFC 9110); undefined when absent
 * or unreadable.
 *
 * @example
 * ```ts
 * retryAfterSeconds(response.headers.get("retry-after")); // 7 for "7"
 * ```
 */
export function retryAfterSeconds(value: string | null): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function isProblem(body: unknown): body is Problem {
  if (typeof body !== "object" || body === null) return false;
  const b = body as Record<string, unknown>;
  return typeof b.code === "string" && typeof b.title === "string" && typeof b.detail === "string";
}

/**
 * The error for an error answer, e.g. one `client.raw` returned. A body that is not a
 * problem document (a proxy's page) becomes one made from the status, so the caller still
 * gets the right class.
 *
 * @example
 * ```ts
 * const { data, error, response } = await client.raw.GET("/v2/webhooks");
 * if (!response.ok) throw errorFromResponse(response, error);
 * ```
 */
export function errorFromResponse(response: Response, body: unknown): APIError {
  const status = response.status;
  const problem: Problem = isProblem(body)
    ? body
    : {
        type: "about:blank",
        title: response.statusText || `HTTP ${status}`,
        status,
        code: "unknown" as Problem["code"],
        detail: typeof body === "string" ? body.slice(0, 2048) : `HTTP ${status} without a problem document`,
        instance: new URL(response.url || "http://invalid/").pathname,
        request_id: response.headers.get("x-request-id") ?? "",
      };
  const Class = BY_STATUS[status] ?? (status >= 500 ? InternalServerError : APIError);
  return new Class(status, problem, response.headers);
}
