// The TypeScript client against a running host (SPINGRAPH_URL, DATABASE_URL, SPINGRAPH_BIN, as
// clients/test sets them): openapi-fetch through the hand-written layer (sign-in and refresh,
// cursors, Idempotency-Key on retries, 429 with Retry-After). Each test has a fresh user, so each
// has its own rate-limit window.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { ApiError, type Change, type Fetch, ok, type RetryEvent, Spingraph } from "../src/index.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through clients/test`);
  return value;
}

const url = env("SPINGRAPH_URL");
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

function newUser(role: "user" | "admin" = "user"): { email: string; password: string } {
  const user = { email: `${unique("ts")}@example.com`, password: randomBytes(18).toString("base64url") };
  execFileSync(
    env("SPINGRAPH_BIN"),
    ["admin", "create-user", "--email", user.email, "--role", role, "--database-url", env("DATABASE_URL")],
    { input: `${user.password}\n`, stdio: ["pipe", "ignore", "inherit"] },
  );
  return user;
}

async function signedIn(options: Partial<ConstructorParameters<typeof Spingraph>[0]> = {}): Promise<Spingraph> {
  const { email, password } = newUser();
  return new Spingraph({ baseUrl: url, ...options }).signIn(email, password);
}

const create = (sg: Spingraph, type: string, name: string) => ok(sg.api.POST("/v1/entities", { body: { type, name } }));

test("signs in and creates an entity", async () => {
  const sg = await signedIn();
  const me = await ok(sg.api.GET("/v1/auth/me"));
  const ada = await create(sg, "person", "Ada Lovelace");
  assert.deepEqual([ada.name, ada.type, ada.owner_id], ["Ada Lovelace", "person", me.id]);
});

test("a wrong password is an ApiError with the problem", async () => {
  const { email, password } = newUser();
  const failed = await new Spingraph({ baseUrl: url }).signIn(email, `${password}x`).catch((e: unknown) => e);
  assert.ok(failed instanceof ApiError);
  assert.equal(failed.status, 401);
  assert.equal(failed.problem?.status, 401);
});

test("items follow the cursor across pages", async () => {
  const sg = await signedIn();
  const kind = unique("page");
  const made: string[] = [];
  for (let i = 0; i < 7; i++) made.push((await create(sg, kind, `n${i}`)).id);

  const sizes: number[] = [];
  for await (const page of sg.pages("/v1/entities", { type: kind, limit: 3 })) sizes.push(page.items.length);
  assert.deepEqual(sizes, [3, 3, 1]);
  const seen: string[] = [];
  for await (const entity of sg.items("/v1/entities", { type: kind, limit: 3 })) seen.push(entity.id);
  assert.deepEqual(seen.sort(), made.sort()); // every one, none twice
});

/**
 * The changes of entities of type `kind` after `after`, read until caught up (each read's last,
 * empty page waits 1 s) as often as it takes for `count` of them to come. A transaction still
 * open elsewhere holds the feed back, ours with it, until it ends.
 */
async function readUntil(feed: Spingraph, after: string | undefined, kind: string, count: number): Promise<Change[]> {
  const deadline = performance.now() + 30_000;
  const seen: Change[] = [];
  while (seen.length < count) {
    assert.ok(performance.now() < deadline, `${seen.length} of ${count} changes in 30 s`);
    for await (const change of feed.changes({ after, wait: 1, limit: 2 })) {
      after = change.cursor;
      if (change.type === kind) seen.push(change);
    }
  }
  return seen;
}

/**
 * A reader of the change feed. It needs an admin, or an API key with the `changes:read` scope
 * (which only an admin's key may hold): an admin's key, reading what users write.
 */
async function feedReader(): Promise<Spingraph> {
  const admin = newUser("admin");
  const adminSg = await new Spingraph({ baseUrl: url }).signIn(admin.email, admin.password);
  const { key } = await ok(
    adminSg.api.POST("/v1/auth/api-keys", { body: { name: "feed", scopes: ["changes:read", "entities:read"] } }),
  );
  return new Spingraph({ baseUrl: url, apiKey: key });
}

test("the change feed is followed by its cursor", async () => {
  const sg = await signedIn();
  const feed = await feedReader();
  const kind = unique("feed");
  const made: string[] = [];
  for (let i = 0; i < 3; i++) made.push((await create(sg, kind, `c${i}`)).id);

  // From the beginning, page by page (2 a page): each of ours once, in commit order, with its
  // document.
  const mine = await readUntil(feed, undefined, kind, made.length);
  assert.deepEqual(
    mine.map((c) => c.id),
    made,
  );
  assert.ok(mine.every((c) => c.op === "create" && c.kind === "entity" && c.document !== null));
  const seqs = mine.map((c) => c.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));

  // Resuming after the last one's cursor gives only what came since.
  const later = (await create(sg, kind, "c3")).id;
  const resumed = await readUntil(feed, mine[mine.length - 1].cursor, kind, 1);
  assert.deepEqual(
    resumed.map((c) => c.id),
    [later],
  );
});

