/**
 * GET /healthz?verbose=1 through the real entry point: the memory of the models this isolate holds, from the
 * registry (kernel memory, block cache budget and use). Checked against what the test controls: the cache
 * budget is wrangler.toml's CACHE_MB, nothing is loaded before the first inference request, and the wasm
 * memory of a loaded model holds its whole cache region.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { TINY_CLASSIFIER, putPackage, synthPackage } from "../helpers/r2.ts";

const get = (path: string, headers: Record<string, string> = {}) => exports.default.fetch(new Request(`http://worker${path}`, { headers }));
const MiB = 1024 * 1024;

interface Verbose {
  status: string;
  memory: {
    models: { id: string; wasmBytes: number; cache: { budgetBytes: number; usedBytes: number; entries: number; evictions: number; loadsInFlight: number } }[];
    totals: { wasmBytes: number; cacheBudgetBytes: number; cacheUsedBytes: number };
    isolateLimitBytes: number;
  };
}

beforeAll(async () => {
  const synth = await synthPackage(TINY_CLASSIFIER, { seed: 11, tileDepth: 3, rowsPerBlock: 16 });
  await putPackage(env.WEIGHTS, env.MODEL, "v1", synth);
});

describe("GET /healthz?verbose=1", () => {
  it("plain /healthz stays { status: ok } without a memory block", async () => {
    const res = await get("/healthz");
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("reports no model before any request has loaded one, then the loaded model's memory", async () => {
    const before = (await (await get("/healthz?verbose=1")).json()) as Verbose;
    expect(before.memory.models).toEqual([]);
    expect(before.memory.totals).toEqual({ wasmBytes: 0, cacheBudgetBytes: 0, cacheUsedBytes: 0 });
    expect(before.memory.isolateLimitBytes).toBe(128 * MiB);

    const res = await exports.default.fetch(
      new Request("http://worker/v1/classify", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ texts: ["good", "bad film"] }) }),
    );
    expect(res.status).toBe(200);

    const after = (await (await get("/healthz?verbose=1")).json()) as Verbose;
    expect(after.memory.models).toHaveLength(1);
    const m = after.memory.models[0]!;
    expect(m.id).toContain(env.MODEL);
    expect(m.cache.budgetBytes).toBe(Number(env.CACHE_MB) * MiB);
    // the request read tiles or embedding blocks through the cache, within its budget
    expect(m.cache.entries).toBeGreaterThan(0);
    expect(m.cache.usedBytes).toBeGreaterThan(0);
    expect(m.cache.usedBytes).toBeLessThanOrEqual(m.cache.budgetBytes);
    expect(m.cache.loadsInFlight).toBe(0);
    // the cache region is allocated in kernel memory, so wasm memory holds at least the whole budget
    expect(m.wasmBytes).toBeGreaterThanOrEqual(m.cache.budgetBytes);
    expect(m.wasmBytes % 65536).toBe(0); // whole wasm pages
    expect(after.memory.totals).toEqual({ wasmBytes: m.wasmBytes, cacheBudgetBytes: m.cache.budgetBytes, cacheUsedBytes: m.cache.usedBytes });
  });

  it("rejects a verbose value other than 0 or 1, naming the field", async () => {
    const res = await get("/healthz?verbose=yes");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(JSON.stringify(await res.json())).toContain("verbose");
  });
});
