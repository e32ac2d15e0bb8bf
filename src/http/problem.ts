/**
 * application/problem+json (RFC 9457) for every error the API returns. One error type, `ProblemError`,
 * carries a stable `code`; the status and title come from the table below, so a code always maps to the
 * same status. Messages (`detail`) are written for the client: they name the field and what was expected.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode } from "../errors.ts";
import type { AppEnv } from "./env.ts";

/**
 * The one error table: every code → HTTP status, title and, for 5xx, the public message. The codes of
 * src/errors.ts that the API does not name (`io`, `integrity`, `cache_full`, …) are shown `as` one that
 * it does. 4xx answers carry the thrown message (written for the client: it names the field); 5xx answers
 * carry the public message below, and the thrown message and its cause go to the log only.
 * API codes are part of the API: never rename one, only add.
 */
export const PROBLEMS = {
  malformed_json: { status: 400, title: "Malformed JSON" },
  invalid_request: { status: 400, title: "Invalid request" },
  invalid_authorization: { status: 400, title: "Malformed Authorization header" },
  incomplete_body: { status: 400, title: "Incomplete request body" },
  unauthorized: { status: 401, title: "Unauthorized" },
  not_found: { status: 404, title: "Not found" },
  model_not_found: { status: 404, title: "Model not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  no_texts: { status: 422, title: "No texts" },
  too_many_texts: { status: 422, title: "Too many texts" },
  empty_text: { status: 422, title: "Empty text" },
  text_too_long: { status: 422, title: "Text too long" },
  invalid_input: { status: 422, title: "Invalid input" },
  unsupported_task: { status: 422, title: "Unsupported task" },
  no_content: { status: 422, title: "No content" },
  invalid_field: { status: 422, title: "Invalid field" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal_error: { status: 500, title: "Internal server error", message: "An unexpected error occurred; quote the request id when reporting it." },
  weights_corrupt: { status: 502, title: "Stored weights failed their integrity check", message: "stored weights failed their integrity check (after one re-read)" },
  weights_unavailable: { status: 503, title: "Weights unavailable", message: "the model's weights could not be read; try again later" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string; message?: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

/** Codes of src/errors.ts the API does not name, and the API code each is shown as. */
export const SHOWN_AS = {
  io: "weights_unavailable",
  version: "weights_unavailable",
  bad_package: "weights_unavailable",
  bad_tokenizer: "weights_unavailable",
  bad_checkpoint: "weights_unavailable",
  bad_safetensors: "weights_unavailable",
  bad_argument: "weights_unavailable",
  integrity: "weights_corrupt",
  bad_config: "internal_error",
  cache_full: "internal_error",
  kernel: "internal_error",
  internal: "internal_error",
} as const satisfies Record<Exclude<ErrorCode, ProblemCode>, ProblemCode>;

/** The API code an error code is shown as. */
export function problemCode(code: ErrorCode): ProblemCode {
  return code in SHOWN_AS ? SHOWN_AS[code as keyof typeof SHOWN_AS] : (code as ProblemCode);
}

/** What the client reads: the thrown message for 4xx, the table's public message for 5xx. */
export function publicDetail(code: ProblemCode, thrown: string): string {
  const entry = PROBLEMS[code] as { message?: string };
  return entry.message ?? thrown;
}


/** The `type` member: a non-dereferenceable tag URI (RFC 4151) per code; docs/api.md describes each. */
export const problemType = (code: ProblemCode): string => `tag:ultrafastbert-edge,2026:problem/${code}`;

/** One field-level error, as in RFC 9457 §3's example: a JSON Pointer (as a URI fragment) and a message. */
export interface ProblemItem {
  pointer: string;
  detail: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  request_id: string;
  errors?: ProblemItem[];
}

export class ProblemError extends Error {
  readonly code: ProblemCode;
  readonly status: ContentfulStatusCode;
  readonly errors: ProblemItem[] | undefined;
  /** Extra response headers (WWW-Authenticate, Allow, Retry-After). */
  readonly headers: Record<string, string>;

  /** What the client reads. The message (for the log) is the thrown error's where that differs (5xx). */
  readonly detail: string;

  constructor(code: ProblemCode, detail: string, options: { errors?: ProblemItem[]; headers?: Record<string, string>; cause?: unknown; logMessage?: string } = {}) {
    super(options.logMessage ?? detail, { cause: options.cause });
    this.detail = detail;
    this.name = "ProblemError";
    this.code = code;
    this.status = PROBLEMS[code].status;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

/** JSON Pointer (RFC 6901) of a path, as a URI fragment: ["texts", 3] → "#/texts/3". */
export function jsonPointer(path: readonly PropertyKey[]): string {
  return "#" + path.map((p) => "/" + String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("");
}

/** A readable path for messages: ["texts", 3] → "texts[3]", [] → "body". */
export function fieldName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "body";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/** Renders a problem through the context, so headers set earlier (X-Request-Id, CORS) are kept. */
export function problemResponse(c: Context<AppEnv>, problem: ProblemError): Response {
  const body: ProblemBody = {
    type: problemType(problem.code),
    title: PROBLEMS[problem.code].title,
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    request_id: c.get("requestId") ?? "",
  };
  if (problem.errors?.length) body.errors = problem.errors;
  return c.body(JSON.stringify(body), problem.status, {
    ...problem.headers,
    "Content-Type": "application/problem+json",
    "Cache-Control": "no-store",
  });
}
