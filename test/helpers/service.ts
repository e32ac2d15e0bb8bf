/**
 * The real app over a registry the test builds (its own bucket wrapper, its own options), called with
 * `app.request(path, init, env)`: a fresh registry is a fresh isolate's worth of state (no L1 cache,
 * no loaded models, no cached pointers).
 */
import { env } from "cloudflare:workers";
import kernelModule from "../../wasm/build/kernels.wasm";
import { createApp } from "../../src/app.ts";
import { WorkerInferenceService } from "../../src/service/inference.ts";
import { ModelRegistry, type RegistryOptions } from "../../src/service/registry.ts";
import { FaultyBucket } from "./faulty-bucket.ts";

export interface TestService {
  faulty: FaultyBucket;
  registry: ModelRegistry;
  post(path: string, body: unknown): Promise<{ res: Response; body: any }>;
  get(path: string): Promise<{ res: Response; body: any }>;
}

export function testService(defaultModel: string, overrides: Partial<RegistryOptions> = {}, faulty = new FaultyBucket(env.WEIGHTS)): TestService {
  const registry = new ModelRegistry({
    bucket: faulty.bucket,
    kernelModule,
    defaultModel,
    cacheBytes: 4 << 20,
    maxReads: 6,
    maxGap: 0,
    wholeLayerBytes: 0,
    pointerTtlMs: 60_000,
    maxLoaded: 2,
    readTimeoutMs: 2000,
    ...overrides,
  });
  const service = new WorkerInferenceService(registry);
  const app = createApp({ service: () => service });
  const answer = async (res: Response) => ({ res, body: (await res.json()) as any });
  return {
    faulty,
    registry,
    post: async (path, body) => answer(await app.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }, env)),
    get: async (path) => answer(await app.request(path, {}, env)),
  };
}
