/**
 * Every shipped model's card states what the engine measures (the same code as `npm run eval`). Classifiers:
 * SST-2 dev accuracy of the int8 package, its behaviour-set accuracy and, with an MLM decoder, fill-mask top-5;
 * and the engine's SST-2 dev predictions agree with PyTorch's f32 predictions almost everywhere. Embedding
 * packages: STS-B dev Spearman and retrieval recall@1/@10 of the int8 package (the whole sets: ≈ 15 s for a
 * 2x9 package), and the card's neurons and package sizes. A card whose package is not in weights/ yet (an
 * embedding model is trained apart) is skipped, saying so.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  evaluate, evaluateBehaviour, evaluateFillMask, evaluateRetrieval, evaluateSts, readBehaviourCases, readLabelledTsv, readRetrievalSet, readStsTsv,
} from "../../src/cli/eval.ts";
import { openPackageDir } from "../../src/cli/files.ts";
import { loadKernel } from "../../src/cli/kernel.ts";
import { Engine } from "../../src/model/engine.ts";
import { hasMlmDecoder } from "../../src/weights/format/config.ts";

const ROOT = join(import.meta.dirname, "../..");
const VARS = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
const MODEL = /^\s*MODEL\s*=\s*"([^"]+)"/m.exec(VARS)![1];
const EMBED_MODEL = /^\s*EMBED_MODEL\s*=\s*"([^"]+)"/m.exec(VARS)![1];
const DEV = join(ROOT, "test/data/sst2-dev.tsv");
const CARDS = readdirSync(join(ROOT, "weights")).filter((n) => existsSync(join(ROOT, "weights", n, "MODEL_CARD.md")));
const kindOf = (name: string): string | null => {
  const manifest = join(ROOT, "weights", name, "manifest.json");
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, "utf8")) as { config: { kind: string } }).config.kind : null;
};
const SHIPPED = CARDS.filter((n) => kindOf(n) === "classifier");
const EMBEDDING = CARDS.filter((n) => kindOf(n) === "embedding");
const CARD_ONLY = CARDS.filter((n) => kindOf(n) === null);

const percent = (x: number) => (100 * x).toFixed(1);
/** A count as the cards write it: thousands separated by commas. */
const count = (n: number) => n.toLocaleString("en-US");

/** The PyTorch f32 predictions of the generation that made the package: the newest train/results/gen<N> holding them. */
function predictionsOf(name: string): string {
  const generations = readdirSync(join(ROOT, "train/results")).filter((d) => /^gen\d+$/.test(d)).sort((a, b) => Number(b.slice(3)) - Number(a.slice(3)));
  const found = generations.map((g) => join(ROOT, "train/results", g, `${name}-sst2-dev-predictions.json`)).find((p) => existsSync(p));
  expect(found, `train/results/gen*/${name}-sst2-dev-predictions.json`).toBeDefined();
  return found!;
}

