/**
 * The embedding side of `ufb eval`: Spearman with average ranks, recall@k with ties broken by corpus order
 * (hand-computed, no model), the shipped STS-B dev and retrieval files, and both measures end to end on a
 * small random-weight MLM package and through the command line.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  averageRanks, evaluateRetrieval, evaluateSts, l2Normalise, pearson, rankOf, readRetrievalSet, readStsTsv, recallAt, spearman,
} from "../../src/cli/eval.ts";
import { openPackageDir } from "../../src/cli/files.ts";
import { loadKernel } from "../../src/cli/kernel.ts";
import { Engine } from "../../src/model/engine.ts";
import { FIXTURES, REPO, expectFailure, ufb } from "./ufb.ts";

const STS_DEV = join(REPO, "test/data/sts-b-dev.tsv");
const RETRIEVAL = join(REPO, "test/data/retrieval");
// the Wikipedia source of the distractors lives outside the repository (../shared/data), so a bare clone lacks it
const WIKITEXT = ["shared/data", "../shared/data"].some((d) => existsSync(join(REPO, d, "corpus/wikitext-2-raw/wiki.test.raw")));

describe("averageRanks", () => {
  it("should give tied values the mean of the ranks they span", () => {
    expect(averageRanks([10, 20, 20, 30])).toEqual([1, 2.5, 2.5, 4]);
    expect(averageRanks([3, 3, 3])).toEqual([2, 2, 2]);
    expect(averageRanks([2, 1, 2, 1, 2])).toEqual([4, 1.5, 4, 1.5, 4]);
    expect(averageRanks([0.5, -1, 7])).toEqual([2, 1, 3]);
  });
});

describe("spearman", () => {
  it("should be 1 - 6Σd²/(n(n²-1)) without ties", () => {
    // ranks of y: 3 1 2 5 4, d = -2 1 1 -1 1, Σd² = 8 → 1 - 48/120
    expect(spearman([10, 20, 30, 40, 50], [3, 1, 2, 5, 4])).toBeCloseTo(0.6, 12);
    expect(spearman([1, 2, 3, 4], [1, 4, 9, 16])).toBeCloseTo(1, 12); // monotone, not linear
    expect(spearman([1, 2, 3, 4], [16, 9, 4, 1])).toBeCloseTo(-1, 12);
  });

  it("should be the Pearson correlation of average ranks with ties", () => {
    // y ranks 1 2 3.5 5 3.5: Σ dx·dy = 8, Σ dx² = 10, Σ dy² = 9.5
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(8 / Math.sqrt(95), 12);
    // ranks 1.5 1.5 3 4 and 1 2.5 2.5 4: 3.75 / 4.5
    expect(spearman([1, 1, 2, 3], [1, 2, 2, 3])).toBeCloseTo(5 / 6, 12);
    expect(spearman([1, 1, 2, 2], [1, 2, 1, 2])).toBeCloseTo(0, 12);
  });

  it("should be undefined (NaN) when one side is constant, and refuse unequal lengths", () => {
    expect(spearman([1, 2, 3], [4, 4, 4])).toBeNaN();
    expect(pearson([0, 0], [1, 2])).toBeNaN();
    expect(() => spearman([1, 2], [1, 2, 3])).toThrow(/2 values against 3/);
  });
});

describe("rankOf and recallAt", () => {
  it("should rank the target by score, an equal score earlier in the list counting against it", () => {
    const scores = [0.1, 0.9, 0.5, 0.9];
    expect(rankOf(scores, 1)).toBe(1);
    expect(rankOf(scores, 3)).toBe(2); // tied with index 1, which comes first
    expect(rankOf(scores, 2)).toBe(3);
    expect(rankOf(scores, 0)).toBe(4);
    expect(rankOf([0, 0, 0], 2)).toBe(3); // all equal: no credit for a constant model
  });

  it("should count the share of ranks within k", () => {
    expect(recallAt([1, 2, 11, 10, 1], 1)).toBe(2 / 5);
    expect(recallAt([1, 2, 11, 10, 1], 10)).toBe(4 / 5);
    expect(recallAt([], 10)).toBe(0);
  });

  it("l2Normalise should give unit length and leave a zero vector zero", () => {
    expect(Array.from(l2Normalise([3, 4]))).toEqual([0.6, 0.8]);
    expect(Array.from(l2Normalise([0, 0]))).toEqual([0, 0]);
  });
});

/** An engine stand-in whose embed() returns hand-made vectors, counting its calls. */
function fakeEngine(vectors: Record<string, number[]>) {
  const calls: number[] = [];
  const engine = {
    async embed(texts: string[]) {
      calls.push(texts.length);
      return { results: texts.map((t) => ({ vector: vectors[t] ?? Number.NaN, tokens: 1, truncated: false })) };
    },
  } as unknown as Engine;
  return { engine, calls };
}

