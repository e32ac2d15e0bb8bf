/**
 * Maps everything that can go wrong to a ProblemError, in one place: the app's onError, notFound,
 * method-not-allowed handler and the validation hook all end here. 5xx are logged with their stack and
 * cause (console.error); the client only gets the code, a safe message and the request id.
 */
import type { Hook } from "@hono/zod-openapi";
import type { Context, ErrorHandler, MiddlewareHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { NoContentError, UfbError } from "../errors.ts";
import type { AppEnv, TextField } from "./env.ts";
import { fieldName, jsonPointer, PROBLEMS, ProblemError, problemCode, publicDetail, SHOWN_AS, type ProblemItem } from "./problem.ts";
import { styledResponse } from "./styles.ts";

/** Seconds a client should wait before retrying a 503 (weights could not be read: usually transient). */
export const RETRY_AFTER_SECONDS = 5;

/** A UfbError, also one from a second copy of the module in a bundle (same name, a code of the table). */
function isUfbError(err: unknown): err is UfbError {
  if (err instanceof UfbError) return true;
  if (!(err instanceof Error) || typeof (err as UfbError).code !== "string") return false;
  const code = (err as UfbError).code;
  return ["UfbError", "IntegrityError", "StaleObjectError", "CacheFullError", "KernelError", "UsageError", "NoContentError"].includes(err.name) && (code in SHOWN_AS || code in PROBLEMS);
}

/**
 * Turns any thrown value into the problem the client sees (status and message from the table in problem.ts).
 * `texts` says where the request's texts are, so that an error naming texts by index points at them.
 */
export function toProblem(err: unknown, texts: TextField = { field: "texts", single: false }): ProblemError {
  if (err instanceof ProblemError) return err;
  const indices = (err as Partial<NoContentError> | null)?.indices;
  if (isUfbError(err) && err.code === "no_content" && Array.isArray(indices)) {
    const items: ProblemItem[] = indices.map((i) => ({
      pointer: texts.single ? `#/${texts.field}` : `#/${texts.field}/${i}`,
      detail: `${texts.single ? texts.field : `${texts.field}[${i}]`} has no content token: only whitespace, zero-width or control characters, or characters this model's tokenizer drops`,
    }));
    const more = items.length > 1 ? ` (and ${items.length - 1} more; see errors)` : "";
    return new ProblemError("no_content", `${items[0].detail}${more}.`, { errors: items, cause: err, logMessage: err.message });
  }
  if (isUfbError(err)) {
    const code = problemCode(err.code);
    const headers: Record<string, string> = code === "weights_unavailable" ? { "Retry-After": String(RETRY_AFTER_SECONDS) } : {};
    return new ProblemError(code, publicDetail(code, err.message), { headers, cause: err, logMessage: err.message });
  }
  if (err instanceof HTTPException) return fromHttpException(err);
  return new ProblemError("internal_error", PROBLEMS.internal_error.message, { cause: err });
}

/** HTTPExceptions come from Hono's own middleware (bearerAuth, bodyLimit, validators). */
function fromHttpException(err: HTTPException): ProblemError {
  // Trap: bearerAuth puts its WWW-Authenticate challenge only in the exception's response; keep it.
  const headers: Record<string, string> = {};
  const res = err.getResponse();
  for (const name of ["WWW-Authenticate", "Allow", "Retry-After"]) {
    const value = res.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  switch (err.status) {
    case 400:
      if (headers["WWW-Authenticate"]) return new ProblemError("invalid_authorization", "The Authorization header must be `Bearer <token>`.", { headers });
      if (/json/i.test(err.message)) return new ProblemError("malformed_json", "The request body is not valid JSON.", { headers });
      return new ProblemError("invalid_request", err.message || "Bad request.", { headers });
    case 401:
      return new ProblemError("unauthorized", headers["WWW-Authenticate"]?.includes("invalid_token") ? "The bearer token is not valid." : "A bearer token is required: send `Authorization: Bearer <token>`.", { headers });
    case 404:
      return new ProblemError("not_found", err.message || "Not found.", { headers });
    case 405:
      return new ProblemError("method_not_allowed", err.message || "Method not allowed.", { headers });
    case 413:
      return new ProblemError("payload_too_large", err.message || "The request body is too large.", { headers });
    case 415:
      return new ProblemError("unsupported_media_type", "Send the body as JSON with `Content-Type: application/json`.", { headers });
    default:
      return new ProblemError("internal_error", PROBLEMS.internal_error.message, { headers, cause: err });
  }
}

/**
 * Hono hands only `Error` instances to onError and rethrows anything else (`throw "x"`), which would end
 * as the platform's HTML 500 page. Wrapping them here sends them through onError like any other failure.
 */
export const normalizeThrown: MiddlewareHandler<AppEnv> = async function normalizeThrown(_c, next) {
  try {
    await next();
  } catch (err) {
    throw err instanceof Error ? err : new UfbError("internal", `non-Error value thrown: ${typeof err}`, { cause: err });
  }
};

/** app.onError: render the problem; log server-side failures with their stack (never sent). */
export const onError: ErrorHandler<AppEnv> = (err, c) => {
  const problem = toProblem(err, c.get("textField"));
  if (problem.status >= 500) {
    // a UfbError is logged as the problem it became: its cause is the thrown error, with the message and
    // cause chain the client does not get; anything else is logged as thrown
    console.error(`[${c.get("requestId") ?? "-"}] ${c.req.method} ${c.req.path} → ${problem.status} ${problem.code}`, isUfbError(err) ? problem : err);
  }
  return styledResponse(c, problem);
};

/** app.notFound: no route for this path (whatever the method). */
export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  styledResponse(c, new ProblemError("not_found", `No route for ${c.req.method} ${c.req.path}.`));

/** methodNotAllowed's handler: the path exists, the method does not. */
export function onMethodNotAllowed(c: Context<AppEnv>, methods: string[]): Response {
  const allow = methods.join(", ");
  return styledResponse(c, new ProblemError("method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allow}.`, { headers: { Allow: allow } }));
}

interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
}

/** Zod issues → problem items; an unknown key becomes one item pointing at that key. */
export function issuesToItems(issues: readonly ZodIssueLike[]): ProblemItem[] {
  const items: ProblemItem[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys" && issue.keys?.length) {
      for (const key of issue.keys) items.push({ pointer: jsonPointer([...issue.path, key]), detail: `${fieldName([...issue.path, key])}: unknown field (see the schema in /openapi.json)` });
    } else {
      items.push({ pointer: jsonPointer(issue.path), detail: `${fieldName(issue.path)}: ${issue.message}` });
    }
  }
  return items;
}

/**
 * OpenAPIHono's defaultHook: a failed validation becomes a 400 that names every field and the expectation;
 * on a compatible route (one that set an error style) a 422 `invalid_field`, the status their reference
 * APIs give a body they cannot take.
 */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result, c) => {
  if (result.success) return;
  const items = issuesToItems(result.error.issues as readonly ZodIssueLike[]);
  const more = items.length > 1 ? ` (and ${items.length - 1} more; see errors)` : "";
  const style = c.get("errorStyle");
  const code = style === undefined || style === "problem" ? "invalid_request" : "invalid_field";
  throw new ProblemError(code, `${items[0]?.detail ?? "The request does not match the schema."}${more}`, { errors: items });
};
