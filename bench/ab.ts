/**
 * Before/after of two kernel builds in one process, alternating sample by sample (the perf notes' A/B
 * figures). Build the "before" kernels from an older commit into a file first, e.g.
 *   git worktree add /tmp/before <commit> && (cd /tmp/before && npm ci && npm run asbuild:simd128)
 *   npx -c 'node bench/ab.ts encoder /tmp/before/wasm/build/kernels.wasm wasm/build/kernels.wasm'
 *
 *   attention   12 heads × 64 at S = 16/64/128 (mask bias on)
 *   encoder     the synthetic 12 × 768 1x11 encoder forward at seq 16/64/128
 *   gemm-cold   linearQ8 on the encoder's own QKV weights, cycling through the 12 layers (DRAM-cold), 16 and 128 rows
 *   fff-tokens  FFF layer (q8, 768, depth 11) per token at T = 1/2/3/4/16/128
 */
import { readFileSync } from "node:fs";
import { createKernel, type Kernel } from "../src/kernel/index.ts";
import { Engine } from "../src/model/engine.ts";
import { fffRecordQ8, writeFffRecord } from "../src/weights/format/records.ts";
import { recordBytes } from "../src/weights/format/spec.ts";
import { randomIds, synthPackage } from "./encoder.ts";
import { median } from "./harness.ts";

type Step = () => void | Promise<void>;

/** Runs each build's step `reps` times per sample, builds alternating, and prints medians. */
async function compare(label: string, steps: Step[], reps: number, names: string[], unit: (ms: number) => string): Promise<void> {
  for (const s of steps) for (let i = 0; i < reps; i++) await s();
  const t: number[][] = steps.map(() => []);
  for (let r = 0; r < 21; r++) {
    for (let j = 0; j < steps.length; j++) {
      const a = performance.now();
      for (let i = 0; i < reps; i++) await steps[j]();
      t[j].push((performance.now() - a) / reps);
    }
  }
  const m = t.map(median);
  console.log(`${label}: ${names.map((n, j) => `${n} ${unit(m[j])}`).join(" | ")} | time after/before ${(m[m.length - 1] / m[0]).toFixed(3)}`);
}

async function main(argv: string[]): Promise<void> {
  const [mode, ...files] = argv;
  if (!mode || files.length < 2) throw new Error("usage: node bench/ab.ts attention|encoder|gemm-cold|fff-tokens BEFORE.wasm AFTER.wasm");
  const modules = files.map((f) => new WebAssembly.Module(readFileSync(f)));
  const names = files.map((f, i) => (i === 0 ? "before" : "after") + `(${f.split("/").slice(-2).join("/")})`);
  const ms = (v: number) => `${v.toFixed(3)} ms`;
  if (mode === "attention") {
    for (const S of [16, 64, 128]) {
      const heads = 12, d = 64, ld = 3 * heads * d;
      const steps = modules.map((mod) => {
        const k = createKernel(mod);
        const qkv = k.allocCopy(Float32Array.from({ length: S * ld }, (_, i) => Math.sin(i * 0.7) * 1.5));
        const bias = k.alloc(4 * S), out = k.alloc(4 * S * heads * d);
        return () => k.attention({ qkv, ldQkv: ld, seqLen: S, heads, headDim: d, headStride: 3 * d, qOffset: 0, kOffset: d, vOffset: 2 * d, scale: 0.125, keyBias: bias, out });
      });
      await compare(`attention S=${S}`, steps, S === 128 ? 5 : S === 64 ? 20 : 200, names, ms);
    }
  } else if (mode === "encoder" || mode === "gemm-cold") {
    const pkg = await synthPackage("ultrafastbert-1x11-12l");
    const kernels: Kernel[] = modules.map((mod) => createKernel(mod));
    const engines = await Promise.all(kernels.map((k) => Engine.create(pkg, k)));
    if (mode === "encoder") {
      for (const seq of [16, 64, 128]) {
        const ids = randomIds(seq, pkg.config.vocabSize, seq);
        await compare(`encoder seq ${seq}`, engines.map((e) => async () => void (await e.run({ sequences: [{ ids }], hidden: true }))), 1, names, ms);
      }
    } else {
      for (const M of [16, 128]) {
        const steps = kernels.map((k, j) => {
          const layers = engines[j].weights.layers;
          const x = k.allocCopy(Float32Array.from({ length: M * 768 }, (_, i) => Math.sin(i * 0.37)));
          const out = k.alloc(4 * M * 2304);
          let l = 0;
          return () => {
            const m = layers[l++ % layers.length].qkv;
            k.linearQ8({ x, rows: M, k: 768, w: m.ptr, wScales: m.scales, n: m.rows, out });
          };
        });
        const gmac = (M * 768 * 2304) / 1e6;
        await compare(`linearQ8 ${M}×768→2304, 12 layers' weights in turn`, steps, 24, names, (v) => `${(gmac / v).toFixed(1)} GMAC/s`);
      }
    }
  } else if (mode === "fff-tokens") {
    const H = 768, levels = 12, nodes = 2 ** levels - 1, T = 128;
    const setups = modules.map((mod) => {
      const k = createKernel(mod);
      let s = 11;
      const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
      const rb = recordBytes(H, "q8"), base = k.alloc(nodes * rb, 64);
      for (let n = 0; n < nodes; n++) {
        writeFffRecord(k.u8(0, k.memoryBytes), base + n * rb, fffRecordQ8(0.1 * u(), Float32Array.from({ length: H }, () => u() / 16), Float32Array.from({ length: H }, () => u() / 16)), "q8");
      }
      const table = k.alloc(4 * nodes);
      k.u32(table, nodes).set(Uint32Array.from({ length: nodes }, (_, n) => base + n * rb));
      const x = k.allocCopy(Float32Array.from({ length: T * H }, () => u() * 2)), y = k.alloc(4 * T * H);
      const paths = k.alloc(4 * T * levels), logits = k.alloc(4 * T * levels), progress = k.alloc(4 * T);
      return (t: number) => {
        k.i32(progress, t).fill(0);
        const p = k.i32(paths, t * levels);
        for (let i = 0; i < t; i++) p[i * levels] = 0;
        k.fffDescend({ x, tokens: t, hidden: H, levels, table, dtype: "q8", paths, logits, progress });
        k.fffAccumulate({ y, tokens: t, hidden: H, levels, table, dtype: "q8", paths, logits });
      };
    });
    for (const t of [1, 2, 3, 4, 16, 128]) {
      await compare(`FFF T=${t}`, setups.map((f) => () => f(t)), Math.max(4, Math.round(2000 / t)), names, (v) => `${((v * 1000) / t).toFixed(2)} µs/token`);
    }
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
