/** POST /v1/classify: label scores per text, optionally with the FFF paths each token took. */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { renderClassify } from "../http/render.ts";
import { ClassifyRequest, ClassifyResponse } from "../http/schemas.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { phaseTimer } from "../middleware/phase-timer/index.ts";
import { bearerSecurity, checkCount, commonHeaders, nativeTexts, problemResponses, serviceFor } from "./common.ts";

export const classifyRoute = createRoute({
  method: "post",
  path: "/v1/classify",
  operationId: "classify",
  tags: ["inference"],
  summary: "Classify texts",
  description: "Runs a classifier package on one text (`text`) or up to 32 (`texts`). The response always has `results`, one per text, in order.",
  security: bearerSecurity,
  middleware: [jsonBody(), phaseTimer()] as const,
  request: { body: { required: true, content: { "application/json": { schema: ClassifyRequest } } } },
  responses: {
    200: { description: "One result per text.", headers: commonHeaders, content: { "application/json": { schema: ClassifyResponse } } },
    ...problemResponses(400, 401, 404, 413, 415, 422, 500, 502, 503),
  },
});

export function registerClassify(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(classifyRoute, async (c) => {
    const body = c.req.valid("json");
    const texts = nativeTexts(c, body);
    const service = await serviceFor(c, deps);
    const out = await service.classify(texts, { model: body.model, topK: body.top_k, explain: body.explain ?? false, timer: c.get("phaseTimer") });
    checkCount("classify", out.results, texts);
    return c.json(renderClassify(out, c.get("phaseTimer").totals), 200);
  });
}
