/**
 * @module
 * Rate limiting with the Workers rate-limiting binding (wrangler.toml `[[ratelimits]]`): one counter per
 * API token, or per client address when the API is open. Without the binding, or with `RATE_LIMIT = "off"`
 * (the tests and `npm run dev`, where wrangler simulates the binding and every local client would share one
 * counter), nothing is limited.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../http/env.ts";
import { ProblemError } from "../../http/problem.ts";
import { configuredTokens } from "../api-token/index.ts";

/** Retry-After when RATE_LIMIT_PERIOD_S is unset: the binding's longer period (it allows 10 or 60 s). */
export const DEFAULT_PERIOD_S = 60;

/**
 * Runs after the API token middleware, so only an accepted token gets its own counter: a client that sprays
 * made-up tokens is stopped by the token check (401), not handed a fresh counter per guess.
 *
 * The counter key is `token:` + the first 16 bytes of the token's SHA-256 (the binding's keys live in
 * Cloudflare's rate-limiting service; the secret itself never leaves the Worker), or `ip:` + the
 * `CF-Connecting-IP` address Cloudflare sets. The binding says only yes or no, not when the window
 * ends, so Retry-After is the configured period: waiting that long always finds a fresh window.
 */
export const rateLimit = (): MiddlewareHandler<AppEnv> =>
  async function rateLimit(c, next) {
    const limiter = c.env?.RATE_LIMITER;
    if (!limiter || c.env.RATE_LIMIT === "off") return next();
    const key = await limitKey(c.req.header("Authorization"), c.req.header("CF-Connecting-IP"), configuredTokens(c.env).length > 0);
    const { success } = await limiter.limit({ key });
    if (!success) {
      const period = retryAfterSeconds(c.env.RATE_LIMIT_PERIOD_S);
      throw new ProblemError("rate_limited", `Too many requests for this ${key.startsWith("token:") ? "API token" : "client address"}; retry after ${period} s.`, {
        headers: { "Retry-After": String(period) },
      });
    }
    return next();
  };

/** The counter key of a request (exported for tests): a hash of the bearer token when tokens are on, else the address. */
export async function limitKey(authorization: string | undefined, address: string | undefined, tokensOn: boolean): Promise<string> {
  const token = /^bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  if (tokensOn && token) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
    return "token:" + Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  // without CF-Connecting-IP (local dev, tests) every client shares one counter
  return "ip:" + (address?.trim() || "unknown");
}

function retryAfterSeconds(value: string | undefined): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 && n <= 3600 ? n : DEFAULT_PERIOD_S;
}
