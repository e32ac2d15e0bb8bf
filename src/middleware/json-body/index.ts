/**
 * @module
 * JSON body middleware: checks the media type and parses the body once, with errors a client can act on.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../http/env.ts";
import { ProblemError } from "../../http/problem.ts";

/**
 * The body's bytes. A body that ends early (the client closed the connection mid-body) is the client's
 * fault: 400 `incomplete_body`, not a 500 logged as a Worker error. The size limit (hono/body-limit,
 * earlier in the chain) raises its own error through the same stream: that one is passed on unchanged.
 */
async function readBody(request: Request): Promise<Uint8Array> {
  try {
    return new Uint8Array(await request.arrayBuffer());
  } catch (err) {
    if (err instanceof ProblemError) throw err;
    throw incompleteBody(err);
  }
}

/** The problem for a body whose stream failed before its end (the client went away mid-body). */
export function incompleteBody(cause: unknown): ProblemError {
  return new ProblemError("incomplete_body", "The request body ended before it was complete (the connection was closed mid-body); send it again.", { cause });
}

/** UTF-8 text, strictly: invalid bytes are a 400 naming where they are, never silently replaced by U+FFFD. */
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    let at = 0;
    // the first offending byte: the longest prefix that still decodes (for the message only)
    for (let lo = 0, hi = bytes.length; lo <= hi; ) {
      const mid = (lo + hi) >> 1;
      try {
        new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes.subarray(0, mid));
        at = mid;
        lo = mid + 1;
      } catch {
        hi = mid - 1;
      }
    }
    throw new ProblemError("malformed_json", `The request body is not valid UTF-8 (first invalid byte near offset ${at}); JSON bodies must be UTF-8.`);
  }
}

export type JsonBodyOptions = {
  /** Media types accepted besides `application/json`; `application/*+json` is always accepted. */
  mediaTypes?: string[];
};

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Runs before the route's zod validator. Hono's validator silently treats a non-JSON body as `{}` and
 * reports malformed JSON without saying where; this middleware answers instead:
 * - 415 `unsupported_media_type` when Content-Type is not JSON (curl's `-d` sends form encoding),
 * - 400 `malformed_json` with the parser's message when the body is empty or does not parse.
 * The parsed value is stored in Hono's body cache, so `c.req.json()` and the validator reuse it.
 *
 * @param {JsonBodyOptions} [options] - The options for the middleware.
 * @param {string[]} [options.mediaTypes] - Extra accepted media types.
 * @returns {MiddlewareHandler} The middleware handler function.
 *
 * @example
 * ```ts
 * const route = createRoute({ method: "post", path: "/v1/classify", middleware: [jsonBody()], ... })
 * // curl -d '{"text":"hi"}'            → 415 (form-encoded)
 * // -H 'content-type: application/json' -d '{"text":' → 400 malformed_json
 * ```
 */
export const jsonBody = (options: JsonBodyOptions = {}): MiddlewareHandler<AppEnv> => {
  const extra = new Set((options.mediaTypes ?? []).map((t) => t.toLowerCase()));

  return async function jsonBody(c, next) {
    const contentType = c.req.header("Content-Type");
    const mediaType = contentType?.split(";")[0].trim().toLowerCase() ?? "";
    if (!JSON_MEDIA_TYPE.test(mediaType) && !extra.has(mediaType)) {
      const got = contentType ? `got "${contentType}"` : "no Content-Type was sent";
      throw new ProblemError("unsupported_media_type", `The body must be JSON with Content-Type: application/json; ${got}.`);
    }
    const text = decodeUtf8(await readBody(c.req.raw));
    if (text.trim() === "") throw new ProblemError("malformed_json", "The request body is empty; expected a JSON object.");
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const reason = err instanceof SyntaxError ? err.message.replace(/\.$/, "") : "it does not parse";
      throw new ProblemError("malformed_json", `The request body is not valid JSON: ${reason}.`);
    }
    c.req.bodyCache.json = Promise.resolve(value);
    await next();
  };
};
