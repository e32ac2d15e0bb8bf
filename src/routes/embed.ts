/** POST /v1/embed: one sentence vector per text, from the embedding model (EMBED_MODEL) unless the request names another. */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { renderEmbed } from "../http/render.ts";
import { EmbedRequest, EmbedResponse } from "../http/schemas.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { phaseTimer } from "../middleware/phase-timer/index.ts";
import { bearerSecurity, checkCount, commonHeaders, nativeTexts, problemResponses, serviceFor } from "./common.ts";

export const embedRoute = createRoute({
  method: "post",
  path: "/v1/embed",
  operationId: "embed",
  tags: ["inference"],
  summary: "Embed texts",
  description:
    "Sentence vectors. Without `model`: the Worker's embedding model (EMBED_MODEL, `default_for: [\"embed\"]` in GET /v1/models), trained so that the cosine of two vectors measures how alike two English sentences are in meaning (semantic similarity, search, deduplication, clustering); its vectors are unit length. Naming a classifier or MLM model returns its pooled vector instead (mean over real tokens, or the first token; not normalized), which follows that model's training (a sentiment classifier's vector groups texts by sentiment, not by meaning).",
  security: bearerSecurity,
  middleware: [jsonBody(), phaseTimer()] as const,
  request: { body: { required: true, content: { "application/json": { schema: EmbedRequest } } } },
  responses: {
    200: { description: "One vector per text.", headers: commonHeaders, content: { "application/json": { schema: EmbedResponse } } },
    ...problemResponses(400, 401, 404, 413, 415, 422, 500, 502, 503),
  },
});

export function registerEmbed(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(embedRoute, async (c) => {
    const body = c.req.valid("json");
    const texts = nativeTexts(c, body);
    const service = await serviceFor(c, deps);
    const out = await service.embed(texts, { model: body.model, timer: c.get("phaseTimer") });
    checkCount("embed", out.results, texts);
    return c.json(renderEmbed(out, c.get("phaseTimer").totals), 200);
  });
}
