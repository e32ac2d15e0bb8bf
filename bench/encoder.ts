/**
 * Model benchmark suites: the whole encoder forward pass (single thread, batch 1, weights resident in
 * kernel memory), on the synthetic 12-layer UltraFastBERT-1x11 shape (768 wide, 12 heads, FFF 1×11,
 * vocab 32768) at 16 and 128 tokens, and the shipped default model on a 20-token text.
 *
 * The comparison points (docs/baselines.md, same kind of machine): dense BERT-base int8 in
 * onnxruntime-web, 1 thread: 52.7 ms at 16 tokens, 351 ms at 128 tokens.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { openPackageDir } from "../src/cli/files.ts";
import { Engine } from "../src/model/engine.ts";
import { l2Normalized } from "../src/model/tasks.ts";
import { MemorySink, MemorySource } from "../src/weights/read/sources.ts";
import { PRESETS, synthTensors } from "../src/weights/convert/synth.ts";
import { WeightPackage } from "../src/weights/read/package.ts";
import { readTokenizerInfo } from "../src/weights/format/tokenizer-info.ts";
import { synthTokenizerJson, synthVocabulary } from "../src/weights/convert/synth-tokenizer.ts";
import { writePackage } from "../src/weights/convert/writer.ts";
import type { PackageConfig } from "../src/weights/format/config.ts";
import { type SuiteContext, registerSuite, summarize } from "./harness.ts";
import { loadKernel } from "./wasm.node.ts";

const MiB = 1024 * 1024;
const ROOT = new URL("../", import.meta.url).pathname;

/** ms per call of an async function: warm-up, then `runs` samples of one call each. */
async function timeAsync(fn: () => Promise<unknown>, runs: number, warmup: number) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return summarize(samples);
}

export async function synthPackage(preset: string, config?: PackageConfig): Promise<WeightPackage> {
  const c = config ?? PRESETS[preset].config;
  const tokenizer = new TextEncoder().encode(synthTokenizerJson(synthVocabulary(c.vocabSize, 1)));
  const sink = new MemorySink();
  const manifest = await writePackage(
    { name: preset, config: c, specialTokens: readTokenizerInfo(tokenizer).specialTokens, tokenizer, tensors: synthTensors(c, 1), from: { kind: "synth", seed: 1 } },
    sink,
    { dtype: "q8", createdAt: null },
  );
  return WeightPackage.open({ manifest: JSON.stringify(manifest), tokenizer: async () => tokenizer, weights: new MemorySource(sink.bytes()) });
}

export function randomIds(n: number, vocab: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 7 + (s % (vocab - 7));
  });
}

registerSuite("encoder.forward", async (ctx: SuiteContext) => {
  ctx.log("  generating the synthetic ultrafastbert-1x11-12l package in memory (≈130 MB int8)…");
  const pkg = await synthPackage("ultrafastbert-1x11-12l");
  const kernel = loadKernel();
  const engine = await Engine.create(pkg, kernel);
  const loaded = kernel.highWaterBytes;
  const runs = ctx.quick ? 5 : 15;
  for (const tokens of [16, 128]) {
    const sequences = [{ ids: randomIds(tokens, pkg.config.vocabSize, tokens) }];
    const t = await timeAsync(() => engine.run({ sequences, hidden: true }), runs, 3);
    ctx.recordTime(`encoder forward, 12 layers × 768, FFF 1×11, q8, batch 1, seq ${tokens}`, t, "ms");
  }
  ctx.record({ name: "package weights.bin (q8)", unit: "MiB", median: pkg.manifest.weights.bytes / MiB, min: pkg.manifest.weights.bytes / MiB, max: pkg.manifest.weights.bytes / MiB, runs: 1 });
  ctx.record({ name: "wasm memory after load (all weights resident)", unit: "MiB", median: loaded / MiB, min: loaded / MiB, max: loaded / MiB, runs: 1 });
  const high = kernel.highWaterBytes;
  ctx.record({ name: "wasm memory high-water (load + seq 128 forward)", unit: "MiB", median: high / MiB, min: high / MiB, max: high / MiB, runs: 1 });
  const f32Copy = (pkg.manifest.weights.bytes * 4) / MiB;
  ctx.log(`  (an f32 copy of these weights alone would be ≈${f32Copy.toFixed(0)} MiB)`);
});

