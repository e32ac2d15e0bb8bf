/** GET /healthz: liveness. Touches neither the service nor R2, needs no token, is never cached. */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/env.ts";
import { HealthResponse } from "../http/schemas.ts";
import { commonHeaders, problemResponses } from "./common.ts";

export const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  operationId: "health",
  tags: ["meta"],
  summary: "Liveness check",
  description: "Answers 200 while the Worker runs. It does not read weights: use GET /v1/models to check the weight store.",
  responses: {
    200: { description: "The Worker is up.", headers: commonHeaders, content: { "application/json": { schema: HealthResponse } } },
    ...problemResponses(500),
  },
});

export function registerHealth(app: OpenAPIHono<AppEnv>): void {
  app.openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200, { "Cache-Control": "no-store" }));
}
