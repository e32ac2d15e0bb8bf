/**
 * The Hono app: middleware and routes, nothing else. Routes validate, call the InferenceService that
 * `deps.service` returns for the request's bindings, and render its answer; all errors become
 * application/problem+json in src/http/errors.ts.
 *
 * Order: requestId → timing → cors → normalizeThrown → errorStyle (compatible routes) → methodNotAllowed →
 * apiToken, rateLimit and bodyLimit (/v1/* and the compatible routes) → routes,
 * then onError / notFound.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requestId } from "hono/request-id";
import { timing } from "hono/timing";
import type { AppBindings, AppDeps, AppEnv, ErrorStyle } from "./http/env.ts";
import { normalizeThrown, onError, onMethodNotAllowed, onNotFound, validationHook } from "./http/errors.ts";
import { LIMITS } from "./http/limits.ts";
import { ProblemError } from "./http/problem.ts";
import { apiToken } from "./middleware/api-token/index.ts";
import { errorStyle } from "./middleware/error-style/index.ts";
import { rateLimit } from "./middleware/rate-limit/index.ts";
import { incompleteBody } from "./middleware/json-body/index.ts";
import { registerClassify } from "./routes/classify.ts";
import { registerHfCompat } from "./routes/compat-hf.ts";
import { registerOpenAICompat } from "./routes/compat-openai.ts";
import { registerTeiCompat } from "./routes/compat-tei.ts";
import { registerWorkersAiCompat } from "./routes/compat-workers-ai.ts";
import { BEARER_SCHEME } from "./routes/common.ts";
import { registerPlayground, staticFile } from "./routes/playground.ts";
import { registerEmbed } from "./routes/embed.ts";
import { registerFillMask } from "./routes/fill-mask.ts";
import { registerHealth } from "./routes/health.ts";
import { registerModels } from "./routes/models.ts";

export type { AppDeps, AppEnv } from "./http/env.ts";

export const API_VERSION = "1.0.0";

/** Paths of the compatible routes and the error body each answers with (src/http/styles.ts). */
const COMPAT_STYLES: [string, ErrorStyle][] = [
  ["/models/*", "hf"],
  ["/embed", "tei"],
  ["/predict", "tei"],
  ["/tokenize", "tei"],
  ["/info", "tei"],
  ["/v1/embeddings", "openai"],
  ["/ai/run/*", "workers-ai"],
];

/** The CORS origin to allow for a request's Origin: "*" unless CORS_ORIGINS lists origins. */
export function allowedOrigin(origin: string, env: AppBindings | undefined): string | null {
  const list = (env?.CORS_ORIGINS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (list.length === 0 || list.includes("*")) return "*";
  return list.includes(origin) ? origin : null;
}

export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use(requestId());
  app.use(
    timing({
      // Let browsers read Server-Timing cross-origin when CORS allows the origin.
      crossOrigin: (c) => allowedOrigin(c.req.header("Origin") ?? "", c.env as AppBindings) ?? false,
    }),
  );
  app.use(
    cors({
      origin: (origin, c) => allowedOrigin(origin, c.env as AppBindings),
      allowMethods: ["GET", "HEAD", "POST", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type", "X-Request-Id"],
      exposeHeaders: ["X-Request-Id", "Server-Timing", "Retry-After", "WWW-Authenticate", "Allow"],
      maxAge: 86400,
    }),
  );
  app.use(normalizeThrown);
  // compatible routes answer errors in their API's shape, also those of the middleware below
  for (const [path, style] of COMPAT_STYLES) app.use(path, errorStyle(style));
  app.use(methodNotAllowed<AppEnv>({ app, onMethodNotAllowed }));
  const limit = bodyLimit({
    maxSize: LIMITS.maxBodyBytes,
    onError: () => {
      throw new ProblemError("payload_too_large", `The request body is larger than ${LIMITS.maxBodyBytes} bytes (${LIMITS.maxBodyBytes / 1024} KiB).`);
    },
  });
  // bodyLimit reads a body without Content-Length itself: a stream that fails there is the client's (it
  // closed the connection mid-body), 400 incomplete_body, not a 500
  const limitBody: typeof limit = async (c, next) => {
    let reached = false;
    try {
      await limit(c, async () => {
        reached = true;
        await next();
      });
    } catch (err) {
      if (reached || err instanceof ProblemError) throw err;
      throw incompleteBody(err);
    }
  };
  for (const path of ["/v1/*", ...COMPAT_STYLES.filter(([p]) => !p.startsWith("/v1/")).map(([p]) => p)]) {
    app.use(path, apiToken());
    app.use(path, rateLimit());
    app.use(path, limitBody);
  }

  // the memory block of /healthz?verbose=1 names the loaded models: behind the token like /v1/models
  const token = apiToken();
  app.use("/healthz", (c, next) => (c.req.query("verbose") === undefined ? next() : token(c, next)));
  registerHealth(app, deps);
  registerModels(app, deps);
  registerClassify(app, deps);
  registerEmbed(app, deps);
  registerFillMask(app, deps);
  registerHfCompat(app, deps);
  registerTeiCompat(app, deps);
  registerOpenAICompat(app, deps);
  registerWorkersAiCompat(app, deps);
  registerPlayground(app);

  app.openAPIRegistry.registerComponent("securitySchemes", BEARER_SCHEME, {
    type: "http",
    scheme: "bearer",
    description: "Required on /v1/* when the Worker has API_TOKEN set; otherwise ignored.",
  });
  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "UltraFastBERT on the edge",
      version: API_VERSION,
      description: "UltraFastBERT (fast feedforward) inference on a Cloudflare Worker. Errors are RFC 9457 application/problem+json with a stable `code`.",
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }));

  app.onError(onError);
  // a path no route has may be one of the playground's files (the Worker runs before the assets layer)
  app.notFound(async (c) => (await staticFile(c)) ?? onNotFound(c));
  return app;
}
