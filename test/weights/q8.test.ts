import { describe, expect, it } from "vitest";
import { absMax, q8MaxError, q8Scale, quantizeMatrixQ8, quantizeQ8 } from "../../src/weights/format/q8.ts";
import { dequantizeQ8 } from "../helpers/reads.ts";

const q8 = (values: number[]) => {
  const q = new Int8Array(values.length);
  const scale = quantizeQ8(Float32Array.from(values), q);
  return { q: [...q], scale };
};

describe("q8 quantization", () => {
  it("should quantize a hand-computed row (amax 127 → scale 1, halves away from zero)", () => {
    expect(q8([127, -2.5, 2.5, 0.49, -126.6, 0])).toEqual({ q: [127, -3, 3, 0, -127, 0], scale: 1 });
  });

  it("should give scale amax/127 and map ±amax to ±127", () => {
    const { q, scale } = q8([0.5, -1.27, 0.1]);
    expect(scale).toBe(Math.fround(1.27 / 127));
    expect(q[1]).toBe(-127);
  });

  it("should give a zero scale and zeros for a zero row", () => {
    const q = new Int8Array([5, 5, 5]);
    expect(quantizeQ8(new Float32Array(3), q)).toBe(0);
    expect([...q]).toEqual([0, 0, 0]);
    expect(q8MaxError(new Float32Array(3), q, 0)).toBe(0);
  });

  it("should be symmetric: q(−w) = −q(w), never −128", () => {
    const w = Float32Array.from({ length: 257 }, (_, i) => 0.1 + 2 * Math.cos(i));
    const a = new Int8Array(w.length);
    const b = new Int8Array(w.length);
    quantizeQ8(w, a);
    quantizeQ8(w.map((x) => -x), b);
    for (let i = 0; i < w.length; i++) expect(b[i]).toBe(-a[i] || 0);
    expect(Math.min(...a, ...b)).toBe(-127);
  });

  it("should keep |w − q·scale| ≤ scale/2 for every element", () => {
    for (let offset = 0; offset < 5; offset++) {
      const w = Float32Array.from({ length: 768 }, (_, i) => 0.1 + 2 * Math.cos(i + offset) * (1 + (i % 7)));
      const q = new Int8Array(w.length);
      const scale = quantizeQ8(w, q);
      const deq = dequantizeQ8(q, scale);
      for (let i = 0; i < w.length; i++) expect(Math.abs(w[i] - deq[i])).toBeLessThanOrEqual(scale / 2 + 1e-7 * Math.abs(w[i]));
      expect(q8MaxError(w, q, scale)).toBeLessThanOrEqual(scale / 2);
      expect(q8MaxError(w, q, scale)).toBeGreaterThan(0);
    }
  });

  it("should quantize strided columns and matrices row by row", () => {
    // column 1 of a [3][2] matrix
    const m = Float32Array.from([1, 10, 2, -20, 3, 5]);
    const q = new Int8Array(3);
    const s = quantizeQ8(m, q, 0, 1, 3, 2);
    expect(s).toBe(q8Scale(20));
    expect([...q]).toEqual([64, -127, 32]); // 10/(20/127) = 63.5 → 64; 5/(20/127) = 31.75 → 32
    const r = quantizeMatrixQ8(Float32Array.from([1, -1, 0, 0, 4, 2]), 3, 2);
    expect([...r.scales]).toEqual([q8Scale(1), 0, q8Scale(4)]);
    expect([...r.q]).toEqual([127, -127, 0, 0, 127, 64]); // 2/(4/127) = 63.5 → 64
    expect(r.maxError).toBeLessThanOrEqual(q8Scale(4) / 2);
    expect(r.badRow).toBe(-1);
  });

  it("should report non-finite input as NaN (and its row)", () => {
    expect(absMax([1, NaN])).toBeNaN();
    expect(quantizeQ8(Float32Array.from([1, Infinity]), new Int8Array(2))).toBeNaN();
    expect(quantizeMatrixQ8(Float32Array.from([1, 2, 3, NaN]), 2, 2).badRow).toBe(1);
    expect(q8MaxError([1], [1], NaN)).toBeNaN();
  });
});