/** The default model (wrangler.toml MODEL, folder weights/<MODEL>/) on a 20-token text. */
registerSuite("encoder.default-model", async (ctx: SuiteContext) => {
  const model = /^\s*MODEL\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))?.[1];
  const dir = model && join(ROOT, "weights", model);
  if (!dir || !existsSync(join(dir, "manifest.json"))) {
    ctx.log(`  skipped: no package for MODEL=${model} in weights/`);
    return;
  }
  const pkg = await WeightPackage.open({
    manifest: new Uint8Array(await readFile(join(dir, "manifest.json"))),
    tokenizer: async () => new Uint8Array(await readFile(join(dir, "tokenizer.json"))),
    weights: new MemorySource(new Uint8Array(await readFile(join(dir, "weights.bin")))),
  });
  const engine = await Engine.create(pkg, loadKernel());
  // a 20-token input: words of a review, cut to exactly 20 ids
  const text = "an absorbing, beautifully acted film whose quiet moments linger long after the credits roll and the lights come up";
  let ids = engine.tokenizer.encode(text).ids;
  if (ids.length < 20) ids = [...ids, ...randomIds(20 - ids.length, pkg.config.vocabSize, 3)];
  ids = ids.slice(0, 20);
  const kind = pkg.config.kind;
  const t = await timeAsync(() => engine.run({ sequences: [{ ids }], logits: kind === "classifier", hidden: kind !== "classifier" }), ctx.quick ? 20 : 200, 20);
  ctx.recordTime(`default model ${model} (${pkg.config.numLayers} layers × ${pkg.config.hiddenSize}, FFF ${pkg.config.fffTrees}×${pkg.config.fffDepth}), 20 tokens, classify`, t, "ms");
});

/**
 * Every classifier and embedding package shipped in weights/ on the same 20-token text, interleaved round by
 * round so that machine load hits all of them alike (the model cards' latency column): a classifier's run
 * ends in its logits, an embedding model's in its pooled vector, L2-normalised as /v1/embed serves it.
 */
registerSuite("encoder.shipped-models", async (ctx: SuiteContext) => {
  const names = readdirSync(join(ROOT, "weights")).filter((n) => existsSync(join(ROOT, "weights", n, "manifest.json"))).sort();
  const kernel = loadKernel();
  const text = "an absorbing, beautifully acted film whose quiet moments linger long after the credits roll and the lights come up";
  const models = [];
  const closers: (() => Promise<void>)[] = [];
  for (const name of names) {
    const { pkg, close } = await openPackageDir(join(ROOT, "weights", name));
    closers.push(close);
    const task = pkg.config.kind === "classifier" ? "classify" : pkg.config.kind === "embedding" ? "embed" : null;
    if (task === null) continue;
    const engine = await Engine.create(pkg, kernel); // resident: every weight is read at load
    let ids = engine.tokenizer.encode(text).ids;
    if (ids.length < 20) ids = [...ids, ...randomIds(20 - ids.length, pkg.config.vocabSize, 3)];
    models.push({ name, pkg, engine, task, ids: ids.slice(0, 20), times: [] as number[] });
  }
  const rounds = ctx.quick ? 20 : 200;
  for (let r = 0; r < rounds + 20; r++) {
    for (const m of models) {
      const t0 = performance.now();
      if (m.task === "classify") await m.engine.run({ sequences: [{ ids: m.ids }], logits: true });
      else l2Normalized((await m.engine.run({ sequences: [{ ids: m.ids }], pooled: true })).pooled![0]);
      if (r >= 20) m.times.push(performance.now() - t0);
    }
  }
  for (const close of closers) await close();
  for (const m of models) {
    const sorted = m.times.slice().sort((a, b) => a - b);
    const c = m.pkg.config;
    ctx.record({ name: `${m.name} (${c.numLayers} × ${c.hiddenSize}, FFF ${c.fffTrees}×${c.fffDepth}), 20 tokens, ${m.task}`, unit: "ms", median: sorted[sorted.length >> 1], min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length });
  }
});

/**
 * The latency side of issue 10's accuracy-vs-ms curve: classifiers of the shipped default's kind (vocab 16,384,
 * FFF 2 × 9, int8, random weights: latency does not depend on the values) at other depths and widths, 20 tokens,
 * interleaved round by round. Which sizes fit the budget (≤ 4 ms in Node, ≤ 10 ms inside workerd) before any is
 * trained; the shipped 4 × 512 is the reference row.
 */
registerSuite("encoder.size-curve", async (ctx: SuiteContext) => {
  const kernel = loadKernel();
  const base = PRESETS["tiny-classifier"].config;
  const shapes: [number, number, number][] = [[4, 384, 6], [4, 512, 8], [6, 512, 8], [8, 512, 8], [4, 768, 12], [6, 768, 12]];
  const models = [];
  for (const [numLayers, hiddenSize, numHeads] of shapes) {
    const config: PackageConfig = { ...base, numLayers, hiddenSize, numHeads, headDim: hiddenSize / numHeads, fffTrees: 2, fffDepth: 9, vocabSize: 16384, classifierDim: hiddenSize };
    const pkg = await synthPackage(`size-${numLayers}x${hiddenSize}`, config);
    const engine = await Engine.create(pkg, kernel);
    models.push({ name: `${numLayers} × ${hiddenSize} (${numHeads} heads), FFF 2×9, 20 tokens, classify`, engine, ids: randomIds(20, 16384, 5), times: [] as number[] });
  }
  const rounds = ctx.quick ? 20 : 100;
  for (let r = 0; r < rounds + 10; r++) {
    for (const m of models) {
      const t0 = performance.now();
      await m.engine.run({ sequences: [{ ids: m.ids }], logits: true });
      if (r >= 10) m.times.push(performance.now() - t0);
    }
  }
  for (const m of models) ctx.recordTime(m.name, summarize(m.times), "ms");
});
