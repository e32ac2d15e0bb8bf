/**
 * POST /ai/run/{model}: the Workers AI REST shape of text classification, so that code calling
 * `@cf/huggingface/distilbert-sst-2-int8` over HTTP switches by changing the base URL. The model path
 * Workers AI uses answers with this Worker's default model.
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { ModelParam, WorkersAiClassifyRequest, WorkersAiClassifyResponse, WorkersAiError } from "../http/compat-schemas.ts";
import type { Context } from "hono";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { labelScores } from "../http/render.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { phaseTimer } from "../middleware/phase-timer/index.ts";
import { bearerSecurity, checkCount, commonHeaders, compatErrorResponses, compatModel, compatTexts, serviceFor } from "./common.ts";

/** The Workers AI text-classification model whose name maps to the default model. */
export const WORKERS_AI_MODEL = "@cf/huggingface/distilbert-sst-2-int8";

const description =
  "Body `{text}`; answer `{result, success, errors, messages}` as the Workers AI REST API, where `result` is what `env.AI.run` returns: `[{label, score}]` with labels upper-cased (Workers AI spells them NEGATIVE / POSITIVE), highest score first. Errors: `{result: null, success: false, errors: [{code: <status>, message}]}`.";

const common = {
  method: "post" as const,
  tags: ["compatible"],
  summary: "Workers AI: text classification",
  description,
  security: bearerSecurity,
  middleware: [jsonBody(), phaseTimer()],
  responses: {
    200: { description: "The labels.", headers: commonHeaders, content: { "application/json": { schema: WorkersAiClassifyResponse } } },
    ...compatErrorResponses(WorkersAiError, 400, 401, 404, 413, 415, 422, 500, 502, 503),
  },
};
const body = { required: true, content: { "application/json": { schema: WorkersAiClassifyRequest } } };

export const workersAiDefaultRoute = createRoute({ ...common, path: `/ai/run/${WORKERS_AI_MODEL}`, operationId: "workersAiClassifyDefault", request: { body } });
export const workersAiModelRoute = createRoute({ ...common, path: "/ai/run/{model}", operationId: "workersAiClassify", request: { params: z.object({ model: ModelParam }), body } });

export function registerWorkersAiCompat(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const answer = async (c: Context<AppEnv>, body: { text: string }, model: string | undefined) => {
    const texts = compatTexts(c, body.text, "text");
    const service = await serviceFor(c, deps);
    const out = await service.classify(texts, { model, timer: c.get("phaseTimer") });
    checkCount("classify", out.results, texts);
    const labels = (out.model.labels ?? []).map((l) => l.toUpperCase());
    return { result: labelScores(labels, out.results[0].logits, "softmax"), success: true as const, errors: [], messages: [] };
  };
  app.openapi(workersAiDefaultRoute, async (c) => c.json(await answer(c, c.req.valid("json"), undefined), 200));
  app.openapi(workersAiModelRoute, async (c) => c.json(await answer(c, c.req.valid("json"), compatModel(c.req.valid("param").model)), 200));
}
