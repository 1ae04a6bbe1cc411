// Compiled by ./check against the packed SDK as a browser project would: DOM library, no
// Node types, the SDK's declarations checked too (skipLibCheck off).
import { constructEvent, Docintel, NotFoundError, type WebhookEvent } from "@docintel/sdk";

const client = new Docintel({ baseUrl: location.origin, apiKey: "dik_…" });

export async function classify(file: File): Promise<string | undefined> {
  const doc = await client.documents.uploadAndWait(file, { timeoutMs: 30_000 });
  for await (const page of client.documents.list({ limit: 10 }).pages()) console.log(page.items.length);
  try {
    await client.documents.get(doc.id);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
  return doc.classification?.label;
}

export function verify(secret: string, header: string, body: ArrayBuffer): Promise<WebhookEvent> {
  return constructEvent(secret, header, body);
}
