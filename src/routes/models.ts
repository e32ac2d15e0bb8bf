/** GET /v1/models: the models this Worker serves. */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { renderModel } from "../http/render.ts";
import { ModelsResponse } from "../http/schemas.ts";
import { bearerSecurity, commonHeaders, problemResponses, serviceFor } from "./common.ts";

export const modelsRoute = createRoute({
  method: "get",
  path: "/v1/models",
  operationId: "listModels",
  tags: ["models"],
  summary: "List models",
  description: "Name, version, kind, labels, config, FFF neuron counts and package size of each model.",
  security: bearerSecurity,
  responses: {
    200: { description: "The models.", headers: commonHeaders, content: { "application/json": { schema: ModelsResponse } } },
    ...problemResponses(401, 500, 502, 503),
  },
});

export function registerModels(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(modelsRoute, async (c) => {
    const service = await serviceFor(c, deps);
    const models = await service.listModels();
    return c.json({ models: models.map(renderModel) }, 200);
  });
}
