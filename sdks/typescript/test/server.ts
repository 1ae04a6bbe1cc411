// What the live tests share: the server that sdks/with-server started for them.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const BASE_URL = process.env.DOCINTEL_BASE_URL ?? "";
export const API_KEY = process.env.DOCINTEL_API_KEY ?? "";
if (!BASE_URL || !API_KEY) {
  // Fail loudly rather than skip: these tests are meaningless without a server.
  throw new Error("DOCINTEL_BASE_URL and DOCINTEL_API_KEY must be set; run the tests through sdks/with-server");
}

/** The repository root (the tests run from build/test/). */
export const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
export const INVOICE_PDF = `${REPO}governance/src/checks/invoice.pdf`;
export const SPEC_VERSION: string = JSON.parse(readFileSync(`${REPO}openapi/v2.json`, "utf8")).info.version;

let n = 0;
/** A file name no other test uses. */
export function uniqueName(ext: string): string {
  return `ts-sdk-${process.pid}-${Date.now()}-${n++}.${ext}`;
}
