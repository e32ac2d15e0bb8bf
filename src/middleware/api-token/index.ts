/**
 * @module
 * API token middleware: bearer authentication that is on only when the Worker has a token configured.
 */
import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { HTTPException } from "hono/http-exception";
import { timingSafeEqual } from "hono/utils/buffer";
import type { AppEnv } from "../../http/env.ts";

export type ApiTokenOptions = {
  /** Realm in the `WWW-Authenticate: Bearer realm="…"` challenge (RFC 6750 §3). */
  realm?: string;
  /**
   * Reads the accepted tokens from the bindings; none means authentication is off. Default: the
   * comma-separated `API_TOKENS` plus `API_TOKEN` (several at once, so a key is rotated without downtime:
   * add the new one, move the clients, remove the old one).
   */
  tokens?: (env: AppEnv["Bindings"]) => string[];
};

/**
 * Requires `Authorization: Bearer <token>` when the configured token is a non-empty string, and lets every
 * request through otherwise (local development, public demos). The token is read per request from
 * `c.env` — Hono's `bearerAuth({ token })` would need it when the app is built (edge-stack §10, trap 2) —
 * and compared in constant time (`timingSafeEqual` hashes both sides first).
 *
 * A header with another scheme (`Basic …`) counts as no credentials: 401 with the plain challenge and no
 * error code, as RFC 6750 §3.1 asks for "an unsupported authentication method". Failures are thrown as
 * Hono's `HTTPException` whose response carries `WWW-Authenticate`; the app's onError must copy it.
 *
 * @param {ApiTokenOptions} [options] - The options for the middleware.
 * @param {string} [options.realm="ultrafastbert-edge"] - The realm of the challenge.
 * @param {(env) => string[]} [options.tokens] - The accepted tokens; default `API_TOKENS` (comma-separated) and `API_TOKEN`.
 * @returns {MiddlewareHandler} The middleware handler function.
 *
 * @example
 * ```ts
 * app.use("/v1/*", apiToken({ realm: "ultrafastbert-edge" }))
 * // API_TOKEN unset      → every request passes
 * // API_TOKEN = "s3cret" → GET /v1/models without the header → 401, WWW-Authenticate: Bearer realm="ultrafastbert-edge"
 * ```
 */
export const apiToken = (options: ApiTokenOptions = {}): MiddlewareHandler<AppEnv> => {
  const realm = options.realm ?? "ultrafastbert-edge";
  const readTokens = options.tokens ?? configuredTokens;
  const auth = bearerAuth<AppEnv>({
    realm,
    verifyToken: async (token, c) => {
      // every configured token is compared (no early exit), so the time does not say which one matched
      let ok = false;
      for (const expected of readTokens(c.env)) ok = (await timingSafeEqual(expected, token)) || ok;
      return ok;
    },
  });
  const challenge = `Bearer realm="${realm.replace(/[\\"]/g, "\\$&")}"`;

  return async function apiToken(c, next) {
    if (readTokens(c.env).length === 0) return next();
    const header = c.req.header("Authorization");
    if (header !== undefined && !/^bearer(\s|$)/i.test(header)) {
      // Another scheme: answer as if there were no credentials (no error code in the challenge).
      throw new HTTPException(401, { res: new Response("Unauthorized", { status: 401, headers: { "WWW-Authenticate": challenge } }) });
    }
    return auth(c, next);
  };
};

/** The accepted tokens: `API_TOKENS` (comma-separated, blanks ignored) and `API_TOKEN`, without duplicates. */
export function configuredTokens(env: AppEnv["Bindings"] | undefined): string[] {
  const list = [...(env?.API_TOKENS ?? "").split(","), env?.API_TOKEN ?? ""].map((t) => t.trim()).filter((t) => t !== "");
  return [...new Set(list)];
}
