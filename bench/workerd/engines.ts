/**
 * The engines the Node/workerd comparison runs, built the same way on both sides from the package bytes:
 * "resident" (every weight in kernel memory, Engine.create) and "streamed" (openStreamed over an
 * in-memory source with the Worker's default options: block cache, read limiter, no Cache API), the
 * path a Worker request takes minus R2 and HTTP.
 */
import type { Kernel } from "../../src/kernel/index.ts";
import { Engine } from "../../src/model/engine.ts";
import { openStreamed } from "../../src/model/stores/open.ts";
import { parseManifest } from "../../src/weights/format/manifest.ts";
import { MemorySource } from "../../src/weights/read/sources.ts";
import { WeightPackage } from "../../src/weights/read/package.ts";

export interface PackageBytes {
  manifest: Uint8Array;
  tokenizer: Uint8Array;
  weights: Uint8Array;
}

export type EngineMode = "resident" | "streamed";

export const TEXT = "an absorbing, beautifully acted film whose quiet moments linger long after the credits roll and the lights come up";

export async function openEngine(files: PackageBytes, kernel: Kernel, mode: EngineMode): Promise<Engine> {
  if (mode === "resident") {
    const pkg = await WeightPackage.open({ manifest: files.manifest, tokenizer: async () => files.tokenizer, weights: new MemorySource(files.weights) });
    return Engine.create(pkg, kernel);
  }
  // src/service/options.ts DEFAULTS: 48 MiB cache, 6 reads in flight, 4 KiB gap, whole layers ≤ 2 MiB
  const streamed = await openStreamed(new MemorySource(files.weights), kernel, {
    identity: "bench@1",
    manifest: parseManifest(files.manifest),
    tokenizer: async () => files.tokenizer,
    cacheBytes: 48 * 1024 * 1024,
    maxReads: 6,
    maxGap: 4096,
    wholeLayerBytes: 2 * 1024 * 1024,
    prefetchTopTier: true,
    readTimeoutMs: 10_000,
  });
  return streamed.engine;
}

/**
 * ms per engine.classify([TEXT]) call (the Worker's /v1/classify work without HTTP): `samples` samples,
 * each the mean of `batch` back-to-back calls (workerd's performance.now() ticks in whole milliseconds).
 */
export async function timeClassify(engine: Engine, samples: number, batch: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    for (let j = 0; j < batch; j++) await engine.classify([TEXT]);
    out.push((performance.now() - t) / batch);
  }
  return out;
}

/** ms per linearQ8 128×768→2304 call (the kernel alone, no JS around it): `samples` × `batch` calls. */
export function timeGemm(kernel: Kernel, samples: number, batch: number): number[] {
  const [M, K, N] = [128, 768, 2304];
  const m = kernel.mark();
  const x = kernel.allocCopy(Float32Array.from({ length: M * K }, (_, i) => Math.sin(i * 0.37) * 2));
  const w = kernel.allocCopy(Int8Array.from({ length: N * K }, (_, i) => ((i * 7919) % 255) - 127));
  const ws = kernel.allocCopy(new Float32Array(N).fill(0.01));
  const out = kernel.alloc(4 * M * N);
  const out_: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    for (let j = 0; j < batch; j++) kernel.linearQ8({ x, rows: M, k: K, w, wScales: ws, n: N, out });
    out_.push((performance.now() - t) / batch);
  }
  kernel.release(m);
  return out_;
}
