/**
 * The playground's static files (public/, the ASSETS binding): GET/HEAD `/` and, through the not-found
 * fallback, any other file the binding holds. The Worker runs first (wrangler.toml `run_worker_first`), so a
 * wrong method is a problem+json 405 from the app and a missing file a problem+json 404, never the assets
 * layer's empty answers.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../http/env.ts";

/** The binding's answer to a GET/HEAD, or null when there is no binding or no such file. */
export async function staticFile(c: Context<AppEnv>): Promise<Response | null> {
  if (!c.env.ASSETS || (c.req.method !== "GET" && c.req.method !== "HEAD")) return null;
  const res = await c.env.ASSETS.fetch(c.req.raw);
  return res.status === 404 ? null : res;
}

export function registerPlayground(app: OpenAPIHono<AppEnv>): void {
  // "/" is a route of its own so that methodNotAllowed knows it (POST / → 405 with Allow: GET, HEAD)
  app.on(["GET", "HEAD"], "/", async (c) => (await staticFile(c)) ?? c.notFound());
}
