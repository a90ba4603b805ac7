// Retries under openapi-fetch: a fetch that gives every write an Idempotency-Key, retries after a
// network error or a 5xx when that is safe, and waits out a 429 for as long as its Retry-After says
// (bounded).

export type Fetch = (request: Request) => Promise<Response>;

/** One retry: why, after how many attempts, and how long the client waits before it. */
export interface RetryEvent {
  method: string;
  url: string;
  attempt: number;
  /** "429", "503", ... or the network error's code */
  reason: string;
  /** seconds */
  wait: number;
  /** the server's Retry-After in seconds, when it sent one */
  retryAfter: number | null;
  idempotencyKey: string | null;
}

export interface RetryPolicy {
  /** Tries in all, the first one included (5). */
  attempts?: number;
  /** The longest wait for one retry, in seconds (60); a 429 asking for longer is returned as it is. */
  maxWait?: number;
  /** The first wait after an error without Retry-After, doubled each time with jitter (0.25 s)... */
  backoff?: number;
  /** ...at most this (8 s). */
  maxBackoff?: number;
  /** Called before each wait (logging, metrics, tests). */
  onRetry?: (event: RetryEvent) => void;
  sleep?: (seconds: number) => Promise<void>;
}

// Writes the API deduplicates by Idempotency-Key: every POST, PATCH and PUT outside /v1/auth/
// (openapi.yaml's `idempotencyKey` parameter). Sign-in, refresh and the other auth writes take no
// key, so they are retried only when they never reached the server (or got a 429).
const KEYED_METHODS = new Set(["POST", "PATCH", "PUT"]);
const AUTH_PREFIX = "/v1/auth/";
/** Methods that may be sent twice whatever happened to the first. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504]);
/** Network errors of a request that never reached the server. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

/** Retry-After in seconds: delta-seconds (what spingraph sends) or an HTTP date. */
export function retryAfter(response: Response): number | null {
  const value = response.headers.get("retry-after")?.trim();
  if (value === undefined) return null;
  if (/^\d+$/.test(value)) return Number(value);
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, (when - Date.now()) / 1000);
}

/** A request that can be sent again: its body read once, its headers editable. */
export class Replayable {
  readonly headers: Headers;
  private constructor(
    private readonly request: Request,
    private readonly body: ArrayBuffer | undefined,
  ) {
    this.headers = new Headers(request.headers);
  }

  static async of(request: Request): Promise<Replayable> {
    const body = request.body === null ? undefined : await request.arrayBuffer();
    return new Replayable(request, body);
  }

  get method(): string {
    return this.request.method;
  }

  get url(): string {
    return this.request.url;
  }

  get signal(): AbortSignal {
    return this.request.signal;
  }

  build(): Request {
    const { method, url, signal, redirect } = this.request;
    return new Request(url, { method, headers: this.headers, body: this.body, signal, redirect });
  }
}

function errorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === "string") return cause.code;
  return error instanceof Error ? error.name : "Error";
}

/** `inner` with the retry policy: retries `request`, a `Replayable`, and gives it its key. */
export function retrying(inner: Fetch, policy: RetryPolicy = {}) {
  const attempts = policy.attempts ?? 5;
  const maxWait = policy.maxWait ?? 60;
  const sleep = policy.sleep ?? ((s: number) => new Promise<void>((r) => setTimeout(r, s * 1000)));
  const backoff = (attempt: number) =>
    Math.min(policy.maxBackoff ?? 8, (policy.backoff ?? 0.25) * 2 ** (attempt - 1)) *
    (0.5 + Math.random() / 2);

  return async (request: Replayable): Promise<Response> => {
    const path = new URL(request.url).pathname;
    if (KEYED_METHODS.has(request.method) && !path.startsWith(AUTH_PREFIX) && !request.headers.has("idempotency-key")) {
      request.headers.set("Idempotency-Key", crypto.randomUUID());
    }
    // Sending it again cannot write twice: a safe method, or a key the server replays.
    const repeatable = SAFE_METHODS.has(request.method) || request.headers.has("idempotency-key");
    const wait = async (attempt: number, reason: string, seconds: number, after: number | null) => {
      policy.onRetry?.({
        method: request.method,
        url: request.url,
        attempt,
        reason,
        wait: seconds,
        retryAfter: after,
        idempotencyKey: request.headers.get("idempotency-key"),
      });
      await sleep(seconds);
    };

    for (let attempt = 1; ; attempt++) {
      const last = attempt >= attempts;
      let response: Response;
      try {
        response = await inner(request.build());
      } catch (error) {
        if (request.signal.aborted) throw error;
        const code = errorCode(error);
        // Never reached the server: anything may go again; else only what is repeatable.
        if (last || !(NOT_SENT.has(code) || repeatable)) throw error;
        await wait(attempt, code, backoff(attempt), null);
        continue;
      }
      const status = response.status;
      if (last || !RETRIED_STATUSES.has(status) || (status !== 429 && !repeatable)) return response;
      const after = retryAfter(response);
      const seconds = after ?? backoff(attempt);
      if (seconds > maxWait) return response; // longer than we may wait: the caller decides
      await response.body?.cancel();
      await wait(attempt, String(status), seconds, after);
    }
  };
}
