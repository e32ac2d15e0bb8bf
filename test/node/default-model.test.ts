/**
 * Every shipped classifier's model card states what the engine measures (the same code as `npm run eval`):
 * SST-2 dev accuracy of the int8 package, its behaviour-set accuracy and, with an MLM decoder, fill-mask top-5;
 * and the engine's SST-2 dev predictions agree with PyTorch's f32 predictions almost everywhere.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluate, evaluateBehaviour, evaluateFillMask, readBehaviourCases, readLabelledTsv } from "../../src/cli/eval.ts";
import { openPackageDir } from "../../src/cli/files.ts";
import { loadKernel } from "../../src/cli/kernel.ts";
import { Engine } from "../../src/model/engine.ts";
import { hasMlmDecoder } from "../../src/weights/format/config.ts";

const ROOT = join(import.meta.dirname, "../..");
const MODEL = /^\s*MODEL\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))![1];
const DEV = join(ROOT, "test/data/sst2-dev.tsv");
const SHIPPED = readdirSync(join(ROOT, "weights")).filter((n) => existsSync(join(ROOT, "weights", n, "MODEL_CARD.md")));

const percent = (x: number) => (100 * x).toFixed(1);

/** The PyTorch f32 predictions of the generation that made the package: the newest train/results/gen<N> holding them. */
function predictionsOf(name: string): string {
  const generations = readdirSync(join(ROOT, "train/results")).filter((d) => /^gen\d+$/.test(d)).sort((a, b) => Number(b.slice(3)) - Number(a.slice(3)));
  const found = generations.map((g) => join(ROOT, "train/results", g, `${name}-sst2-dev-predictions.json`)).find((p) => existsSync(p));
  expect(found, `train/results/gen*/${name}-sst2-dev-predictions.json`).toBeDefined();
  return found!;
}

describe("shipped models", () => {
  it("include the default model of wrangler.toml", () => {
    expect(SHIPPED).toContain(MODEL);
  });

  for (const name of SHIPPED) {
    it(`${name}: the engine measures what MODEL_CARD.md states`, async () => {
      const card = readFileSync(join(ROOT, "weights", name, "MODEL_CARD.md"), "utf8");
      const dev = /SST-2 dev, engine int8 package \(this folder\) \| \*\*([\d.]+) %\*\* \((\d+)\/(\d+)\)/.exec(card);
      const behaviour = /behaviour set, engine int8 \((\d+) cases\) \| \*\*([\d.]+) %\*\* \((\d+)\/(\d+)\)/.exec(card);
      expect(dev, "MODEL_CARD.md: the SST-2 dev engine int8 row").not.toBeNull();
      expect(behaviour, "MODEL_CARD.md: the behaviour set row").not.toBeNull();
      const { pkg, close } = await openPackageDir(join(ROOT, "weights", name));
      try {
        const engine = await Engine.create(pkg, await loadKernel());
        const result = await evaluate(engine, await readLabelledTsv(DEV));
        expect(result.examples).toBe(Number(dev![3]));
        expect(result.correct).toBe(Number(dev![2]));
        expect((100 * result.accuracy).toFixed(2)).toBe(dev![1]);
        // against the PyTorch f32 model's own predictions on the same sentences
        const reference = JSON.parse(readFileSync(predictionsOf(name), "utf8")) as { accuracy: number; examples: { i: number; pred: number }[] };
        const equal = reference.examples.filter((e) => result.predictions[e.i] === e.pred).length;
        expect(equal / reference.examples.length).toBeGreaterThanOrEqual(0.99);
        expect(Math.abs(100 * result.accuracy - 100 * reference.accuracy)).toBeLessThanOrEqual(0.5);

        const { table } = await evaluateBehaviour(engine, await readBehaviourCases(join(ROOT, "train/behaviour/cases.jsonl")));
        expect([table.all.n, table.all.correct, percent(table.all.accuracy)]).toEqual([Number(behaviour![1]), Number(behaviour![3]), behaviour![2]]);
        for (const [phenomenon, row] of Object.entries(table)) {
          if (phenomenon === "all") continue;
          expect(card, `per-phenomenon row of ${phenomenon}`).toContain(`| ${phenomenon} | ${row.correct}/${row.n} | **${percent(row.accuracy)} %** |`);
        }

        if (hasMlmDecoder(pkg.config)) {
          const fill = /top-1 ([\d.]+) %, \*\*top-5 ([\d.]+) %\*\* \| `npm run eval/.exec(card);
          expect(fill, "MODEL_CARD.md: the engine fill-mask row").not.toBeNull();
          const sentences = readFileSync(join(ROOT, "test/data/fill-mask-reviews.txt"), "utf8").split("\n").filter((l) => l.trim() !== "");
          const got = await evaluateFillMask(engine, sentences);
          expect([percent(got.top1), percent(got.top5)]).toEqual([fill![1], fill![2]]);
        }
      } finally {
        await close();
      }
    }, 300_000);
  }
});
