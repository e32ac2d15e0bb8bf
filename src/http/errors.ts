/**
 * Maps everything that can go wrong to a ProblemError, in one place: the app's onError, notFound,
 * method-not-allowed handler and the validation hook all end here. 5xx are logged with their stack and
 * cause (console.error); the client only gets the code, a safe message and the request id.
 */
import type { Hook } from "@hono/zod-openapi";
import type { Context, ErrorHandler, MiddlewareHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { ServiceError, type ServiceErrorCode } from "../service/types.ts";
import type { AppEnv } from "./env.ts";
import { fieldName, jsonPointer, ProblemError, problemResponse, type ProblemItem } from "./problem.ts";

/** Seconds a client should wait before retrying a 503 (weights could not be read: usually transient). */
export const RETRY_AFTER_SECONDS = 5;

const SERVICE_CODES: Record<ServiceErrorCode, true> = {
  model_not_found: true,
  invalid_input: true,
  unsupported_task: true,
  weights_unavailable: true,
  weights_corrupt: true,
};

function isServiceError(err: unknown): err is ServiceError {
  // instanceof first; the name check covers a second copy of the module in a bundle.
  return err instanceof ServiceError || (err instanceof Error && err.name === "ServiceError" && typeof (err as ServiceError).code === "string" && (err as ServiceError).code in SERVICE_CODES);
}

/** Turns any thrown value into the problem the client sees. */
export function toProblem(err: unknown): ProblemError {
  if (err instanceof ProblemError) return err;
  if (isServiceError(err)) {
    const headers: Record<string, string> = err.code === "weights_unavailable" ? { "Retry-After": String(RETRY_AFTER_SECONDS) } : {};
    return new ProblemError(err.code, err.message, { headers, cause: err });
  }
  if (err instanceof HTTPException) return fromHttpException(err);
  return new ProblemError("internal_error", "An unexpected error occurred; quote the request id when reporting it.", { cause: err });
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
      return new ProblemError("internal_error", "An unexpected error occurred; quote the request id when reporting it.", { headers, cause: err });
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
    throw err instanceof Error ? err : new Error(`non-Error value thrown: ${typeof err}`, { cause: err });
  }
};

/** app.onError: render the problem; log server-side failures with their stack (never sent). */
export const onError: ErrorHandler<AppEnv> = (err, c) => {
  const problem = toProblem(err);
  if (problem.status >= 500) {
    console.error(`[${c.get("requestId") ?? "-"}] ${c.req.method} ${c.req.path} → ${problem.status} ${problem.code}`, err);
  }
  return problemResponse(c, problem);
};

/** app.notFound: no route for this path (whatever the method). */
export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  problemResponse(c, new ProblemError("not_found", `No route for ${c.req.method} ${c.req.path}.`));

/** methodNotAllowed's handler: the path exists, the method does not. */
export function onMethodNotAllowed(c: Context<AppEnv>, methods: string[]): Response {
  const allow = methods.join(", ");
  return problemResponse(c, new ProblemError("method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allow}.`, { headers: { Allow: allow } }));
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

/** OpenAPIHono's defaultHook: a failed validation becomes a 400 that names every field and the expectation. */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (result.success) return;
  const items = issuesToItems(result.error.issues as readonly ZodIssueLike[]);
  const more = items.length > 1 ? ` (and ${items.length - 1} more; see errors)` : "";
  throw new ProblemError("invalid_request", `${items[0]?.detail ?? "The request does not match the schema."}${more}`, { errors: items });
};
