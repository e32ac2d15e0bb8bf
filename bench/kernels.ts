/**
 * Kernel benchmark suites (single thread, Node 24, the same wasm module the Worker bundles).
 * Shapes are BERT-base's at 128 tokens: QKV 768→2304, FF 768→3072→768, 12 heads × 64.
 */
import { readFileSync } from "node:fs";
import type { Kernel } from "../src/kernel/index.ts";
import { fffRecordQ8, writeFffRecord } from "../src/weights/format/records.ts";
import { recordBytes } from "../src/weights/format/spec.ts";
import { measurePair, registerSuite, type SuiteContext } from "./harness.ts";
import { gaussian } from "../src/cli/random.ts";
import { loadKernel } from "./wasm.node.ts";

const MiB = 1024 * 1024;

function randnInto(k: Kernel, n: number, seed: number, scale = 1): number {
  const g = gaussian(seed);
  return k.allocCopy(Float32Array.from({ length: n }, () => g() * scale));
}

function randInt8Into(k: Kernel, n: number, seed: number): number {
  const g = gaussian(seed);
  return k.allocCopy(Int8Array.from({ length: n }, () => Math.max(-127, Math.min(127, Math.round(g() * 40)))));
}

registerSuite("kernels.gemm", (ctx: SuiteContext) => {
  const k = loadKernel();
  for (const [M, K, N, label] of [
    [128, 768, 2304, "QKV"],
    [128, 768, 3072, "FF in"],
    [128, 3072, 768, "FF out"],
    [16, 768, 2304, "QKV, 16 tokens"],
  ] as const) {
    const mark = k.mark();
    const x = randnInto(k, M * K, M + K + N);
    const w = randInt8Into(k, N * K, N);
    const ws = k.allocCopy(new Float32Array(N).fill(0.01));
    const bias = randnInto(k, N, 3, 0.1);
    const out = k.alloc(4 * M * N);
    const gmac = (M * K * N) / 1e9;
    const t = ctx.time(() => k.linearQ8({ x, rows: M, k: K, w, wScales: ws, n: N, bias, out }));
    ctx.recordRate(`linearQ8 ${M}×${K}→${N} (${label}), incl. activation quantization`, "GMAC/s", gmac, t);
    // the integer GEMM alone, on pre-quantized activations
    const xq = k.alloc(k.quantizedRowsBytes(M, K)), sx = k.alloc(4 * (M + 1)), oi = k.alloc(4 * M * N);
    k.quantizeRowsQ8(x, M, K, xq, sx);
    const ti = ctx.time(() => k.gemmQ8I32(xq, M, K, w, N, oi));
    ctx.recordRate(`gemmQ8I32 ${M}×${K}→${N} (${label})`, "GMAC/s", gmac, ti);
    k.release(mark);
  }
});

/** The two kernel builds' linearQ8 alternating sample by sample (same data, one process). */
registerSuite("kernels.builds", (ctx: SuiteContext) => {
  const ks = { simd: loadKernel(undefined, "simd128"), relaxed: loadKernel(undefined, "relaxed-simd") };
  for (const [M, K, N] of [[128, 768, 2304], [128, 768, 3072], [128, 3072, 768], [16, 768, 2304]] as const) {
    const run = (k: Kernel) => {
      const x = randnInto(k, M * K, M + K + N), w = randInt8Into(k, N * K, N);
      const ws = k.allocCopy(new Float32Array(N).fill(0.01)), out = k.alloc(4 * M * N);
      return () => k.linearQ8({ x, rows: M, k: K, w, wScales: ws, n: N, out });
    };
    const marks = [ks.simd.mark(), ks.relaxed.mark()];
    const r = measurePair(run(ks.simd), run(ks.relaxed), { runs: ctx.quick ? 5 : 21, warmupMs: ctx.quick ? 50 : 300 }, ctx.quick);
    const gmac = (M * K * N) / 1e9;
    ctx.recordRate(`linearQ8 ${M}×${K}→${N}, SIMD128 build (alternating)`, "GMAC/s", gmac, r.a);
    ctx.recordRate(`linearQ8 ${M}×${K}→${N}, relaxed-SIMD build (alternating)`, "GMAC/s", gmac, r.b);
    ctx.record({ name: `relaxed-build speed ÷ SIMD128 speed ${M}×${K}→${N} (per-pair)`, unit: "x", median: r.ratio.median, min: r.ratio.min, max: r.ratio.max, runs: r.ratio.samples.length });
    ks.simd.release(marks[0]);
    ks.relaxed.release(marks[1]);
  }
});

