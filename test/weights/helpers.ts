/** Shared by the weights tests: fixture checkpoints and packages built in memory. */
import { env } from "cloudflare:workers";
import { fixtureBytes } from "../helpers/fixtures.ts";
import { type CheckpointFiles, loadCheckpoint } from "../../src/weights/convert/checkpoint.ts";
import type { Dtype } from "../../src/weights/format/spec.ts";
import type { Manifest } from "../../src/weights/format/manifest.ts";
import { WeightPackage } from "../../src/weights/read/package.ts";
import { MemorySink, MemorySource } from "../../src/weights/read/sources.ts";
import { HttpSource } from "../helpers/reads.ts";
import { writePackage } from "../../src/weights/convert/writer.ts";

export type FixtureName = "tiny" | "trees";

export async function fixtureFiles(name: FixtureName): Promise<CheckpointFiles & { safetensors: Uint8Array }> {
  const safetensors = await fixtureBytes(`reference/${name}/model.safetensors`);
  return {
    config: await fixtureBytes(`reference/${name}/config.json`),
    tokenizer: await fixtureBytes(`reference/${name}/tokenizer.json`),
    weights: new MemorySource(safetensors, `${name}/model.safetensors`),
    safetensors,
  };
}

/** A ranged source over the FIXTURES disk service (Range requests → 206). */
export function fixtureSource(path: string, size?: number): HttpSource {
  return new HttpSource((r) => env.FIXTURES.fetch(r), `http://fixtures/${path}`, { size });
}

export interface BuiltPackage {
  manifest: Manifest;
  manifestText: string;
  weights: Uint8Array;
  tokenizer: Uint8Array;
}

export async function buildPackage(files: CheckpointFiles, dtype: Dtype, options: { tileDepth?: number; rowsPerBlock?: number } = {}): Promise<BuiltPackage> {
  const ckpt = await loadCheckpoint(files);
  const sink = new MemorySink();
  const manifest = await writePackage(ckpt, sink, { dtype, ...options });
  return { manifest, manifestText: JSON.stringify(manifest), weights: sink.bytes(), tokenizer: files.tokenizer };
}

export function openBuilt(p: BuiltPackage, overrides: { weights?: Uint8Array; tokenizer?: Uint8Array; manifest?: string; maxGap?: number } = {}): Promise<WeightPackage> {
  const tokenizer = overrides.tokenizer ?? p.tokenizer;
  return WeightPackage.open({
    manifest: overrides.manifest ?? p.manifestText,
    tokenizer: async () => tokenizer,
    weights: new MemorySource(overrides.weights ?? p.weights, "weights.bin"),
    maxGap: overrides.maxGap,
  });
}
