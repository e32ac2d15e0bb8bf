/**
 * Honest timing: a cold request (a fresh registry, as a fresh isolate: nothing loaded, nothing cached)
 * reports a `load` phase, the phases never overlap, and they add up to the request's measured wall time
 * (within 10 %). A warm request reports no load. The Server-Timing header and usage.phases_ms agree.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { TINY_CLASSIFIER, putPackage, synthPackage } from "../helpers/r2.ts";
import { testService } from "../helpers/service.ts";

const MODEL = "timing-model";

beforeAll(async () => {
  await putPackage(env.WEIGHTS, MODEL, "v1", await synthPackage(TINY_CLASSIFIER, { seed: 5, tileDepth: 3, rowsPerBlock: 16 }));
});

/** `name;dur=x` metrics of a Server-Timing header, by name. */
function serverTiming(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const metric of (header ?? "").split(",")) {
    const [name, ...params] = metric.trim().split(";");
    const dur = params.find((p) => p.trim().startsWith("dur="));
    if (name && dur) out[name] = Number(dur.trim().slice(4));
  }
  return out;
}

describe("phases of a request", () => {
  it("on a cold request: load is reported and the phases add up to the measured total within 10 %", async () => {
    const service = testService(MODEL);
    const started = performance.now();
    const { res, body } = await service.post("/v1/classify", { texts: ["a warm and funny film", "dull"] });
    const measured = performance.now() - started;
    expect(res.status).toBe(200);
    const timing = serverTiming(res.headers.get("server-timing"));
    expect(timing.load).toBeGreaterThan(0);
    const phases = ["load", "tokenize", "fetch", "compute"].reduce((sum, p) => sum + (timing[p] ?? 0), 0);
    expect(measured).toBeGreaterThan(0);
    expect(Math.abs(phases - measured)).toBeLessThanOrEqual(0.1 * measured + 0.2); // + rounding of dur= (0.1 ms × 4)
    // usage carries the same phases
    expect(Object.keys(body.usage.phases_ms).sort()).toEqual(Object.keys(timing).filter((k) => k !== "total").sort());
    expect(body.usage.phases_ms.load).toBeCloseTo(timing.load, 0);
    // no moment counted twice: the phases never exceed the total the app itself measured
    expect(phases).toBeLessThanOrEqual(timing.total + 0.5);
  });

  it("a warm request has no load phase", async () => {
    const service = testService(MODEL);
    await service.post("/v1/classify", { text: "first" });
    const { res, body } = await service.post("/v1/classify", { text: "second" });
    expect(serverTiming(res.headers.get("server-timing")).load).toBeUndefined();
    expect(body.usage.phases_ms.load).toBeUndefined();
  });
});