test("following the feed long-polls until a change comes", { timeout: 30_000 }, async () => {
  const sg = await signedIn();
  const feed = await feedReader();
  let end: string | undefined;
  for await (const change of feed.changes({ limit: 200 })) end = change.cursor; // catch up
  const kind = unique("follow");
  const later = new Promise((resolve) => setTimeout(resolve, 1000)).then(() => create(sg, kind, "late"));
  let seen: Change | undefined;
  for await (const change of feed.changes({ after: end, follow: true, wait: 5 })) {
    if (change.type === kind) {
      seen = change;
      break;
    }
  }
  assert.equal(seen?.id, (await later).id);
  assert.equal(seen?.op, "create");
});

test("the token is refreshed before expiry, after a 401 and on demand", async () => {
  const sg = await signedIn();
  const tokens = sg.tokens!;
  const first = [tokens.accessToken, tokens.refreshToken];

  // At (or past) expiry the next request refreshes first.
  tokens.expiresAt = performance.now();
  assert.ok((await ok(sg.api.GET("/v1/auth/me"))).email);
  const second = [tokens.accessToken, tokens.refreshToken];
  assert.notEqual(second[0], first[0]);
  assert.notEqual(second[1], first[1]);

  // An access token the server refuses: one 401, a refresh, the same request again.
  tokens.accessToken = "not-a-token";
  assert.ok((await ok(sg.api.GET("/v1/auth/me"))).email);
  const third = tokens.accessToken;
  assert.ok(third !== "not-a-token" && third !== second[0]);

  // Explicitly; the new token works.
  const fourth = await sg.refresh();
  assert.notEqual(fourth, third);
  assert.ok((await ok(sg.api.GET("/v1/auth/me"))).email);
});

/**
 * Sends the first entity create to the server, then loses its answer: a dropped connection or a
 * gateway's 503 in its place. Records each try's Idempotency-Key.
 */
function loseFirstAnswer(error: "connection" | "503"): { fetch: Fetch; keys: (string | null)[] } {
  const keys: (string | null)[] = [];
  const lossy: Fetch = async (request) => {
    const creating = request.method === "POST" && new URL(request.url).pathname === "/v1/entities";
    if (creating) keys.push(request.headers.get("idempotency-key"));
    const response = await fetch(request);
    if (creating && keys.length === 1) {
      await response.arrayBuffer();
      if (error === "connection") throw new TypeError("fetch failed", { cause: { code: "ECONNRESET" } });
      return new Response("bad gateway", { status: 503, headers: { "retry-after": "1" } });
    }
    return response;
  };
  return { fetch: lossy, keys };
}

for (const error of ["connection", "503"] as const) {
  test(`a create retried after a lost answer (${error}) makes one entity`, async () => {
    const lossy = loseFirstAnswer(error);
    const retries: RetryEvent[] = [];
    const sg = await signedIn({ fetch: lossy.fetch, retry: { onRetry: (e) => retries.push(e), backoff: 0.05 } });
    const name = unique("once");
    const { data, response } = await sg.api.POST("/v1/entities", { body: { type: "retry", name } });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("idempotent-replayed"), "true");
    assert.equal(lossy.keys.length, 2);
    assert.ok(lossy.keys[0]);
    assert.equal(lossy.keys[0], lossy.keys[1]);
    assert.deepEqual(
      retries.map((r) => r.idempotencyKey),
      [lossy.keys[0]],
    );
    const found: string[] = [];
    for await (const entity of sg.items("/v1/entities", { q: name })) found.push(entity.id);
    assert.deepEqual(found, [data!.id]);
  });
}

test("a 429 waits Retry-After, then succeeds", async (t) => {
  const retries: RetryEvent[] = [];
  const sg = await signedIn({ retry: { onRetry: (e) => retries.push(e) } });
  const first = await sg.api.GET("/v1/entities", { params: { query: { limit: 1 } } });
  const remaining = Number(first.response.headers.get("ratelimit-remaining"));
  if (remaining > 5000) {
    t.skip(`api_rate_limit_per_minute leaves ${remaining} requests: run with a small one`);
    return;
  }
  // Use up the window; the request after the last allowed one gets a 429, waits, succeeds.
  let elapsed = 0;
  let page;
  for (let i = 0; i <= remaining && retries.length === 0; i++) {
    const started = performance.now();
    page = await ok(sg.api.GET("/v1/entities", { params: { query: { limit: 1 } } }));
    elapsed = (performance.now() - started) / 1000;
  }
  const limited = retries.filter((r) => r.reason === "429");
  assert.ok(limited.length > 0, "no 429 within the window's limit");
  assert.ok(limited[0].retryAfter !== null && limited[0].retryAfter >= 1);
  assert.ok(elapsed >= limited[0].retryAfter, `waited ${elapsed} s, Retry-After ${limited[0].retryAfter}`);
  assert.ok(Array.isArray(page?.items));
});