registerSuite("kernels.f32", (ctx: SuiteContext) => {
  const k = loadKernel();
  for (const [M, K, N] of [[128, 768, 768], [128, 768, 3072]] as const) {
    const mark = k.mark();
    const x = randnInto(k, M * K, 1), w = randnInto(k, N * K, 2, 0.03), b = randnInto(k, N, 3), out = k.alloc(4 * M * N);
    const t = ctx.time(() => k.linearF32({ x, rows: M, k: K, w, n: N, bias: b, out }));
    ctx.recordRate(`linearF32 ${M}×${K}→${N}`, "GMAC/s", (M * K * N) / 1e9, t);
    k.release(mark);
  }
  const mark = k.mark();
  const [T, H, I] = [128, 768, 3072];
  const x = randnInto(k, T * I, 4), g = k.allocCopy(new Float32Array(H).fill(1)), bt = k.alloc(4 * H), y = k.alloc(4 * T * H);
  ctx.recordTime(`layerNorm ${T}×${H}`, ctx.time(() => k.layerNorm(x, y, g, bt, T, H, 1e-12)), "us");
  const h = k.alloc(4 * T * I);
  const src = k.f32(x, T * I).slice();
  ctx.recordTime(`GELU (exact erf) ${T}×${I}`, ctx.time(() => {
    k.f32(h, T * I).set(src); // fresh inputs each call (GELU is in place)
    k.gelu(h, T * I);
  }), "us");
  ctx.recordTime(`(copy of ${T}×${I} floats, included above)`, ctx.time(() => k.f32(h, T * I).set(src)), "us");
  k.release(mark);
});

registerSuite("kernels.attention", (ctx: SuiteContext) => {
  const k = loadKernel();
  const [heads, d] = [12, 64];
  for (const S of [16, 64, 128]) {
    const mark = k.mark();
    const ld = 3 * heads * d;
    const qkv = randnInto(k, S * ld, S);
    const bias = k.alloc(4 * S);
    const out = k.alloc(4 * S * heads * d);
    const t = ctx.time(() =>
      k.attention({ qkv, ldQkv: ld, seqLen: S, heads, headDim: d, headStride: 3 * d, qOffset: 0, kOffset: d, vOffset: 2 * d, scale: 0.125, keyBias: bias, out }));
    ctx.recordTime(`attention S=${S}, ${heads}×${d} (mask bias on)`, t, "ms");
    ctx.recordRate(`attention S=${S} rate (2·S²·${d}·${heads} MAC)`, "GMAC/s", (2 * S * S * d * heads) / 1e9, t);
    k.release(mark);
  }
});

