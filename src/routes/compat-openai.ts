/**
 * POST /v1/embeddings: OpenAI's embeddings API (the `openai` SDK with `baseURL: <worker>/v1`). Vectors are
 * unit length, as OpenAI's are; `dimensions` keeps the first n values and normalizes again.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { OpenAIEmbeddingsRequest, OpenAIEmbeddingsResponse, OpenAIError } from "../http/compat-schemas.ts";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { ProblemError } from "../http/problem.ts";
import { float32Base64, unitLength } from "../http/render.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { phaseTimer } from "../middleware/phase-timer/index.ts";
import { bearerSecurity, checkCount, commonHeaders, compatErrorResponses, compatModel, compatTexts, serviceFor } from "./common.ts";

export const openaiEmbeddingsRoute = createRoute({
  method: "post",
  path: "/v1/embeddings",
  operationId: "openaiEmbeddings",
  tags: ["compatible"],
  summary: "OpenAI: create embeddings",
  description:
    "OpenAI's list shape with `usage`. `model` names a model of this Worker, or `default` for the embedding model (EMBED_MODEL). Errors are `{error: {message, type, param, code}}` (what the SDK reads), with the statuses of the native API; a field OpenAI does not define is a 422 `invalid_field`. What the vectors are: see docs/api.md.",
  security: bearerSecurity,
  middleware: [jsonBody(), phaseTimer()] as const,
  request: { body: { required: true, content: { "application/json": { schema: OpenAIEmbeddingsRequest } } } },
  responses: {
    200: { description: "One embedding per input.", headers: commonHeaders, content: { "application/json": { schema: OpenAIEmbeddingsResponse } } },
    ...compatErrorResponses(OpenAIError, 400, 401, 404, 413, 415, 422, 500, 502, 503),
  },
});

export function registerOpenAICompat(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(openaiEmbeddingsRoute, async (c) => {
    const body = c.req.valid("json");
    const texts = compatTexts<string | number[]>(c, body.input, "input");
    const service = await serviceFor(c, deps);
    const out = await service.embed(texts, { model: compatModel(body.model), timer: c.get("phaseTimer") });
    checkCount("embed", out.results, texts);
    const hidden = out.model.config.hiddenSize;
    if (body.dimensions !== undefined && body.dimensions > hidden) {
      throw new ProblemError("invalid_field", `dimensions: ${body.dimensions} is more than the model's ${hidden}.`, { errors: [{ pointer: "#/dimensions", detail: `must be at most ${hidden}` }] });
    }
    const data = out.results.map((r, index) => {
      const v = unitLength(body.dimensions ? r.vector.slice(0, body.dimensions) : r.vector);
      return { object: "embedding" as const, index, embedding: body.encoding_format === "base64" ? float32Base64(v) : v };
    });
    return c.json({ object: "list" as const, data, model: `${out.model.name}@${out.model.version}`, usage: { prompt_tokens: out.usage.tokens, total_tokens: out.usage.tokens } }, 200);
  });
}
