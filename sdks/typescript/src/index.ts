export { Audit, Docintel, Documents, Keys, Webhooks, Paginator } from "./client.js";
export type {
  ClientOptions,
  UploadBody,
  UploadOptions,
  WaitOptions,
  DocumentPage,
  DocumentStatus,
  ListDocumentsParams,
  Webhook,
  WebhookCreate,
  WebhookWithSecret,
  RotatedSecret,
  Delivery,
  ApiKey,
  KeyCreate,
  KeyWithSecret,
  AuditEvent,
  AuditEventPage,
  ListAuditEventsParams,
  LayoutParams,
  Usage,
} from "./client.js";
export { FoundWord, findWords, pngSize, shown, toPixels, words } from "./layout.js";
export type { BoundingBox, DocumentLayout, PageView, PixelBox, WordView } from "./layout.js";
export * from "./errors.js";
export { DEFAULT_RETRY, backoffMs, type RetryPolicy, type DeprecationNotice, type FetchFn } from "./transport.js";
export { constructEvent, sign, WebhookVerificationError, DEFAULT_TOLERANCE_SECONDS } from "./webhooks.js";
export type { WebhookEvent, WebhookErrorReason } from "./webhooks.js";
export { API_VERSION } from "./generated/api-version.js";
export type { paths, components, webhooks } from "./generated/v2.js";
