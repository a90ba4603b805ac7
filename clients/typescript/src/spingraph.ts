// `Spingraph`: the openapi-fetch client typed by the generated `paths`, with credentials and
// retries underneath, and what the generator does not write: answers as values or an `ApiError`,
// and async iteration over cursors.

import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";
import { ApiError } from "./errors.js";
import { type Fetch, Replayable, type RetryPolicy, retrying } from "./retry.js";
import { Tokens } from "./tokens.js";

export type Change = components["schemas"]["Change"];

/** The list operations that page with `cursor` and `next_cursor`. */
export type ListPath = "/v1/entities" | "/v1/relationships" | "/v1/auth/users" | "/v1/auth/api-keys";
type Get<P extends ListPath> = paths[P]["get"];
export type ListQuery<P extends ListPath> = Omit<NonNullable<Get<P>["parameters"]["query"]>, "cursor">;
export type ListPage<P extends ListPath> = Get<P>["responses"][200]["content"]["application/json"];

/** The longest long poll of the change feed (the server waits at most 25 s). */
const FOLLOW_WAIT_SECONDS = 25;

export interface SpingraphOptions {
  baseUrl: string;
  /** `Authorization: ApiKey <key>` on every request, instead of signing in. */
  apiKey?: string;
  retry?: RetryPolicy;
  /** What sends each request under the layer (default: the global fetch). */
  fetch?: Fetch;
}

type Answer = { data?: unknown; error?: unknown; response: Response };

/** The data of a 2xx answer of an openapi-fetch call; an `ApiError` otherwise. */
export async function ok<R extends Answer>(call: Promise<R>): Promise<Exclude<R["data"], undefined>> {
  const { data, error, response } = await call;
  if (!response.ok) throw ApiError.of(response, error);
  return data as Exclude<R["data"], undefined>;
}

/**
 * A spingraph API client. `api` is the openapi-fetch client (`sg.api.POST("/v1/entities", ...)`);
 * every request goes through the retry policy and, once signed in (or with an API key), carries
 * the credential, refreshed as needed.
 *
 *     const sg = await new Spingraph({ baseUrl: "http://127.0.0.1:3000" }).signIn(email, password);
 *     const ada = await ok(sg.api.POST("/v1/entities", { body: { type: "person", name: "Ada" } }));
 *     for await (const entity of sg.items("/v1/entities", { type: "person" })) { ... }
 */
export class Spingraph {
  readonly api: Client<paths>;
  /** The same API without credentials (sign-in, refresh). */
  readonly anonymous: Client<paths>;
  tokens: Tokens | null = null;
  private readonly send: (request: Replayable) => Promise<Response>;

  constructor(private readonly options: SpingraphOptions) {
    const inner = options.fetch ?? ((request: Request) => fetch(request));
    this.send = retrying(inner, options.retry);
    this.anonymous = createClient<paths>({
      baseUrl: options.baseUrl,
      fetch: async (request) => this.send(await Replayable.of(request)),
    });
    this.api = createClient<paths>({ baseUrl: options.baseUrl, fetch: (request) => this.authenticated(request) });
  }

  private async authenticated(request: Request): Promise<Response> {
    const replayable = await Replayable.of(request);
    if (this.options.apiKey !== undefined) {
      replayable.headers.set("Authorization", `ApiKey ${this.options.apiKey}`);
      return this.send(replayable);
    }
    if (this.tokens === null) return this.send(replayable);
    let token = await this.tokens.current();
    replayable.headers.set("Authorization", `Bearer ${token}`);
    const response = await this.send(replayable);
    if (response.status !== 401) return response;
    // Revoked, or expired early (clock skew): a 401 did nothing, so resending is safe (with the
    // Idempotency-Key the first send gave it).
    await response.body?.cancel();
    token = await this.tokens.refresh(token);
    replayable.headers.set("Authorization", `Bearer ${token}`);
    return this.send(replayable);
  }

  /** `POST /v1/auth/token`; from then on requests carry the access token. */
  async signIn(email: string, password: string): Promise<this> {
    const answer = await ok(this.anonymous.POST("/v1/auth/token", { body: { email, password } }));
    this.tokens = new Tokens(answer, async (refresh_token) => {
      const rotated = await ok(this.anonymous.POST("/v1/auth/refresh", { body: { refresh_token } }));
      if (!("access_token" in rotated)) throw new Error("refresh answered with a session, not tokens");
      return rotated;
    });
    return this;
  }

  /** Rotate the tokens now (they also rotate by themselves before expiry or on a 401). */
  async refresh(): Promise<string> {
    if (this.tokens === null) throw new Error("not signed in with a password: nothing to refresh");
    return this.tokens.refresh();
  }

  /** Every page of a list operation, following `next_cursor` until it is null. */
  async *pages<P extends ListPath>(path: P, query?: ListQuery<P>): AsyncGenerator<ListPage<P>> {
    // One generic call for four paths: openapi-fetch's per-path overloads do not unify.
    const get = this.api.GET as unknown as (path: string, init: object) => Promise<Answer>;
    let cursor: string | undefined;
    for (;;) {
      const page = (await ok(get(path, { params: { query: { ...query, cursor } } }))) as ListPage<P>;
      yield page;
      if (!page.next_cursor) return;
      cursor = page.next_cursor;
    }
  }

  /** Every item of every page of a list operation. */
  async *items<P extends ListPath>(path: P, query?: ListQuery<P>): AsyncGenerator<ListPage<P>["items"][number]> {
    for await (const page of this.pages(path, query)) yield* page.items as ListPage<P>["items"];
  }

  /**
   * The change feed from `after` (a change's `cursor`; none is the beginning), each change once,
   * in commit order. Ends when it has caught up, unless `follow`: then it long-polls (`wait`
   * seconds a request) for ever.
   */
  async *changes(
    options: { after?: string; follow?: boolean; wait?: number; limit?: number; types?: string } = {},
  ): AsyncGenerator<Change> {
    const { follow = false, limit, types } = options;
    const wait = options.wait ?? (follow ? FOLLOW_WAIT_SECONDS : undefined);
    let after = options.after;
    for (;;) {
      const page = await ok(this.api.GET("/v1/changes", { params: { query: { after, wait, limit, types } } }));
      yield* page.items;
      after = page.next_cursor ?? after;
      if (page.items.length === 0 && !follow) return;
    }
  }
}
