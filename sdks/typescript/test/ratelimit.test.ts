// Against a server started with `--rate-limit 5/10` (one request every 2 s once the burst of
// five is spent): a 429 carries Retry-After, and the SDK waits that long and tries again.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Docintel, RateLimitError } from "../src/index.js";
import "./server.js";

test("429 is a RateLimitError with retryAfter when not retried, and retried after Retry-After otherwise", async () => {
  const once = new Docintel({ retry: { maxAttempts: 1 } });
  let limited: RateLimitError | undefined;
  for (let i = 0; i < 10 && !limited; i++) {
    await once.documents.listPage({ limit: 1 }).catch((e: unknown) => {
      if (!(e instanceof RateLimitError)) throw e;
      limited = e;
    });
  }
  assert.ok(limited, "the server never answered 429");
  assert.equal(limited.status, 429);
  assert.equal(limited.code, "rate_limited");
  assert.ok(limited.retryAfter !== undefined && limited.retryAfter >= 1, `retryAfter ${limited.retryAfter}`);

  const attempts: { at: number; status: number; retryAfter: string | null }[] = [];
  const patient = new Docintel({
    fetch: async (r) => {
      const response = await fetch(r);
      attempts.push({ at: Date.now(), status: response.status, retryAfter: response.headers.get("retry-after") });
      return response;
    },
  });
  const page = await patient.documents.listPage({ limit: 1 });
  assert.ok(Array.isArray(page.items));
  assert.ok(attempts.length >= 2, JSON.stringify(attempts));
  assert.equal(attempts[0]!.status, 429);
  assert.equal(attempts.at(-1)!.status, 200);
  const waited = attempts[1]!.at - attempts[0]!.at;
  assert.ok(waited >= Number(attempts[0]!.retryAfter) * 1000 - 50, `waited ${waited} ms for Retry-After ${attempts[0]!.retryAfter}`);
});
