// An access token that is refreshed before it expires and after a 401 (`POST /v1/auth/refresh`,
// which rotates the refresh token too).

import type { components } from "./generated/schema.js";

export type TokenResponse = components["schemas"]["TokenResponse"];

/** Trades a refresh token for new tokens (the anonymous client's `POST /v1/auth/refresh`). */
export type Refresher = (refreshToken: string) => Promise<TokenResponse>;

/**
 * The tokens of one sign-in. `expiresAt` is in `performance.now()` milliseconds; the token is
 * refreshed `skew` ms before it (a tenth of its lifetime, at most 30 s).
 */
export class Tokens {
  accessToken!: string;
  refreshToken!: string;
  expiresAt!: number;
  skew!: number;
  private refreshing: Promise<string> | null = null;

  constructor(
    answer: TokenResponse,
    private readonly refresher: Refresher,
  ) {
    this.take(answer);
  }

  private take(answer: TokenResponse): void {
    this.accessToken = answer.access_token;
    this.refreshToken = answer.refresh_token;
    this.skew = Math.min(30_000, answer.expires_in * 100);
    this.expiresAt = performance.now() + answer.expires_in * 1000;
  }

  /** The access token, refreshed first when it is about to expire. */
  async current(): Promise<string> {
    if (performance.now() >= this.expiresAt - this.skew) return this.refresh(this.accessToken);
    return this.accessToken;
  }

  /**
   * Rotate the tokens. With `stale`, only while that is still the access token: a caller that
   * waited for another's refresh uses its result instead of spending the new refresh token
   * (presenting a used one revokes the whole family). Concurrent refreshes share one request.
   */
  async refresh(stale?: string): Promise<string> {
    if (this.refreshing) return this.refreshing;
    if (stale !== undefined && stale !== this.accessToken) return this.accessToken;
    this.refreshing = this.refresher(this.refreshToken).then((answer) => {
      this.take(answer);
      return this.accessToken;
    });
    try {
      return await this.refreshing;
    } finally {
      this.refreshing = null;
    }
  }
}
