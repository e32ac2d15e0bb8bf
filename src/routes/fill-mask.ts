/** POST /v1/fill-mask: candidates for each mask token, for MLM packages. */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { LIMITS } from "../http/limits.ts";
import { renderFillMask } from "../http/render.ts";
import { FillMaskRequest, FillMaskResponse } from "../http/schemas.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { phaseTimer } from "../middleware/phase-timer/index.ts";
import { bearerSecurity, checkCount, commonHeaders, nativeTexts, problemResponses, serviceFor } from "./common.ts";

export const fillMaskRoute = createRoute({
  method: "post",
  path: "/v1/fill-mask",
  operationId: "fillMask",
  tags: ["inference"],
  summary: "Fill masked tokens",
  description: "For MLM packages (e.g. UltraFastBERT-1x11-long). Each text must contain the mask token `<mask>`; a classifier package answers 422 `unsupported_task`.",
  security: bearerSecurity,
  middleware: [jsonBody(), phaseTimer()] as const,
  request: { body: { required: true, content: { "application/json": { schema: FillMaskRequest } } } },
  responses: {
    200: { description: "Candidates per mask, per text.", headers: commonHeaders, content: { "application/json": { schema: FillMaskResponse } } },
    ...problemResponses(400, 401, 404, 413, 415, 422, 500, 502, 503),
  },
});

export function registerFillMask(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(fillMaskRoute, async (c) => {
    const body = c.req.valid("json");
    const texts = nativeTexts(c, body);
    const service = await serviceFor(c, deps);
    const out = await service.fillMask(texts, { model: body.model, topK: body.top_k ?? LIMITS.fillMaskTopKDefault, timer: c.get("phaseTimer") });
    checkCount("fillMask", out.results, texts);
    return c.json(renderFillMask(out, c.get("phaseTimer").totals), 200);
  });
}
