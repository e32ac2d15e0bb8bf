/**
 * Error bodies of the compatible routes. The status and message of an error still come from the one table
 * (problem.ts); a compatible route only asks for the body its clients parse, so that their own error
 * classes fire (the openai SDK's APIError subclasses, @huggingface/inference's provider error, TEI
 * clients reading `error_type`). Every body keeps the request id, and none carries more than the
 * problem's public detail.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv, ErrorStyle } from "./env.ts";
import { type ProblemError, problemResponse } from "./problem.ts";

/** Text Embeddings Inference's error types (router/src/lib.rs), with the status TEI gives each. */
export type TeiErrorType = "Unhealthy" | "Backend" | "Overloaded" | "Validation" | "Tokenizer" | "Empty";

/**
 * TEI's status and error_type for a problem. TEI answers 413 `Validation` for inputs over its limits
 * (too many, too long), 422 `Tokenizer` for input it cannot encode, 424 `Backend` when the model fails,
 * 429 `Overloaded` and 503 `Unhealthy`; the other 4xx keep their status with `Validation`.
 */
export function teiError(problem: ProblemError): { status: ContentfulStatusCode; type: TeiErrorType } {
  switch (problem.code) {
    case "payload_too_large":
    case "too_many_texts":
    case "text_too_long":
      return { status: 413, type: "Validation" };
    case "no_content":
    case "empty_text":
    case "no_texts":
    case "invalid_input":
    case "invalid_field":
    case "unsupported_task":
      return { status: 422, type: "Tokenizer" };
    case "weights_unavailable":
      return { status: 503, type: "Unhealthy" };
  }
  if (problem.status === 429) return { status: 429, type: "Overloaded" };
  if (problem.status >= 500) return { status: 424, type: "Backend" };
  return { status: problem.status, type: "Validation" };
}

/** The OpenAI error `type` for a status (the values the OpenAI API itself sends). */
function openaiType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** `#/input/2` → `input`: OpenAI's `param` names the top-level field. */
function param(problem: ProblemError): string | null {
  const pointer = problem.errors?.[0]?.pointer;
  return pointer ? (pointer.split("/")[1] ?? null) : null;
}

/** Renders `problem` in the body shape of the route's API (problem+json when the route set none). */
export function styledResponse(c: Context<AppEnv>, problem: ProblemError, style: ErrorStyle | undefined = c.get("errorStyle")): Response {
  if (style === undefined || style === "problem") return problemResponse(c, problem);
  const requestId = c.get("requestId") ?? "";
  let status: ContentfulStatusCode = problem.status;
  let body: unknown;
  switch (style) {
    case "tei": {
      const t = teiError(problem);
      status = t.status;
      body = { error: problem.detail, error_type: t.type };
      break;
    }
    case "openai":
      body = { error: { message: problem.detail, type: openaiType(status), param: param(problem), code: problem.code }, request_id: requestId };
      break;
    case "hf":
      // the Inference API's shape; @huggingface/inference reads `error`
      body = { error: problem.detail, code: problem.code, ...(problem.errors ? { errors: problem.errors } : {}), request_id: requestId };
      break;
    case "workers-ai":
      // the Cloudflare API envelope that the Workers AI REST endpoint answers with
      body = { result: null, success: false, errors: [{ code: status, message: problem.detail }], messages: [], request_id: requestId };
      break;
  }
  return c.body(JSON.stringify(body), status, { ...problem.headers, "Content-Type": "application/json", "Cache-Control": "no-store" });
}
