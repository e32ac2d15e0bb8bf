/**
 * The relaxed-SIMD build (wasm/build/kernels-relaxed.wasm) against the SIMD128 build: feature detection,
 * and bit-identical outputs of every path that differs between them (the int8 GEMM) on random shapes,
 * extremes and the parity fixtures end to end (hidden states, MLM logits, FFF paths). Runs in workerd.
 */
import { describe, expect, it } from "vitest";
import simd128 from "../../wasm/build/kernels.wasm";
import relaxed from "../../wasm/build/kernels-relaxed.wasm";
import { chooseKernelModule, createKernel, relaxedSimdSupported, type Kernel } from "../../src/kernel/index.ts";
import { Engine, type Sequence } from "../../src/model/engine.ts";
import { buildFixturePackage } from "../helpers/packages.ts";
import { fixtureJson } from "../helpers/fixtures.ts";
import { expectEqualArrays, randInt8, randn, rng } from "./helpers.ts";

describe("kernel build selection", () => {
  it("should detect relaxed SIMD in workerd and report each instance's build", () => {
    expect(relaxedSimdSupported()).toBe(true);
    expect(createKernel(simd128).build).toBe("simd128");
    expect(createKernel(relaxed).build).toBe("relaxed-simd");
  });
  it("should pick the relaxed build for auto and relaxed-simd, SIMD128 when asked or when it is missing", () => {
    expect(chooseKernelModule({ simd128, relaxed }, "auto")).toEqual({ build: "relaxed-simd", module: relaxed });
    expect(chooseKernelModule({ simd128, relaxed }, "relaxed-simd").build).toBe("relaxed-simd");
    expect(chooseKernelModule({ simd128, relaxed }, "simd128")).toEqual({ build: "simd128", module: simd128 });
    expect(chooseKernelModule({ simd128 }, "relaxed-simd")).toEqual({ build: "simd128", module: simd128 });
  });
});

/** Runs fn on a fresh instance of each build and returns both results. */
function both<T>(fn: (k: Kernel) => T): [T, T] {
  return [fn(createKernel(simd128)), fn(createKernel(relaxed))];
}

const ks: [Kernel, Kernel] = [createKernel(simd128), createKernel(relaxed)];

function linearQ8Bytes(k: Kernel, x: Float32Array, w: Int8Array, ws: Float32Array, b: Float32Array | null, M: number, K: number, N: number): Uint8Array {
  const m = k.mark();
  const px = k.allocCopy(x), pw = k.allocCopy(w), pws = k.allocCopy(ws), pb = b ? k.allocCopy(b) : 0, po = k.alloc(4 * M * N + 16);
  k.f32(po, M * N + 4).fill(7); // guard past the end
  k.linearQ8({ x: px, rows: M, k: K, w: pw, wScales: pws, n: N, bias: pb, out: po });
  const out = k.u8(po, 4 * M * N + 16).slice();
  k.release(m);
  return out;
}

function gemmI32(k: Kernel, x: Float32Array, w: Int8Array, M: number, K: number, N: number): Int32Array {
  const m = k.mark();
  const px = k.allocCopy(x), pw = k.allocCopy(w);
  const xq = k.alloc(k.quantizedRowsBytes(M, K)), sx = k.alloc(4 * (M + 1)), po = k.alloc(4 * M * N);
  k.quantizeRowsQ8(px, M, K, xq, sx);
  k.gemmQ8I32(xq, M, K, pw, N, po);
  const out = k.i32(po, M * N).slice();
  k.release(m);
  return out;
}

describe("relaxed int8 GEMM = SIMD128 int8 GEMM, bit for bit", () => {
  // every tail: odd M, K % 16 ∈ {1, 7, 8, 15}, N % 4 ≠ 0, and the bench shapes' K
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 7, 5], [2, 16, 4], [5, 17, 3], [4, 31, 9], [7, 40, 6], [1, 768, 13], [9, 768, 64], [6, 3072, 7], [17, 135, 33]];
  const r = rng(1313);
  for (let i = 0; i < 6; i++) shapes.push([1 + Math.floor(r() * 20), 1 + Math.floor(r() * 300), 1 + Math.floor(r() * 40)]);
  for (const [M, K, N] of shapes) {
    it(`linearQ8 and gemmQ8I32 ${M}×${K}·${N}ᵀ`, () => {
      // heavy-tailed activations: some rows carry outliers, so q spans the full [−127, 127]
      const x = randn(M * K, M * 31 + K + N).map((v, i) => (i % 13 === 0 ? v * 40 : v));
      const w = randInt8(N * K, K * 3 + N);
      const ws = Float32Array.from({ length: N }, (_, i) => 0.001 * (1 + (i % 5)));
      const b = randn(N, 5, 0.1);
      for (const bias of [b, null]) {
        const [a, c] = ks.map((k) => linearQ8Bytes(k, x, w, ws, bias, M, K, N));
        expectEqualArrays(c, a, "linearQ8 bytes");
      }
      const [ia, ic] = ks.map((k) => gemmI32(k, x, w, M, K, N));
      expectEqualArrays(ic, ia, "gemmQ8I32");
    });
  }
  it("stays exact at the extremes (q and w all ±127, K = 3072)", () => {
    const [M, K, N] = [3, 3072, 5];
    const x = Float32Array.from({ length: M * K }, (_, i) => (i % 2 ? 1 : -1) * (i % 5 === 0 ? -1 : 1));
    for (const w of [new Int8Array(N * K).fill(127), new Int8Array(N * K).fill(-127), Int8Array.from({ length: N * K }, (_, i) => (i % 3 === 0 ? -127 : 127))]) {
      const [ia, ic] = ks.map((k) => gemmI32(k, x, w, M, K, N));
      expectEqualArrays(ic, ia, "gemmQ8I32 extremes");
    }
  });
});

interface Case {
  name: string;
  input_ids: number[][];
  attention_mask: number[][] | null;
  mlm_positions: [number, number][];
}

describe("relaxed build = SIMD128 build on the parity fixtures", () => {
  for (const fixture of ["tiny", "trees"]) {
    for (const dtype of ["q8", "f32"] as const) {
      it(`${fixture} ${dtype}: hidden states, MLM logits and FFF paths identical`, async () => {
        const { pkg } = await buildFixturePackage(fixture, dtype);
        const expected = await fixtureJson<{ cases: Case[] }>(`reference/${fixture}/expected.json`);
        const [e1, e2] = await Promise.all(both((k) => Engine.create(pkg, k)));
        for (const c of expected.cases) {
          const sequences: Sequence[] = c.input_ids.map((ids, b) => ({ ids, mask: c.attention_mask?.[b] }));
          const [o1, o2] = await Promise.all([e1, e2].map((e) => e.run({ sequences, hidden: true, paths: true, mlmPositions: c.mlm_positions })));
          o1.hidden!.forEach((h, b) => expectEqualArrays(o2.hidden![b], h, `${c.name} hidden ${b}`));
          o1.mlm!.forEach((l, i) => expectEqualArrays(o2.mlm![i], l, `${c.name} mlm ${i}`));
          expect(o2.paths).toEqual(o1.paths);
        }
      });
    }
  }
});