registerSuite("kernels.fff", (ctx: SuiteContext) => {
  const k = loadKernel();
  const [T, H, levels, I] = [128, 768, 12, 3072];
  const nodes = 2 ** levels - 1;
  // one tree, depth 11, q8 records with random weights ~N(0, 1/√H) and small biases (both children occur)
  const g = gaussian(11);
  const rb = recordBytes(H, "q8");
  const base = k.alloc(nodes * rb, 64);
  const s = 1 / Math.sqrt(H);
  for (let n = 0; n < nodes; n++) {
    const wIn = Float32Array.from({ length: H }, () => g() * s);
    const wOut = Float32Array.from({ length: H }, () => g() * s);
    writeFffRecord(k.u8(0, k.memoryBytes), base + n * rb, fffRecordQ8(0.1 * g(), wIn, wOut), "q8");
  }
  const table = k.alloc(4 * nodes);
  k.u32(table, nodes).set(Uint32Array.from({ length: nodes }, (_, n) => base + n * rb));
  // four input batches, cycled, so consecutive calls walk different paths
  const xs = [0, 1, 2, 3].map((i) => randnInto(k, T * H, 100 + i));
  const y = k.alloc(4 * T * H);
  const paths = k.alloc(4 * T * levels), logits = k.alloc(4 * T * levels), progress = k.alloc(4 * T);
  let call = 0;
  const fff = () => {
    const x = xs[call++ & 3];
    k.i32(progress, T).fill(0);
    const p = k.i32(paths, T * levels);
    for (let t = 0; t < T; t++) p[t * levels] = 0;
    const blocked = k.fffDescend({ x, tokens: T, hidden: H, levels, table, dtype: "q8", paths, logits, progress });
    if (blocked) throw new Error(`fff bench: ${blocked} tokens blocked`);
    k.fffAccumulate({ y, tokens: T, hidden: H, levels, table, dtype: "q8", paths, logits });
  };
  // spread of the paths
  fff();
  const leaves = new Set<number>();
  const pv = k.i32(paths, T * levels);
  for (let t = 0; t < T; t++) leaves.add(pv[t * levels + levels - 1]);
  ctx.log(`${leaves.size} distinct leaves for ${T} tokens`);

  // the dense int8 FF 768→3072→768 on the same tokens: GEMM (incl. activation quantization), GELU, GEMM
  const w1 = randInt8Into(k, I * H, 21), s1 = k.allocCopy(new Float32Array(I).fill(0.002)), b1 = randnInto(k, I, 22, 0.1);
  const w2 = randInt8Into(k, H * I, 23), s2 = k.allocCopy(new Float32Array(H).fill(0.002)), b2 = randnInto(k, H, 24, 0.1);
  const hid = k.alloc(4 * T * I), out = k.alloc(4 * T * H);
  const dense = () => {
    const x = xs[call++ & 3];
    k.linearQ8({ x, rows: T, k: H, w: w1, wScales: s1, n: I, bias: b1, out: hid });
    k.gelu(hid, T * I);
    k.linearQ8({ x: hid, rows: T, k: I, w: w2, wScales: s2, n: H, bias: b2, out });
  };
  // parts of the FFF layer, for the perf notes
  const xq = k.alloc(2 * T * H), sx = k.alloc(4 * T);
  ctx.recordTime("FFF part: 14-bit quantization of x (128×768)", ctx.time(() => k.fffQuantizeX(xs[0], T, H, xq, sx)), "us");
  const descendOnly = () => {
    k.i32(progress, T).fill(0);
    const p = k.i32(paths, T * levels);
    for (let t = 0; t < T; t++) p[t * levels] = 0;
    k.fffDescend({ x: xs[call++ & 3], tokens: T, hidden: H, levels, table, dtype: "q8", paths, logits, progress });
  };
  ctx.recordTime("FFF part: descend (incl. quantization)", ctx.time(descendOnly), "us");
  ctx.recordTime("FFF part: accumulate", ctx.time(() => k.fffAccumulate({ y, tokens: T, hidden: H, levels, table, dtype: "q8", paths, logits })), "us");

  // the FFF alone, back to back: its records stay warm in L2/L3 (best case)
  const warm = ctx.time(fff, { batch: 16 });
  ctx.recordTime("FFF layer, back to back (records warm in L2/L3)", warm, "us");
  // one token (the "not slower per token at 1 token"), back to back like the line above
  const one = ctx.time(() => {
    const x = xs[call++ & 3];
    k.i32(progress, 1)[0] = 0;
    k.i32(paths, levels)[0] = 0;
    k.fffDescend({ x, tokens: 1, hidden: H, levels, table, dtype: "q8", paths, logits, progress });
    k.fffAccumulate({ y, tokens: 1, hidden: H, levels, table, dtype: "q8", paths, logits });
  });
  ctx.recordTime("FFF layer per token at 1 token (back to back)", one, "us");
  ctx.record({ name: "FFF per-token cost, 1 token ÷ 128 tokens (back to back medians)", unit: "x", median: one.median / (warm.median / T), min: one.min / (warm.max / T), max: one.max / (warm.min / T), runs: Math.min(one.samples.length, warm.samples.length) });
  const r = measurePairQuick(ctx, dense, fff);
  ctx.recordTime(`dense int8 FF ${H}→${I}→${H}, ${T} tokens`, r.a, "ms");
  ctx.recordTime(`FFF layer 1×11 (q8, ${T} tokens, all resident), alternating with the dense FF`, r.b, "us");
  ctx.record({ name: "FFF speedup vs dense int8 FF (same loop, per-pair ratio)", unit: "x", median: r.ratio.median, min: r.ratio.min, max: r.ratio.max, runs: r.ratio.samples.length });
  ctx.record({ name: "FFF speedup if the records were warm (dense median / back-to-back FFF median)", unit: "x", median: r.a.median / warm.median, min: r.a.min / warm.max, max: r.a.max / warm.min, runs: Math.min(r.a.samples.length, warm.samples.length) });
  ctx.recordRate("dense int8 FF effective rate", "GMAC/s", (2 * T * H * I) / 1e9, r.a);
  ctx.recordRate("FFF effective rate (2·12·768 MAC per token)", "GMAC/s", (2 * T * levels * H) / 1e9, r.b);
  ctx.record({ name: "wasm memory high-water (FFF tree + dense FF weights + buffers)", unit: "MiB", median: k.highWaterBytes / MiB, min: k.highWaterBytes / MiB, max: k.highWaterBytes / MiB, runs: 1 });
  ctx.record({ name: "wasm memory size", unit: "MiB", median: k.memoryBytes / MiB, min: k.memoryBytes / MiB, max: k.memoryBytes / MiB, runs: 1 });
});

