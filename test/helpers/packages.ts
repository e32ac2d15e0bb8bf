/**
 * Packages built in memory from the reference fixtures, the way `ufb convert` builds them on disk.
 */
import kernelModule from "../../wasm/build/kernels.wasm";
import { createKernel, type Kernel } from "../../src/kernel/index.ts";
import { Engine } from "../../src/model/engine.ts";
import { type Dtype } from "../../src/weights/format/spec.ts";
import { MemorySink, MemorySource } from "../../src/weights/read/sources.ts";
import { WeightPackage } from "../../src/weights/read/package.ts";
import { loadCheckpoint } from "../../src/weights/convert/checkpoint.ts";
import { writePackage } from "../../src/weights/convert/writer.ts";
import { fixtureBytes } from "./fixtures.ts";

export interface BuiltPackage {
  pkg: WeightPackage;
  weights: Uint8Array;
  manifest: string;
  tokenizer: Uint8Array;
}

export async function buildFixturePackage(name: string, dtype: Dtype, options: { tileDepth?: number; rowsPerBlock?: number } = {}): Promise<BuiltPackage> {
  const dir = `reference/${name}`;
  const checkpoint = await loadCheckpoint(
    {
      config: await fixtureBytes(`${dir}/config.json`),
      tokenizer: await fixtureBytes(`${dir}/tokenizer.json`),
      weights: new MemorySource(await fixtureBytes(`${dir}/model.safetensors`), `${dir}/model.safetensors`),
    },
    { name },
  );
  const sink = new MemorySink();
  const manifest = JSON.stringify(await writePackage(checkpoint, sink, { dtype, createdAt: null, ...options }));
  const weights = sink.bytes();
  const pkg = await WeightPackage.open({ manifest, tokenizer: async () => checkpoint.tokenizer, weights: new MemorySource(weights, `${name}.weights.bin`) });
  return { pkg, weights, manifest, tokenizer: checkpoint.tokenizer };
}

export function newKernel(): Kernel {
  return createKernel(kernelModule);
}

export async function fixtureEngine(name: string, dtype: Dtype): Promise<Engine> {
  const { pkg } = await buildFixturePackage(name, dtype);
  return Engine.create(pkg, newKernel());
}
