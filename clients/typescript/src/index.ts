// The hand-written layer over the generated types (src/generated/schema.ts, openapi-typescript)
// and openapi-fetch: sign-in and token refresh, cursor iteration, Idempotency-Key on retries and
// waiting out a 429's Retry-After.

export type { components, operations, paths } from "./generated/schema.js";
export { ApiError, type Problem } from "./errors.js";
export { type Fetch, type RetryEvent, type RetryPolicy, retryAfter } from "./retry.js";
export { type Change, type ListPage, type ListPath, type ListQuery, ok, Spingraph, type SpingraphOptions } from "./spingraph.js";
export { type Refresher, type TokenResponse, Tokens } from "./tokens.js";
