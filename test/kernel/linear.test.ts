import { describe, expect, it } from "vitest";
import {
  gemmQ8I32Ref,
  linearF32Ref,
  linearQ8Float64Ref,
  linearQ8Ref,
  quantizeRowsQ8Ref,
} from "../../src/kernel/index.ts";
import { cosData, expectClose, expectEqualArrays, newKernel, randInt8, randn } from "./helpers.ts";

/** f32 linear vs float64: error grows with K and the size of the terms (|x|, |w| ≤ ~2). */
const LINEAR_F32_ABS_PER_K = 2e-7;
/** int8 linear vs float64 (no activation quantization): x rounding ≤ amax/254 per element. */
const LINEAR_Q8_REL_TO_BOUND = 1;

const k = newKernel();

// odd and even sizes, tails in every dimension, the model's shapes
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [1, 5, 3],
  [3, 3, 1],
  [2, 8, 4],
  [7, 13, 9],
  [5, 17, 6],
  [9, 33, 11],
  [16, 768, 20],
  [3, 3072, 7],
  [128, 768, 12],
];

/** Unpacks quantizeRowsQ8's row-pair layout [M/2][Kp/8][2][8] into int8 rows [M][K]. */
function unpackRowPairs(xq: Int16Array, M: number, K: number): Int8Array {
  const nc = Math.ceil(K / 8);
  const out = new Int8Array(M * K);
  for (let m = 0; m < M; m++) {
    for (let kk = 0; kk < K; kk++) out[m * K + kk] = xq[((m >> 1) * nc + (kk >> 3)) * 16 + (m & 1) * 8 + (kk & 7)];
  }
  return out;
}

describe("linearF32", () => {
  for (const [M, K, N] of SHAPES) {
    it(`should match float64 for ${M}×${K}·${N}ᵀ with and without bias`, () => {
      const x = cosData(M * K, M);
      const w = randn(N * K, M * 7 + K, 0.5);
      const b = randn(N, N, 0.3);
      for (const withBias of [true, false]) {
        const m = k.mark();
        const px = k.allocCopy(x), pw = k.allocCopy(w), pb = k.allocCopy(b), po = k.alloc(4 * M * N);
        k.linearF32({ x: px, rows: M, k: K, w: pw, n: N, bias: withBias ? pb : 0, out: po });
        const got = k.f32(po, M * N).slice();
        k.release(m);
        expectClose(got, linearF32Ref(x, M, K, w, withBias ? b : null, N), { abs: LINEAR_F32_ABS_PER_K * K + 1e-6 }, `f32 ${M}x${K}x${N}`);
      }
    });
  }
  it("should not write outside out", () => {
    const [M, K, N] = [3, 5, 5];
    const m = k.mark();
    const px = k.allocCopy(cosData(M * K)), pw = k.allocCopy(cosData(N * K, 3));
    const guard = k.alloc(4 * (M * N + 8));
    k.f32(guard, M * N + 8).fill(7);
    k.linearF32({ x: px, rows: M, k: K, w: pw, n: N, out: guard });
    expect(Array.from(k.f32(guard + 4 * M * N, 8))).toEqual(new Array(8).fill(7));
    k.release(m);
  });
});