describe("evaluateSts and evaluateRetrieval on hand-made vectors", () => {
  // lengths differ on purpose: only the direction may count
  const vectors: Record<string, number[]> = {
    NE: [10, 10], E2: [0, 1], N: [2, 0], E: [0, 3], S: [0, -1],
    north: [1, 0], east: [0, 1], west: [-1, 0], southwest: [-1, -1],
  };

  it("should correlate the cosines of normalised vectors with the gold scores", async () => {
    const { engine, calls } = fakeEngine(vectors);
    const pairs = [["N", "NE", 4], ["N", "E", 2], ["E", "E2", 5], ["E", "S", 3]].map(([a, b, s]) => ({ sentence1: a as string, sentence2: b as string, score: s as number }));
    const r = await evaluateSts(engine, pairs, 3);
    expect(r.cosines[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(r.cosines.slice(1).map((c) => Math.round(c * 1e12) / 1e12)).toEqual([0, 1, -1]);
    // cosine ranks 3 2 4 1, gold ranks 3 1 4 2: Σd² = 2 → 1 - 12/60
    expect(r.spearman).toBeCloseTo(0.8, 12);
    expect(r.pairs).toBe(4);
    expect(calls).toEqual([3, 1, 3, 1]); // both sides, in batches of 3
  });

  it("should rank each relevant sentence among the corpus by cosine, ties broken by corpus order", async () => {
    const { engine, calls } = fakeEngine(vectors);
    const corpus = ["NE", "E2", "N", "E", "S"];
    const queries = [
      { id: "q1", query: "north", relevant: "N" }, // cos 1; NE has the larger dot product but a smaller cosine
      { id: "q2", query: "east", relevant: "E" }, // cos 1, tied with E2 which comes first
      { id: "q3", query: "west", relevant: "S" }, // cos 0, tied with E2 and E before it
      { id: "q4", query: "southwest", relevant: "NE" }, // cos -1, last
    ];
    const r = await evaluateRetrieval(engine, queries, corpus, 2);
    expect(r.ranks).toEqual([1, 2, 3, 5]);
    expect(r.recallAt1).toBe(0.25);
    expect(r.recallAt10).toBe(1);
    expect([r.queries, r.corpus]).toEqual([4, 5]);
    expect(calls).toEqual([2, 2, 1, 2, 2]);
  });

  it("should refuse a corpus with duplicates or without a query's relevant sentence", async () => {
    const { engine } = fakeEngine(vectors);
    await expect(evaluateRetrieval(engine, [{ id: "q", query: "north", relevant: "N" }], ["N", "E", "N"])).rejects.toThrow(/"N" occurs twice/);
    await expect(evaluateRetrieval(engine, [{ id: "q", query: "north", relevant: "S" }], ["N", "E"])).rejects.toThrow(/query q: its relevant sentence is not in the corpus/);
  });
});

describe("shipped evaluation data", () => {
  it("test/data/sts-b-dev.tsv should hold the 1,500 STS-B dev pairs with scores in [0, 5]", async () => {
    const pairs = await readStsTsv(STS_DEV);
    expect(pairs).toHaveLength(1500);
    expect(pairs.every((p) => p.score >= 0 && p.score <= 5 && p.sentence1 !== "" && p.sentence2 !== "")).toBe(true);
    // read without quoting: a sentence that holds a double quote comes through whole
    expect(pairs.some((p) => p.sentence1.includes('"') || p.sentence2.includes('"'))).toBe(true);
  });

  it("test/data/retrieval should have ≥ 120 queries with one relevant sentence each among ≥ 1,000 distractors", async () => {
    const { queries, corpus } = await readRetrievalSet(RETRIEVAL);
    const distractors = corpus.slice(0, corpus.length - queries.length);
    expect(queries.length).toBeGreaterThanOrEqual(120);
    expect(distractors.length).toBeGreaterThanOrEqual(1000);
    expect(new Set(queries.map((q) => q.id)).size).toBe(queries.length);
    expect(new Set(corpus).size).toBe(corpus.length); // relevant sentences are neither repeated nor among the distractors
    expect(queries.every((q) => q.query.trim() !== "" && q.query !== q.relevant)).toBe(true);
    // varied topics: the id prefix names the topic
    expect(new Set(queries.map((q) => q.id.replace(/-\d+$/, ""))).size).toBeGreaterThanOrEqual(10);
    const hard = readFileSync(join(RETRIEVAL, "hard-negatives.jsonl"), "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as { query: string; text: string });
    expect(hard.length).toBeGreaterThanOrEqual(20);
    const ids = new Set(queries.map((q) => q.id));
    for (const h of hard) {
      expect(ids.has(h.query), `hard negative for unknown query ${h.query}`).toBe(true);
      expect(distractors, `hard negative of ${h.query}`).toContain(h.text);
    }
  });

  it.skipIf(!WIKITEXT)("test/data/retrieval/distractors.txt should be what scripts/retrieval-distractors.ts writes", () => {
    const r = spawnSync(process.execPath, [join(REPO, "scripts/retrieval-distractors.ts"), "--check"], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("as the sources give it");
    expect(r.status).toBe(0);
  });
});

describe("embedding evaluation of a small random-weight MLM package", () => {
  const tmp = mkdtempSync(join(tmpdir(), "ufb-eval-embed-"));
  const pkgDir = join(tmp, "tiny");
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  beforeAll(() => {
    // the reference fixture `tiny`: a crammedBERT MLM with random weights (64 hidden, 2 layers, vocab 512)
    const r = ufb(["convert", `${FIXTURES}/tiny`, pkgDir]);
    expect(r.stderr).not.toMatch(/error/i); // progress lines only (ufb convert reports progress without a TTY)
    expect(r.code).toBe(0);
  });

  it("should give a Spearman in [-1, 1] and recalls in [0, 1] on the shipped STS-B dev and retrieval set", async () => {
    const { pkg, close } = await openPackageDir(pkgDir);
    try {
      expect(pkg.config.kind).toBe("mlm");
      const engine = await Engine.create(pkg, await loadKernel());
      const sts = await evaluateSts(engine, await readStsTsv(STS_DEV));
      expect(sts.pairs).toBe(1500);
      expect(Number.isFinite(sts.spearman)).toBe(true);
      expect(Math.abs(sts.spearman)).toBeLessThanOrEqual(1);
      expect(sts.cosines.every((c) => Number.isFinite(c) && c >= -1 - 1e-9 && c <= 1 + 1e-9)).toBe(true);

      const { queries, corpus } = await readRetrievalSet(RETRIEVAL);
      const r = await evaluateRetrieval(engine, queries, corpus, 16);
      expect([r.queries, r.corpus]).toEqual([queries.length, corpus.length]);
      expect(r.ranks.every((k) => Number.isInteger(k) && k >= 1 && k <= corpus.length)).toBe(true);
      for (const x of [r.recallAt1, r.recallAt10]) expect(x >= 0 && x <= 1).toBe(true);
      expect(r.recallAt1).toBeLessThanOrEqual(r.recallAt10);
      expect(r.recallAt10).toBe(recallAt(r.ranks, 10));
    } finally {
      await close();
    }
  }, 120_000);

  it("ufb eval should report STS and retrieval for an MLM package instead of failing", () => {
    const sts = join(tmp, "sts.tsv");
    writeFileSync(sts, readFileSync(STS_DEV, "utf8").split("\n").slice(0, 201).join("\n") + "\n");
    const json = ufb(["eval", pkgDir, "--sts", sts, "--fill-mask", "none", "--json"]);
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out).toMatchObject({ mode: "embedding", pooler: "avg", sts: { pairs: 200 }, retrieval: { queries: 158 } });
    expect(Math.abs(out.sts.spearman)).toBeLessThanOrEqual(1);
    expect(out.retrieval.recallAt10).toBeGreaterThanOrEqual(out.retrieval.recallAt1);
    expect(Object.keys(out.retrieval.ranks)).toHaveLength(158);
    expect(out.fillMask).toBeNull();

    const text = ufb(["eval", pkgDir, "--sts", sts, "--retrieval", "none", "--fill-mask", "none"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/as sentence embeddings \(avg pooler/);
    expect(text.stdout).toMatch(/\(200 pairs\)\n {4}Spearman {3}-?[01]\.\d{4} /);
    expect(text.stdout).not.toContain("recall@");

    expectFailure(ufb(["eval", pkgDir, "--data", sts]), 2, /--data measures a classification head; .*\(an MLM package\)/, expect);
  }, 120_000);

  it("ufb eval --embedding should measure a classifier's pooled vectors; --sts without it is refused", () => {
    const cls = join(tmp, "cls");
    expect(ufb(["synth", cls, "--preset", "tiny-classifier"]).code).toBe(0);
    const sts = join(tmp, "sts-small.tsv");
    writeFileSync(sts, readFileSync(STS_DEV, "utf8").split("\n").slice(0, 41).join("\n") + "\n");
    const r = ufb(["eval", cls, "--embedding", "--sts", sts, "--retrieval", "none", "--fill-mask", "none", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ mode: "embedding", sts: { pairs: 40 }, retrieval: null });
    expectFailure(ufb(["eval", cls, "--sts", sts]), 2, /--sts measures sentence embeddings; add --embedding/, expect);
  }, 120_000);
});
