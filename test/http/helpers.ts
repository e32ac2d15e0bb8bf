/** Builds an app over a FakeService and sends requests to it inside workerd. */
import { env } from "cloudflare:workers";
import { createApp } from "../../src/app.ts";
import type { AppBindings } from "../../src/http/env.ts";
import { FakeService } from "./fake-service.ts";

export function setup(bindings: Partial<AppBindings> = {}) {
  const service = new FakeService();
  const factoryEnvs: AppBindings[] = [];
  const app = createApp({
    service: (e) => {
      factoryEnvs.push(e);
      return service;
    },
  });
  const appEnv = { ...env, ...bindings } as AppBindings;
  const request = (path: string, init?: RequestInit) => app.request(path, init, appEnv);
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    request(path, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { app, service, factoryEnvs, request, post, env: appEnv };
}

export const PROBLEM_TYPE = "application/problem+json";
