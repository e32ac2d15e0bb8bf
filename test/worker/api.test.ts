/**
 * The Worker end to end: requests through the real entry point (Hono app → service → engine → R2
 * binding of the test runtime), checked against the engine run directly on the same package with every
 * weight resident (an independent path: no R2, no cache, no streaming).
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../src/model/engine.ts";
import { buildFixturePackage, newKernel } from "../helpers/packages.ts";
import { TINY_CLASSIFIER, putPackage, synthPackage } from "../helpers/r2.ts";

const post = (path: string, body: unknown) =>
  exports.default.fetch(new Request(`http://worker${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));

let classifier: Engine;
let mlm: Engine;

beforeAll(async () => {
  // under the default model's name (wrangler.toml MODEL) this file's bucket holds a synthetic classifier
  // with small tiles, so that paths read several tiers (default-model.test.ts serves the shipped package)
  const synth = await synthPackage(TINY_CLASSIFIER, { seed: 7, tileDepth: 3, rowsPerBlock: 16 });
  await putPackage(env.WEIGHTS, env.MODEL, "v1", synth);
  classifier = await Engine.create(synth.pkg, newKernel());
  const tiny = await buildFixturePackage("tiny", "q8");
  await putPackage(env.WEIGHTS, "tiny-mlm", "v1", tiny);
  mlm = await Engine.create(tiny.pkg, newKernel());
});

function softmax(v: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(v));
  const e = Array.from(v, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

describe("POST /v1/classify", () => {
  const texts = ["a warm, funny and moving film", "dull and lifeless", "it is what it is"];

  it("answers what the engine computes, with usage and Server-Timing", async () => {
    const res = await post("/v1/classify", { texts });
    expect(res.status).toBe(200);
    expect(res.headers.get("server-timing")).toMatch(/tokenize.*compute|compute.*tokenize/);
    const body = (await res.json()) as any;
    expect(body.model).toEqual({ name: env.MODEL, version: "v1" });
    for (const [i, text] of texts.entries()) {
      const ids = classifier.tokenizer.encode(text).ids;
      const { logits } = await classifier.run({ sequences: [{ ids }], logits: true });
      const probs = softmax(logits![0]);
      const labels = TINY_CLASSIFIER.labels!;
      const best = probs.indexOf(Math.max(...probs));
      expect(body.results[i].label).toBe(labels[best]);
      expect(body.results[i].score).toBeCloseTo(probs[best], 5);
      expect(body.results[i].tokens).toBe(ids.length);
      expect(body.results[i].scores.map((s: any) => s.label).sort()).toEqual([...labels].sort());
    }
    const tokens = texts.reduce((n, t) => n + classifier.tokenizer.encode(t).ids.length, 0);
    const c = TINY_CLASSIFIER;
    expect(body.usage.tokens).toBe(tokens);
    expect(body.usage.neurons_used).toBe(tokens * c.numLayers * (c.fffDepth + 1));
    expect(body.usage.neurons_available).toBe(tokens * c.numLayers * (2 ** (c.fffDepth + 1) - 1));
  });

  it("performs no R2 read when the same request comes again", async () => {
    const body = { texts: ["the same words again and again"] };
    const first = (await (await post("/v1/classify", body)).json()) as any;
    const second = (await (await post("/v1/classify", body)).json()) as any;
    expect(first.usage.r2_reads).toBeGreaterThanOrEqual(0);
    expect(second.usage.r2_reads).toBe(0);
    expect(second.usage.bytes_fetched).toBe(0);
    expect(second.usage.cache_hits).toBeGreaterThan(0);
    expect(second.results).toEqual(first.results);
  });

  it("explains with the FFF paths the engine takes, per token and layer", async () => {
    const text = "an unexpectedly touching story";
    const res = await post("/v1/classify", { text, explain: true, top_k: 1 });
    const body = (await res.json()) as any;
    const ids = classifier.tokenizer.encode(text).ids;
    const { paths } = await classifier.run({ sequences: [{ ids }], paths: true });
    const explained = body.results[0].explain;
    expect(explained.tokens).toHaveLength(ids.length);
    explained.tokens.forEach((t: any, p: number) => expect(t.paths).toEqual(paths!.map((layer) => layer[0][p])));
    expect(body.results[0].scores).toHaveLength(1);
    for (const f of explained.neuron_fraction_per_layer) {
      expect(f).toBeGreaterThan(0);
      expect(f).toBeLessThanOrEqual((ids.length * (TINY_CLASSIFIER.fffDepth + 1)) / (2 ** (TINY_CLASSIFIER.fffDepth + 1) - 1));
    }
  });

  it("flags texts longer than max_seq_length as truncated", async () => {
    const long = Array(200).fill("word").join(" ");
    const body = (await (await post("/v1/classify", { text: long })).json()) as any;
    expect(body.results[0]).toMatchObject({ tokens: TINY_CLASSIFIER.maxSeqLength, truncated: true });
  });

  it("answers 404 for an unknown model and 422 for a task the model lacks", async () => {
    expect((await post("/v1/classify", { text: "x", model: "no-such-model" })).status).toBe(404);
    const wrong = await post("/v1/classify", { text: "x", model: "tiny-mlm" });
    expect(wrong.status).toBe(422);
    expect(((await wrong.json()) as any).code).toBe("unsupported_task");
  });
});

describe("POST /v1/embed and /v1/fill-mask", () => {
  it("embeds to the engine's pooled vector when the request names the classifier", async () => {
    // without a model /v1/embed answers with EMBED_MODEL (test/worker/embed-default.test.ts)
    const text = "pool me";
    const body = (await (await post("/v1/embed", { text, model: env.MODEL })).json()) as any;
    const { pooled } = await classifier.run({ sequences: [{ ids: classifier.tokenizer.encode(text).ids }], pooled: true });
    expect(body.results[0].vector).toHaveLength(TINY_CLASSIFIER.hiddenSize);
    body.results[0].vector.forEach((v: number, i: number) => expect(v).toBeCloseTo(pooled![0][i], 5));
  });

  it("fills <mask> with the MLM head's best tokens", async () => {
    const text = "hello <mask> world!";
    const res = await post("/v1/fill-mask", { text, model: "tiny-mlm", top_k: 3 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    const ids = mlm.tokenizer.encode(text).ids;
    const at = ids.indexOf(mlm.tokenizer.special.mask!);
    const { mlm: logits } = await mlm.run({ sequences: [{ ids }], mlmPositions: [[0, at]] });
    const order = Array.from(logits![0].keys()).sort((a, b) => logits![0][b] - logits![0][a]);
    expect(body.results[0].masks).toHaveLength(1);
    expect(body.results[0].masks[0].position).toBe(at);
    expect(body.results[0].masks[0].candidates.map((c: any) => c.id)).toEqual(order.slice(0, 3));
  });

  it("refuses fill-mask without a mask token (422) and on a classifier (422)", async () => {
    expect((await post("/v1/fill-mask", { text: "no mask here", model: "tiny-mlm" })).status).toBe(422);
    expect((await post("/v1/fill-mask", { text: "a <mask>" })).status).toBe(422);
  });
});

describe("GET /v1/models", () => {
  it("lists the models in the bucket with their sizes and neurons", async () => {
    const res = await exports.default.fetch("http://worker/v1/models");
    const body = (await res.json()) as any;
    const names = body.models.map((m: any) => m.name);
    expect(names).toEqual(expect.arrayContaining([env.MODEL, "tiny-mlm"]));
    const synth = body.models.find((m: any) => m.name === env.MODEL);
    expect(synth).toMatchObject({ version: "v1", kind: "classifier", labels: TINY_CLASSIFIER.labels, dtype: "q8" });
    expect(synth.neurons).toEqual({ per_layer: 255, per_token_per_layer: 8 });
    // the kernel build the isolate chose (src/kernel/build.ts: DEFAULT_KERNEL_BUILD)
    expect(synth.kernel).toBe("simd128");
  });
});
