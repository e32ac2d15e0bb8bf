/**
 * The shipped classifier's SST-2 dev accuracy, computed by the engine (the same code as `npm run eval`),
 * matches its model card, and its predictions agree with PyTorch's f32 predictions almost everywhere.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluate, readLabelledTsv } from "../../src/cli/eval.ts";
import { openPackageDir } from "../../src/cli/files.ts";
import { loadKernel } from "../../src/cli/kernel.ts";
import { Engine } from "../../src/model/engine.ts";

const ROOT = join(import.meta.dirname, "../..");
const MODEL = /^\s*MODEL\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))![1];
const DEV = join(ROOT, "../shared/data/glue/SST-2/dev.tsv");

describe(`shipped model ${MODEL} on SST-2 dev`, () => {
  it("has the accuracy its model card states", async () => {
    if (!existsSync(DEV)) throw new Error(`${DEV}: SST-2 dev is read from the shared data folder beside the checkout`);
    const card = readFileSync(join(ROOT, "weights", MODEL, "MODEL_CARD.md"), "utf8");
    const row = /engine, int8 package \(this folder\) \| \*\*([\d.]+) %\*\* \((\d+)\/(\d+)/.exec(card);
    expect(row, "MODEL_CARD.md: the engine int8 accuracy row").not.toBeNull();
    const { pkg, close } = await openPackageDir(join(ROOT, "weights", MODEL));
    try {
      const engine = await Engine.create(pkg, await loadKernel());
      const result = await evaluate(engine, await readLabelledTsv(DEV));
      expect(result.examples).toBe(Number(row![3]));
      expect(result.correct).toBe(Number(row![2]));
      expect((100 * result.accuracy).toFixed(2)).toBe(row![1]);
      // against the PyTorch f32 model's own predictions on the same sentences
      const reference = JSON.parse(readFileSync(join(ROOT, "train/results/sst2-dev-predictions.json"), "utf8")) as { accuracy: number; examples: { i: number; pred: number }[] };
      const equal = reference.examples.filter((e) => result.predictions[e.i] === e.pred).length;
      expect(equal / reference.examples.length).toBeGreaterThanOrEqual(0.99);
      expect(Math.abs(100 * result.accuracy - 100 * reference.accuracy)).toBeLessThanOrEqual(0.5);
    } finally {
      await close();
    }
  }, 120_000);
});
