/**
 * Benchmark Worker (bench/workerd.ts bundles it with esbuild and runs it in workerd through Miniflare):
 * the default model's classify on one text, timed inside the isolate with performance.now() (local
 * workerd advances its timers during CPU work; production does not, edge-stack.md §6.3).
 * GET /?samples=N&batch=B&mode=resident|streamed|gemm → { samples: ms per call[] } (gemm: the kernel alone).
 */
import simd128 from "./kernels.wasm";
import { createKernel, type Kernel } from "../../src/kernel/index.ts";
import type { Engine } from "../../src/model/engine.ts";
import { type EngineMode, openEngine, timeClassify, timeGemm } from "./engines.ts";

interface BenchEnv {
  MANIFEST: ArrayBuffer;
  TOKENIZER: ArrayBuffer;
  WEIGHTS_BIN: ArrayBuffer;
}

const engines = new Map<string, Promise<Engine>>();
let gemmKernel: Kernel | undefined;

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(request.url);
    const samples = Number(url.searchParams.get("samples") ?? "5");
    const batch = Number(url.searchParams.get("batch") ?? "20");
    const mode = (url.searchParams.get("mode") ?? "resident") as EngineMode | "gemm";
    if (mode === "gemm") return Response.json({ samples: timeGemm((gemmKernel ??= createKernel(simd128)), samples, batch) });
    let e = engines.get(mode);
    if (!e) {
      const files = { manifest: new Uint8Array(env.MANIFEST), tokenizer: new Uint8Array(env.TOKENIZER), weights: new Uint8Array(env.WEIGHTS_BIN) };
      engines.set(mode, (e = openEngine(files, createKernel(simd128), mode)));
    }
    return Response.json({ samples: await timeClassify(await e, samples, batch) });
  },
};
