/**
 * The same engine work in Node and in workerd (issue 13 item 5): the default model classifying one text
 * (20 tokens), resident and streamed (bench/workerd/engines.ts), one engine in this process and one in a
 * local workerd (Miniflare, the wrangler in the tree), rounds alternating between the two so that
 * machine load hits both alike. workerd gets the worker the way
 * wrangler bundles it: esbuild, the kernels as CompiledWasm modules, weights as data bindings.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { openEngine, timeClassify, timeGemm } from "./workerd/engines.ts";
import { type SuiteContext, registerSuite, summarize } from "./harness.ts";
import { loadKernel } from "./wasm.node.ts";

const ROOT = new URL("../", import.meta.url).pathname;

registerSuite("encoder.workerd", async (ctx: SuiteContext) => {
  const model = /^\s*MODEL\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))?.[1];
  const dir = model && join(ROOT, "weights", model);
  if (!dir || !existsSync(join(dir, "manifest.json"))) {
    ctx.log(`  skipped: no package for MODEL=${model} in weights/`);
    return;
  }
  const files = { manifest: readFileSync(join(dir, "manifest.json")), tokenizer: readFileSync(join(dir, "tokenizer.json")), weights: readFileSync(join(dir, "weights.bin")) };
  const bundle = await build({
    entryPoints: [join(ROOT, "bench/workerd/entry.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    external: ["*.wasm"],
    conditions: ["workerd", "worker", "browser"],
  });
  const ab = (b: Buffer) => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) as Uint8Array<ArrayBuffer>;
  // Miniflare 5 takes its v4-style options through convertV4MiniflareOptions (edge-stack.md §3)
  const mf = new Miniflare(convertV4MiniflareOptions({
    workers: [{
      name: "bench",
      modules: [
        { type: "ESModule", path: "entry.mjs", contents: bundle.outputFiles[0].text },
        { type: "CompiledWasm", path: "kernels.wasm", contents: ab(readFileSync(join(ROOT, "wasm/build/kernels.wasm"))) },
      ],
      compatibilityDate: "2026-11-01",
      compatibilityFlags: ["nodejs_compat"],
      dataBlobBindings: { MANIFEST: ab(files.manifest), TOKENIZER: ab(files.tokenizer), WEIGHTS_BIN: ab(files.weights) },
    }],
  }));
  try {
    // a round: `perRound` samples of `batch` calls on each side; rounds alternate Node, workerd, …
    const perRound = ctx.quick ? 2 : 4;
    const batch = 25;
    const rounds = ctx.quick ? 3 : 8;
    for (const mode of ["gemm", "resident", "streamed"] as const) {
      const node = mode === "gemm" ? undefined : await openEngine({ manifest: files.manifest, tokenizer: files.tokenizer, weights: files.weights }, loadKernel(), mode);
      const gemmKernel = loadKernel();
      const inNode = (samples: number) => (node ? timeClassify(node, samples, batch) : Promise.resolve(timeGemm(gemmKernel, samples, batch)));
      const inWorkerd = async (samples: number) => ((await (await mf.dispatchFetch(`http://bench/?samples=${samples}&batch=${batch}&mode=${mode}`)).json()) as { samples: number[] }).samples;
      // warm-up: both JITs tier up (the first workerd call also builds its engine)
      await inWorkerd(4);
      await inNode(4);
      const w: number[] = [], n: number[] = [], ratio: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const a = await inNode(perRound);
        const b = await inWorkerd(perRound);
        n.push(...a);
        w.push(...b);
        ratio.push(summarize(b).median / summarize(a).median);
      }
      const what = mode === "gemm" ? "linearQ8 128×768→2304 (kernel alone)" : `default model ${model}, classify 1 text (20 tokens), ${mode}`;
      ctx.recordTime(`${what}, Node (mean of ${batch} per sample)`, summarize(n), "ms");
      ctx.recordTime(`${what}, workerd (mean of ${batch} per sample)`, summarize(w), "ms");
      const q = summarize(ratio);
      ctx.record({ name: `workerd ÷ Node, ${mode} (per round of medians, rounds alternating)`, unit: "x", median: q.median, min: q.min, max: q.max, runs: ratio.length });
    }
  } finally {
    await mf.dispose();
  }
});
