/**
 * GET /healthz: liveness. Touches neither the models nor R2, needs no token, is never cached.
 * ?verbose=1 adds the isolate's memory (kernel memory and block caches per loaded model) from the service,
 * behind the API token when one is set (app.ts).
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { HealthResponse } from "../http/schemas.ts";
import { commonHeaders, problemResponses } from "./common.ts";

export const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  operationId: "health",
  tags: ["meta"],
  summary: "Liveness check",
  description: "Answers 200 while the Worker runs. It does not read weights: use GET /v1/models to check the weight store. With ?verbose=1 (and the bearer token when API_TOKEN is set) it adds `memory`: kernel memory and block cache use of each loaded model.",
  request: { query: z.object({ verbose: z.enum(["0", "1"]).optional() }) },
  responses: {
    200: { description: "The Worker is up.", headers: commonHeaders, content: { "application/json": { schema: HealthResponse } } },
    ...problemResponses(500),
  },
});

/** A deployed Worker isolate's memory limit (Cloudflare's documented 128 MB). */
export const ISOLATE_LIMIT_BYTES = 128 * 1024 * 1024;

export function registerHealth(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(healthRoute, async (c) => {
    if (c.req.valid("query").verbose !== "1") return c.json({ status: "ok" as const }, 200, { "Cache-Control": "no-store" });
    const memory = (await deps.service(c.env)).memory();
    return c.json({ status: "ok" as const, memory: { ...memory, isolateLimitBytes: ISOLATE_LIMIT_BYTES } }, 200, { "Cache-Control": "no-store" });
  });
}