describe("shipped models", () => {
  it("include the default models of wrangler.toml, MODEL a classifier and EMBED_MODEL (its card at least) an embedding model", () => {
    expect(SHIPPED).toContain(MODEL);
    expect(CARDS).toContain(EMBED_MODEL);
    expect(SHIPPED).not.toContain(EMBED_MODEL);
  });

  for (const name of CARD_ONLY) it.skip(`${name}: MODEL_CARD.md is there, its package not yet (weights/${name}/manifest.json)`, () => {});

  for (const name of EMBEDDING) {
    it(`${name}: the engine measures what MODEL_CARD.md states (STS-B dev Spearman, retrieval recall, neurons, sizes)`, async () => {
      const dir = join(ROOT, "weights", name);
      const card = readFileSync(join(dir, "MODEL_CARD.md"), "utf8");
      const sts = /STS-B dev Spearman, engine int8 package \(this folder\) \| \*\*(-?[\d.]+)\*\* \(([\d,]+) pairs\)/.exec(card);
      const retrieval = /retrieval, engine int8 \(([\d,]+) queries, ([\d,]+) sentences\) \| recall@1 \*\*([\d.]+) %\*\* \((\d+)\/(\d+)\), recall@10 \*\*([\d.]+) %\*\* \((\d+)\/(\d+)\)/.exec(card);
      const neurons = /\*\*([\d,]+) of ([\d,]+) neurons per token and layer \(([\d.]+) %\)\*\*/.exec(card);
      const sizes = /weights\.bin ([\d,]+) B \+ manifest ([\d,]+) B \+ tokenizer ([\d,]+) B = ([\d.]+) MB/.exec(card);
      expect(sts, "MODEL_CARD.md: the STS-B dev engine int8 row").not.toBeNull();
      expect(retrieval, "MODEL_CARD.md: the retrieval row").not.toBeNull();
      expect(neurons, "MODEL_CARD.md: the FFF neurons per token").not.toBeNull();
      expect(sizes, "MODEL_CARD.md: the package sizes").not.toBeNull();
      const { pkg, close } = await openPackageDir(dir);
      try {
        const c = pkg.config;
        expect([c.kind, c.pooler, c.normalize]).toEqual(["embedding", "avg", "l2"]);
        const perToken = c.fffTrees * (c.fffDepth + 1);
        const perLayer = c.fffTrees * (2 ** (c.fffDepth + 1) - 1);
        expect([neurons![1], neurons![2], neurons![3]]).toEqual([count(perToken), count(perLayer), ((100 * perToken) / perLayer).toFixed(2)]);
        const bytes = ["weights.bin", "manifest.json", "tokenizer.json"].map((f) => statSync(join(dir, f)).size);
        expect(sizes!.slice(1, 4)).toEqual(bytes.map(count));
        expect(sizes![4]).toBe((bytes.reduce((a, b) => a + b, 0) / 1e6).toFixed(1));

        const engine = await Engine.create(pkg, await loadKernel());
        const stsResult = await evaluateSts(engine, await readStsTsv(join(ROOT, "test/data/sts-b-dev.tsv")));
        expect([stsResult.spearman.toFixed(4), count(stsResult.pairs)]).toEqual([sts![1], sts![2]]);
        const set = await readRetrievalSet(join(ROOT, "test/data/retrieval"));
        const r = await evaluateRetrieval(engine, set.queries, set.corpus);
        const hits = (k: number) => r.ranks.filter((x) => x <= k).length;
        expect(retrieval!.slice(1)).toEqual([
          count(r.queries), count(r.corpus),
          percent(r.recallAt1), String(hits(1)), String(r.queries),
          percent(r.recallAt10), String(hits(10)), String(r.queries),
        ]);
      } finally {
        await close();
      }
    }, 300_000);
  }

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

        // the blind hold-out set (train/behaviour/README.md), where a card reports it
        const holdout = /hold-out set \((\d+) cases, blind\), engine int8 \| \*\*([\d.]+) %\*\* \((\d+)\/(\d+)\)/.exec(card);
        if (holdout) {
          const blind = (await evaluateBehaviour(engine, await readBehaviourCases(join(ROOT, "train/behaviour/holdout.jsonl")))).table;
          expect([blind.all.n, blind.all.correct, percent(blind.all.accuracy)]).toEqual([Number(holdout[1]), Number(holdout[3]), holdout[2]]);
          for (const [phenomenon, row] of Object.entries(blind)) {
            if (phenomenon === "all") continue;
            expect(card, `hold-out row of ${phenomenon}`).toContain(`| ${phenomenon} (hold-out) | ${row.correct}/${row.n} | **${percent(row.accuracy)} %** |`);
          }
        }

        // the second and third blind sets (negation only), where a card reports them
        for (const set of ["holdout2", "holdout3"]) {
          const negation = new RegExp(`${set}\\.jsonl\`[^*]*\\*\\*([\\d.]+) %\\*\\* \\((\\d+)\\/(\\d+)\\)`).exec(card);
          if (!negation) continue;
          const blind = (await evaluateBehaviour(engine, await readBehaviourCases(join(ROOT, `train/behaviour/${set}.jsonl`)))).table;
          expect([blind.all.n, blind.all.correct, percent(blind.all.accuracy)], set).toEqual([Number(negation[3]), Number(negation[2]), negation[1]]);
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
