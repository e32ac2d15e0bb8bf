/**
 * @module
 * Error style middleware: marks a compatible route, so that its errors (also those thrown before the
 * handler: token, body limit, JSON) come in the body shape its clients parse, and its schema failures are
 * 422 `invalid_field` (src/http/errors.ts, src/http/styles.ts).
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv, ErrorStyle } from "../../http/env.ts";

/**
 * @param {ErrorStyle} style - "tei", "openai", "hf" or "workers-ai" ("problem" is the native default).
 * @returns {MiddlewareHandler} The middleware handler function.
 *
 * @example
 * ```ts
 * app.use("/predict", errorStyle("tei")) // before apiToken and bodyLimit
 * ```
 */
export const errorStyle = (style: ErrorStyle): MiddlewareHandler<AppEnv> =>
  async function errorStyle(c, next) {
    c.set("errorStyle", style);
    await next();
  };
