/**
 * Honest timing: a cold request (a fresh registry, as a fresh isolate: nothing loaded, nothing cached)
 * reports a `load` phase, the phases never overlap, they add up to the app's own `total` (within 10 %), and
 * that total is no more than the wall time the caller measured around the request. (Against the caller's
 * wall time directly the check failed under CI's load: the caller's side — building the request, parsing the
 * JSON answer — is not the app's, and a busy machine can pause it for 10 ms.) A warm request reports no load.
 * The Server-Timing header and usage.phases_ms agree.
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
  it("on a cold request: load is reported and the phases add up to the app's total within 10 %", async () => {
    const service = testService(MODEL);
    const started = performance.now();
    const { res, body } = await service.post("/v1/classify", { texts: ["a warm and funny film", "dull"] });
    const measured = performance.now() - started;
    expect(res.status).toBe(200);
    const timing = serverTiming(res.headers.get("server-timing"));
    expect(timing.load).toBeGreaterThan(0);
    const phases = ["load", "tokenize", "fetch", "compute"].reduce((sum, p) => sum + (timing[p] ?? 0), 0);
    expect(measured).toBeGreaterThan(0);
    const seen = `phases ${phases.toFixed(1)} ms, app total ${timing.total} ms, caller measured ${measured.toFixed(1)} ms`;
    expect(timing.total, seen).toBeGreaterThan(0);
    expect(timing.total, seen).toBeLessThanOrEqual(measured + 0.5); // the app never claims more time than passed
    expect(Math.abs(phases - timing.total), seen).toBeLessThanOrEqual(0.1 * timing.total + 0.5); // + rounding of dur= (0.1 ms × 5)
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
