/** Pieces shared by the route definitions: error responses, response headers, the auth requirement. */
import { UfbError } from "../errors.ts";
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { PROBLEMS, type ProblemCode } from "../http/problem.ts";
import { Problem } from "../http/schemas.ts";
import { checkTexts, requestTexts } from "../http/texts.ts";
import type { InferenceService } from "../service/types.ts";

export const BEARER_SCHEME = "bearerAuth";

/** Route-level `security`: a bearer token, enforced only when the Worker has API_TOKEN set. */
export const bearerSecurity = [{ [BEARER_SCHEME]: [] }];

const RequestIdHeader = z.string().openapi({ description: "Request id: the client's X-Request-Id when it is 1-255 characters of [A-Za-z0-9_=-], else a new UUID." });

/** Headers every response carries. */
export const commonHeaders = z.object({
  "X-Request-Id": RequestIdHeader,
  "Server-Timing": z.string().openapi({ description: "total, and on inference routes load (only when this request opened the model) / tokenize / fetch / compute spans (ms), which never overlap." }),
});

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Malformed JSON, a body that does not match the schema (errors[] names each field), or a malformed Authorization header.",
  401: "API_TOKEN is set and the bearer token is missing or wrong. Carries a WWW-Authenticate challenge.",
  404: "Unknown model.",
  413: "Body larger than the limit.",
  415: "Body is not application/json.",
  422: "No texts, too many texts, an empty or too long text, a text without a content token (errors[] gives the index), or input the model cannot take; on compatible routes also a field their API does not define.",
  500: "Unexpected failure; details are logged, not returned.",
  502: "Stored weights failed their integrity check.",
  503: "The weight store could not be read. Carries Retry-After.",
};

const EXTRA_HEADERS: Record<number, Record<string, z.ZodType>> = {
  401: { "WWW-Authenticate": z.string().openapi({ example: 'Bearer realm="ultrafastbert-edge"' }) },
  503: { "Retry-After": z.string().openapi({ example: "5" }) },
};

/** The problem+json responses of a route, by status, with the codes each status can carry. */
export function problemResponses<S extends number>(...statuses: S[]) {
  const out = {} as Record<S, { description: string; headers: z.ZodObject; content: { "application/problem+json": { schema: typeof Problem } } }>;
  for (const status of statuses) {
    const codes = (Object.keys(PROBLEMS) as ProblemCode[]).filter((c) => PROBLEMS[c].status === status);
    out[status] = {
      description: `${ERROR_DESCRIPTIONS[status] ?? "Error."} Codes: ${codes.map((c) => `\`${c}\``).join(", ")}.`,
      headers: commonHeaders.extend(EXTRA_HEADERS[status] ?? {}),
      content: { "application/problem+json": { schema: Problem } },
    };
  }
  return out;
}

/**
 * The error responses of a compatible route: the statuses of the native API, each with the body shape of
 * that route's API (src/http/styles.ts) instead of problem+json.
 */
export function compatErrorResponses<S extends number>(schema: z.ZodType, ...statuses: S[]) {
  const out = {} as Record<S, { description: string; headers: z.ZodObject; content: { "application/json": { schema: z.ZodType } } }>;
  const problem = problemResponses(...statuses);
  for (const status of statuses) {
    out[status] = { description: problem[status].description, headers: problem[status].headers, content: { "application/json": { schema } } };
  }
  return out;
}

/** Resolves the service for this request (the factory may be async, e.g. first load of a manifest). */
export async function serviceFor(c: Context<AppEnv>, deps: AppDeps): Promise<InferenceService> {
  return deps.service(c.env);
}

/** A service answering with a different number of results than texts is a bug: fail loudly (500). */
export function checkCount(kind: string, results: unknown[], texts: unknown[]): void {
  if (results.length !== texts.length) throw new UfbError("internal", `service ${kind} returned ${results.length} results for ${texts.length} texts`);
}

/**
 * The texts of a native request (`text` xor `texts`), checked (422 for none, too many, empty, too long),
 * and where they are in the body, so that an error naming a text by index (no_content) points at it.
 */
export function nativeTexts(c: Context<AppEnv>, body: { text?: string; texts?: string[] }): string[] {
  const single = body.text !== undefined;
  c.set("textField", { field: single ? "text" : "texts", single });
  return requestTexts(body);
}

/**
 * The texts of a compatible request (`value` is a string or an array), checked like the native ones and
 * named by the reference API's own field (`inputs`, `input`, `text`) in errors.
 */
export function compatTexts<T extends string | number[]>(c: Context<AppEnv>, value: T | T[], field: string): T[] {
  const single = !Array.isArray(value) || (value.length > 0 && typeof value[0] === "number");
  c.set("textField", { field, single });
  return checkTexts(single ? [value as T] : (value as T[]), { field, single });
}

/**
 * The model a compatible request names: `default` is the Worker's default model (MODEL), so that examples
 * and client code need not know which package is deployed; any other name is a model of the bucket.
 */
export function compatModel(name: string): string | undefined {
  return name === "default" ? undefined : name;
}
