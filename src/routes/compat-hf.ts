/**
 * POST /models/{model}: Hugging Face Inference text-classification (the path the Inference API and
 * `@huggingface/inference` with an `endpointUrl` use), answered by a classifier of this Worker.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { HfClassifyRequest, HfClassifyResponse, ModelParam, HfError } from "../http/compat-schemas.ts";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { labelScores } from "../http/render.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { phaseTimer } from "../middleware/phase-timer/index.ts";
import { bearerSecurity, checkCount, commonHeaders, compatErrorResponses, compatModel, compatTexts, serviceFor } from "./common.ts";
import { z } from "@hono/zod-openapi";

export const hfClassifyRoute = createRoute({
  method: "post",
  path: "/models/{model}",
  operationId: "hfTextClassification",
  tags: ["compatible"],
  summary: "Hugging Face Inference: text-classification",
  description:
    "The Inference API's text-classification task. Point `@huggingface/inference` at it with `endpointUrl: <worker>/models/<model>`. Errors are `{error, code, request_id}` (what the client reads), with the statuses of the native API; a field this API does not know is a 422 `invalid_field`.",
  security: bearerSecurity,
  middleware: [jsonBody(), phaseTimer()] as const,
  request: { params: z.object({ model: ModelParam }), body: { required: true, content: { "application/json": { schema: HfClassifyRequest } } } },
  responses: {
    200: { description: "Labels by score per text.", headers: commonHeaders, content: { "application/json": { schema: HfClassifyResponse } } },
    ...compatErrorResponses(HfError, 400, 401, 404, 413, 415, 422, 500, 502, 503),
  },
});

export function registerHfCompat(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(hfClassifyRoute, async (c) => {
    const { model } = c.req.valid("param");
    const body = c.req.valid("json");
    const texts = compatTexts(c, body.inputs, "inputs");
    const service = await serviceFor(c, deps);
    const out = await service.classify(texts, { model: compatModel(model), timer: c.get("phaseTimer") });
    checkCount("classify", out.results, texts);
    const fn = body.parameters?.function_to_apply ?? "softmax";
    const labels = out.model.labels ?? [];
    return c.json(out.results.map((r) => labelScores(labels, r.logits, fn, body.parameters?.top_k)), 200);
  });
}
