/**
 * Puts packages into an R2 bucket the way `npm run upload` does (models/<name>/<version>/… plus the
 * `current` pointer), and builds small packages in memory for the Worker tests.
 */
import { type Dtype } from "../../src/weights/format/spec.ts";
import { MemorySink, MemorySource } from "../../src/weights/read/sources.ts";
import { PRESETS, synthTensors } from "../../src/weights/convert/synth.ts";
import type { PackageConfig } from "../../src/weights/format/config.ts";
import { WeightPackage } from "../../src/weights/read/package.ts";
import { readTokenizerInfo } from "../../src/weights/format/tokenizer-info.ts";
import { synthTokenizerJson, synthVocabulary } from "../../src/weights/convert/synth-tokenizer.ts";
import { writePackage } from "../../src/weights/convert/writer.ts";
import type { BuiltPackage } from "./packages.ts";

export async function putPackage(bucket: R2Bucket, name: string, version: string, built: Pick<BuiltPackage, "manifest" | "tokenizer" | "weights">, current = true): Promise<void> {
  const prefix = `models/${name}/${version}`;
  await bucket.put(`${prefix}/weights.bin`, built.weights);
  await bucket.put(`${prefix}/tokenizer.json`, built.tokenizer);
  await bucket.put(`${prefix}/manifest.json`, built.manifest);
  if (current) await bucket.put(`models/${name}/current`, version);
}

export async function synthPackage(config: PackageConfig, options: { seed?: number; dtype?: Dtype; tileDepth?: number; rowsPerBlock?: number; name?: string } = {}): Promise<BuiltPackage> {
  const seed = options.seed ?? 1;
  const tokenizer = new TextEncoder().encode(synthTokenizerJson(synthVocabulary(config.vocabSize, seed)));
  const sink = new MemorySink();
  const manifest = JSON.stringify(
    await writePackage(
      { name: options.name ?? "synthetic", config, specialTokens: readTokenizerInfo(tokenizer).specialTokens, tokenizer, tensors: synthTensors(config, seed), from: { kind: "synth", seed } },
      sink,
      { dtype: options.dtype ?? "q8", tileDepth: options.tileDepth, rowsPerBlock: options.rowsPerBlock, createdAt: null },
    ),
  );
  const weights = sink.bytes();
  const pkg = await WeightPackage.open({ manifest, tokenizer: async () => tokenizer, weights: new MemorySource(weights) });
  return { pkg, weights, manifest, tokenizer };
}

export const TINY_CLASSIFIER = PRESETS["tiny-classifier"].config;
export const TINY_EMBEDDING = PRESETS["tiny-embedding"].config;