describe("int8 activation quantization", () => {
  for (const [M, K] of [[1, 1], [3, 13], [2, 8], [5, 768], [4, 9]]) {
    it(`should equal the exact replica for ${M}×${K} (row-pair layout, zero padding)`, () => {
      const x = cosData(M * K, K).map((v, i) => (i % 11 === 0 ? v * 100 : v));
      const m = k.mark();
      const px = k.allocCopy(x);
      const xq = k.alloc(k.quantizedRowsBytes(M, K)), sx = k.alloc(4 * (M + 1));
      k.quantizeRowsQ8(px, M, K, xq, sx);
      const q = k.i16(xq, k.quantizedRowsBytes(M, K) / 2).slice();
      const scales = k.f32(sx, M).slice();
      k.release(m);
      const ref = quantizeRowsQ8Ref(x, M, K);
      expectEqualArrays(unpackRowPairs(q, M, K), ref.q, "q");
      expectEqualArrays(scales, ref.scale, "scales");
      // padding (K..Kp and the partner of an odd last row) is zero, every value in [-127, 127]
      const nc = Math.ceil(K / 8);
      for (let g = 0; g < Math.ceil(M / 2); g++) {
        for (let r = 0; r < 2; r++) {
          for (let kk = 0; kk < nc * 8; kk++) {
            const v = q[(g * nc + (kk >> 3)) * 16 + r * 8 + (kk & 7)];
            expect(Math.abs(v)).toBeLessThanOrEqual(127);
            if (kk >= K || 2 * g + r >= M) expect(v).toBe(0);
          }
        }
      }
    });
  }
  it("should round half to even and map a zero row to zeros", () => {
    // amax 127 → inv 1: values land exactly on .5
    const x = Float32Array.of(0.5, 1.5, 2.5, -0.5, -1.5, 127, -3.5, 4.5, 0, 0, 0, 0, 0, 0, 0, 0);
    const m = k.mark();
    const px = k.allocCopy(x), xq = k.alloc(k.quantizedRowsBytes(2, 8)), sx = k.alloc(12);
    k.quantizeRowsQ8(px, 2, 8, xq, sx);
    expect(Array.from(k.i16(xq, 16))).toEqual([0, 2, 2, 0, -2, 127, -4, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(k.f32(sx, 2)[1]).toBe(0);
    k.release(m);
  });
});

describe("int8 GEMM", () => {
  for (const [M, K, N] of SHAPES) {
    it(`should give the exact int32 result for ${M}×${K}·${N}ᵀ`, () => {
      const x = randn(M * K, M * 3 + K + N);
      const w = randInt8(N * K, K * 5 + N);
      const m = k.mark();
      const px = k.allocCopy(x), pw = k.allocCopy(w);
      const xq = k.alloc(k.quantizedRowsBytes(M, K)), sx = k.alloc(4 * (M + 1)), po = k.alloc(4 * M * N);
      k.quantizeRowsQ8(px, M, K, xq, sx);
      const q = unpackRowPairs(k.i16(xq, k.quantizedRowsBytes(M, K) / 2), M, K);
      k.gemmQ8I32(xq, M, K, pw, N, po);
      const got = k.i32(po, M * N).slice();
      k.release(m);
      expectEqualArrays(got, gemmQ8I32Ref(q, M, K, w, N), "int32");
    });
  }
  it("should stay exact at the extremes (all ±127, K = 3072)", () => {
    const [M, K, N] = [3, 3072, 5];
    const x = Float32Array.from({ length: M * K }, (_, i) => (i % 2 ? 1 : -1) * (i % 5 === 0 ? -1 : 1));
    const w = Int8Array.from({ length: N * K }, (_, i) => (i % 3 === 0 ? -127 : 127));
    const m = k.mark();
    const px = k.allocCopy(x), pw = k.allocCopy(w);
    const xq = k.alloc(k.quantizedRowsBytes(M, K)), sx = k.alloc(4 * (M + 1)), po = k.alloc(4 * M * N);
    k.quantizeRowsQ8(px, M, K, xq, sx);
    const q = unpackRowPairs(k.i16(xq, k.quantizedRowsBytes(M, K) / 2), M, K);
    k.gemmQ8I32(xq, M, K, pw, N, po);
    expectEqualArrays(k.i32(po, M * N), gemmQ8I32Ref(q, M, K, w, N), "int32 extremes");
    k.release(m);
  });
});

describe("linearQ8", () => {
  for (const [M, K, N] of SHAPES) {
    it(`should equal the exact f32 replica and be close to float64 for ${M}×${K}·${N}ᵀ`, () => {
      const x = cosData(M * K, N);
      const w = randInt8(N * K, M + K + N);
      const ws = Float32Array.from({ length: N }, (_, i) => 0.001 * (1 + (i % 7)));
      const b = randn(N, 99, 0.1);
      for (const withBias of [true, false]) {
        const m = k.mark();
        const px = k.allocCopy(x), pw = k.allocCopy(w), pws = k.allocCopy(ws), pb = k.allocCopy(b), po = k.alloc(4 * M * N);
        k.linearQ8({ x: px, rows: M, k: K, w: pw, wScales: pws, n: N, bias: withBias ? pb : 0, out: po });
        const got = k.f32(po, M * N).slice();
        k.release(m);
        const bias = withBias ? b : null;
        expectEqualArrays(got, linearQ8Ref(x, M, K, w, ws, bias, N), "f32 replica");
        // vs float64 without activation quantization: |err| ≤ (amax/254)·Σ|w·ws| per output
        const want = linearQ8Float64Ref(x, M, K, w, ws, bias, N);
        for (let r = 0; r < M; r++) {
          let amax = 0;
          for (let i = 0; i < K; i++) amax = Math.max(amax, Math.abs(x[r * K + i]));
          for (let n = 0; n < N; n++) {
            let l1 = 0;
            for (let i = 0; i < K; i++) l1 += Math.abs(w[n * K + i] * ws[n]);
            const bound = LINEAR_Q8_REL_TO_BOUND * (amax / 254) * l1 + 1e-6 * (1 + Math.abs(want[r * N + n]));
            expect(Math.abs(got[r * N + n] - want[r * N + n])).toBeLessThanOrEqual(bound);
          }
        }
      }
    });
  }
});
