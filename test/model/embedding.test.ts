/**
 * The engine on an embedding package (kind "embedding", normalize "l2"): `embed` answers the pooler's vector
 * divided by its L2 norm, recomputed here from the raw pooled output in f64; the other tasks are refused; the
 * int8/f32 calibration of `ufb convert` compares sentence vectors (cosine), not logits.
 */
import { describe, expect, it } from "vitest";
import { UfbError } from "../../src/errors.ts";
import { calibrationInputs, compareEngines } from "../../src/model/calibration.ts";
import { Engine } from "../../src/model/engine.ts";
import { packageTasks } from "../../src/weights/format/config.ts";
import { newKernel } from "../helpers/packages.ts";
import { TINY_CLASSIFIER, TINY_EMBEDDING, synthPackage } from "../helpers/r2.ts";

describe("an embedding package in the engine", async () => {
  const built = await synthPackage(TINY_EMBEDDING, { seed: 5 });
  const engine = await Engine.create(built.pkg, newKernel());
  const texts = ["the cat sat on the mat", "completely unrelated words about taxes"];

  it("embed answers the pooled vector at unit length, rounded to f32", async () => {
    const { results, usage } = await engine.embed(texts);
    for (const [i, text] of texts.entries()) {
      const ids = engine.tokenizer.encode(text).ids;
      const { pooled } = await engine.run({ sequences: [{ ids }], pooled: true });
      const raw = Array.from(pooled![0]);
      const n = Math.sqrt(raw.reduce((a, x) => a + x * x, 0));
      // the raw mean of LayerNorm outputs is far from unit length: normalisation is visible
      expect(Math.abs(n - 1)).toBeGreaterThan(0.1);
      expect(results[i].vector).toEqual(raw.map((x) => Math.fround(x / n)));
      expect(Math.abs(Math.hypot(...results[i].vector) - 1)).toBeLessThan(1e-6);
      expect(results[i].tokens).toBe(ids.length);
    }
    expect(usage.tokens).toBe(texts.reduce((a, t) => a + engine.tokenizer.encode(t).ids.length, 0));
  });

  it("a classifier's embed stays its raw pooled vector (no normalize in its config)", async () => {
    const cls = await Engine.create((await synthPackage(TINY_CLASSIFIER, { seed: 5 })).pkg, newKernel());
    const { results } = await cls.embed([texts[0]]);
    const { pooled } = await cls.run({ sequences: [{ ids: cls.tokenizer.encode(texts[0]).ids }], pooled: true });
    expect(results[0].vector).toEqual(Array.from(pooled![0]));
  });

  it("refuses classify and fill-mask, saying it is an embedding model", async () => {
    for (const task of [() => engine.classify(["a film"]), () => engine.fillMask(["a <mask> film"])]) {
      const err = await task().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UfbError);
      expect((err as UfbError).code).toBe("unsupported_task");
      expect((err as Error).message).toMatch(/is a sentence-embedding model/);
    }
    expect(packageTasks(engine.config)).toEqual(["embed"]);
  });

  it("calibration compares the served vectors of int8 and f32 by cosine", async () => {
    const f32 = await Engine.create((await synthPackage(TINY_EMBEDDING, { seed: 5, dtype: "f32" })).pkg, newKernel());
    const report = await compareEngines(f32, engine, calibrationInputs(f32, 2));
    expect(report.output).toBe("sentence vectors");
    expect(report.argmaxTotal).toBe(0);
    // int8 rounding moves a unit vector a little, never towards another direction
    expect(report.minCosine).toBeGreaterThan(0.99);
    expect(report.minCosine).toBeLessThanOrEqual(1 + 1e-12);
    expect(report.maxAbsDiffLogits).toBeGreaterThan(0);
    const same = await compareEngines(engine, engine, calibrationInputs(engine, 2));
    expect([same.maxAbsDiffLogits, same.pathNodesEqual]).toEqual([0, same.pathNodes]);
  });
});
