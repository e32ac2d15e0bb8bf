import { describe, expect, it } from "vitest";
import { PRESETS, Xoshiro128, synthShapes, synthTensors } from "../../src/weights/convert/synth.ts";
import { SPECIAL_TOKENS, synthTokenizerJson, synthVocabulary } from "../../src/weights/convert/synth-tokenizer.ts";
import { readTokenizerInfo } from "../../src/weights/format/tokenizer-info.ts";
import { MemorySink } from "../../src/weights/read/sources.ts";
import { writePackage } from "../../src/weights/convert/writer.ts";

describe("PRNG", () => {
  it("should be deterministic per seed and give N(0,1) normals", () => {
    const a = new Xoshiro128(1, 2);
    const b = new Xoshiro128(1, 2);
    const c = new Xoshiro128(1, 3);
    const xs = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(xs);
    const r = new Xoshiro128(42);
    let s = 0;
    let s2 = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const v = r.normal();
      s += v;
      s2 += v * v;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
  });
});

describe("synthetic tensors", () => {
  const c = PRESETS["tiny-classifier"].config;

  it("should not depend on the order tensors and rows are asked for", async () => {
    const t1 = synthTensors(c, 5);
    const t2 = synthTensors(c, 5);
    const emb = await t1.get("encoder.embedding.word_embedding.weight");
    await t2.get("head.weight");
    expect(await t2.getRows("encoder.embedding.word_embedding.weight", 100, 3)).toEqual(emb.subarray(100 * 128, 103 * 128));
    expect(await synthTensors(c, 6).getRows("encoder.embedding.word_embedding.weight", 100, 3)).not.toEqual(emb.subarray(100 * 128, 103 * 128));
    expect((await t1.get("encoder.layers.3.ffn.linear_out.weight")).length).toBe(128 * 255);
    expect(synthShapes(c).get("head.weight")).toEqual([2, 256]);
  });

  it("should make both children of the tree nodes get used (realistic branching)", async () => {
    const t = synthTensors(c, 1);
    const w = await t.get("encoder.layers.0.ffn.linear_in.weight");
    const b = await t.get("encoder.layers.0.ffn.linear_in.bias");
    const h = c.hiddenSize;
    const rng = new Xoshiro128(99);
    const visits = new Array(255).fill(0);
    const samples = 2000;
    for (let s = 0; s < samples; s++) {
      const x = Array.from({ length: h }, () => rng.normal()); // a LayerNorm output
      let n = 0;
      for (let level = 0; level < 8; level++) {
        visits[n]++;
        let logit = b[n];
        for (let i = 0; i < h; i++) logit += x[i] * w[n * h + i];
        n = 2 * n + 1 + (logit > 0 ? 1 : 0);
      }
    }
    expect(visits[1] / samples).toBeGreaterThan(0.25);
    expect(visits[2] / samples).toBeGreaterThan(0.25);
    const leaves = visits.slice(127).filter((v) => v > 0).length;
    expect(leaves).toBeGreaterThan(100); // of 128
  });

  it("should write a tiny-classifier package", async () => {
    const vocab = synthVocabulary(c.vocabSize, 1);
    const tokenizer = new TextEncoder().encode(synthTokenizerJson(vocab));
    const m = await writePackage(
      { name: "tiny-classifier", config: c, specialTokens: readTokenizerInfo(tokenizer).specialTokens, tokenizer, tensors: synthTensors(c, 1), from: {} },
      new MemorySink(),
      { dtype: "q8" },
    );
    expect(m.config.labels).toEqual(["negative", "positive"]);
    expect(m.quantization.maxAbsError.fffIn).toBeGreaterThan(0);
  });
});

describe("synthetic tokenizer", () => {
  it("should have exactly vocabSize unique entries, specials at ids 0–6 in a seeded order", () => {
    const words = ["the", "##ing", "[unused0]", "Hello", "of", "the"];
    const v = synthVocabulary(600, 3, words);
    expect(v).toHaveLength(600);
    expect(new Set(v).size).toBe(600);
    expect(new Set(v.slice(0, 7))).toEqual(new Set(SPECIAL_TOKENS));
    expect(v).toContain("the");
    expect(v).toContain("##ing");
    expect(v).not.toContain("[unused0]");
    expect(v).not.toContain("Hello");
    expect(v.indexOf("the")).toBeLessThan(v.indexOf("aa"));
    const orders = new Set([1, 2, 3, 4, 5].map((s) => synthVocabulary(10, s).slice(0, 7).join(" ")));
    expect(orders.size).toBeGreaterThan(1);
  });

  it("should read back the special ids from added_tokens", () => {
    const v = synthVocabulary(200, 9);
    const info = readTokenizerInfo(new TextEncoder().encode(synthTokenizerJson(v)));
    expect(info.vocabSize).toBe(200);
    expect(info.modelType).toBe("WordPiece");
    expect(info.specialTokens).toEqual({ pad: v.indexOf("<pad>"), bos: v.indexOf("<s>"), eos: v.indexOf("</s>"), unk: v.indexOf("<unk>"), cls: v.indexOf("<cls>"), sep: v.indexOf("<sep>"), mask: v.indexOf("<mask>") });
  });
});