/** dense and FFF alternate sample by sample: load drift hits both, the ratio is per pair. */
function measurePairQuick(ctx: SuiteContext, a: () => void, b: () => void) {
  return measurePair(a, b, { runs: ctx.quick ? 5 : 21, batchA: 1, batchB: 16, warmupMs: ctx.quick ? 100 : 500 }, ctx.quick);
}

/**
 * Ceilings of the kernels' instruction mixes (wasm/roofline.ts, operands in L1): the roofline that the
 * GEMM, attention and FFF figures are read against (docs/perf-notes.md §R).
 */
registerSuite("kernels.roofline", (ctx: SuiteContext) => {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 64 });
  const bytes = readFileSync(new URL("../wasm/build/roofline.wasm", import.meta.url));
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, abort() {} } }).exports as Record<string, (...a: number[]) => number>;
  // x at 4 KiB, w at 16 KiB, all 0.5f: bytes 0x00 and 0x3f, so every relaxed operand is in [0, 127], and
  // normal floats (denormals would measure the CPU's microcode assists)
  new Float32Array(memory.buffer, 4096, 6144).fill(0.5);
  const n = 96; // chunks per pass: 3–6 KiB of x and 6 KiB of w, L1-resident
  const reps = 2000;
  const probes: [string, () => number, number][] = [
    ["SIMD128 GEMM tile 2×4 (pmaddwd + paddd + loads)", () => ex.probeGemmSimd128(4096, 16384, n, reps), 64],
    ["relaxed dot tile 2×4, one dot per 16 MAC (7-bit activations)", () => ex.probeGemmRelaxedOneDot(4096, 16384, n, reps), 128],
    ["relaxed dot tile 2×4, exact 8-bit (two dots per 16 MAC, the relaxed build)", () => ex.probeGemmRelaxedExact(4096, 16384, n, reps), 128],
    ["i16 relaxed dot + i16 add tile 2×4 (small operands only)", () => ex.probeGemmRelaxedI16(4096, 16384, n, reps), 128],
    ["f32 tile 4×8, mul + add (attention, linearF32)", () => ex.probeF32Tile(4096, 16384, n, reps), 32],
  ];
  for (const [name, fn, macPerChunk] of probes) {
    const t = ctx.time(() => void fn(), { runs: ctx.quick ? 5 : 15, batch: 1 });
    ctx.recordRate(`roofline: ${name}`, "GMAC/s", (macPerChunk * n * reps) / 1e9, t);
  }
});
