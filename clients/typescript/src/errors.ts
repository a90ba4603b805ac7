// The one error of the hand-written layer: an answer other than 2xx, with its problem+json.

import type { components } from "./generated/schema.js";

export type Problem = components["schemas"]["Problem"];

/** A non-2xx answer. `problem` is the parsed problem+json when the body was one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
    readonly headers: Headers,
  ) {
    const detail = problem ? `${problem.title}: ${problem.detail} (request ${problem.request_id})` : "no problem details";
    super(`HTTP ${status}: ${detail}`);
    this.name = "ApiError";
  }

  static of(response: Response, error: unknown): ApiError {
    const problem = typeof error === "object" && error !== null && "status" in error ? (error as Problem) : null;
    return new ApiError(response.status, problem, response.headers);
  }
}
