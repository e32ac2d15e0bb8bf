import { describe, expect, it } from "vitest";
import {
  addRef,
  erf64,
  erfc64,
  erfRef,
  expRef,
  gelu64,
  geluRef,
  layerNormRef,
  softmaxRowsRef,
  tanhRef,
} from "../../src/kernel/index.ts";
import { cosData, expectClose, newKernel, randn } from "./helpers.ts";

// Named tolerances (float32 ulp at 1 is 1.19e-7).
const ERF_REL = 2.4e-7; // 2 ulp
const ERF_ABS = 1e-37; // only matters at 0
const EXP_REL = 2.4e-7;
const TANH_REL = 3.6e-7; // 3 ulp
/**
 * GELU vs the exact function at the same f32 argument z·fround(1/√2) (what PyTorch evaluates):
 * 2 ulp where fdlibm's erf rational is used (z ≥ −1.19, and all z ≥ 0), 9 ulp on (−4, −1.19) where the
 * one-piece erfc (fractional error 1.2e-7 before f32 rounding) is used, 1e-9 absolute in the tail
 * (|GELU| < 1e-4 for z < −4). For comparison, PyTorch's float32 0.5·z·(1 + erf) loses ~5e-6 relative
 * at z = −2.5 to the 1 + erf cancellation.
 */
const GELU_REL_CORE = 2.4e-7;
const GELU_REL_NEG = 1.1e-6;
const GELU_TAIL_ABS = 1e-9;
/** GELU vs the exact function at z/√2 in float64: absolute, everywhere. */
const GELU_ABS = 6e-7;
const LAYERNORM_ABS = 2e-6; // outputs are O(1..4)
const SOFTMAX_REL = 1e-6;
const SOFTMAX_ABS = 1e-9;

const k = newKernel();

function run(fn: (p: number, n: number) => void, x: Float32Array): Float32Array {
  const m = k.mark();
  try {
    const p = k.allocCopy(x);
    fn(p, x.length);
    return k.f32(p, x.length).slice();
  } finally {
    k.release(m);
  }
}

/** n points evenly spaced in [lo, hi), as f32. */
function span(lo: number, hi: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / n);
}

describe("float64 references", () => {
  it("should match known erf/erfc/GELU values", () => {
    // values from mpmath at 30 digits
    expect(erf64(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erf64(1)).toBeCloseTo(0.8427007929497149, 15);
    expect(erf64(-2)).toBeCloseTo(-0.9953222650189527, 15);
    expect(erfc64(3) / 2.209049699858544e-5).toBeCloseTo(1, 12);
    expect(erfc64(5) / 1.5374597944280349e-12).toBeCloseTo(1, 12);
    expect(gelu64(1) / 0.8413447460685429).toBeCloseTo(1, 14);
    expect(gelu64(-3) / -0.004049694094890287).toBeCloseTo(1, 12);
  });
});

describe("erf", () => {
  it("should be within 2 ulp of float64 erf on [-7, 7] (odd count: partial vector)", () => {
    const x = span(-7, 7, 100_003);
    expectClose(run(k.erf, x), erfRef(x), { rel: ERF_REL, abs: ERF_ABS }, "erf");
  });
  it("should give exact ±1, signed zeros and tiny arguments right", () => {
    const x = Float32Array.of(0, -0, 1e-30, -1e-20, 10, -10, 1e30, 3e-5);
    const got = run(k.erf, x);
    expect(Object.is(got[1], -0)).toBe(true);
    expectClose(got, erfRef(x), { rel: ERF_REL }, "erf edges");
  });
});

describe("exp", () => {
  it("should be within 2 ulp on [-87, 88]", () => {
    const x = span(-87, 88, 50_001);
    expectClose(run(k.exp, x), expRef(x), { rel: EXP_REL }, "exp");
  });
  it("should flush below -87.34 to 0", () => {
    expect(Array.from(run(k.exp, Float32Array.of(-88, -100, -1e30)))).toEqual([0, 0, 0]);
  });
});

describe("tanh", () => {
  it("should be within 3 ulp on [-12, 12] and near 0", () => {
    const x = span(-12, 12, 40_001);
    expectClose(run(k.tanh, x), tanhRef(x), { rel: TANH_REL }, "tanh");
    const small = span(-1e-3, 1e-3, 1001);
    expectClose(run(k.tanh, small), tanhRef(small), { rel: TANH_REL, abs: 1e-40 }, "tanh small");
  });
});

describe("GELU (exact erf)", () => {
  const x = span(-10, 10, 200_001);
  const got = run(k.gelu, x);
  it("should match the exact GELU at the f32 argument (2 ulp core, 9 ulp on (−4, −1.19), 1e-9 absolute tail)", () => {
    const s = Math.fround(Math.SQRT1_2);
    const want = x.map((z) => {
      const a = Math.fround(Math.abs(z) * s);
      return z >= 0 ? 0.5 * z * (1 + erf64(a)) : 0.5 * z * erfc64(a);
    });
    const pick = (a: Float32Array, f: (z: number) => boolean) => a.filter((_, i) => f(x[i]));
    const core = (z: number) => z >= -1.19;
    const neg = (z: number) => z < -1.19 && z > -4;
    expectClose(pick(got, core), pick(want, core), { rel: GELU_REL_CORE, abs: 1e-30 }, "gelu core");
    expectClose(pick(got, neg), pick(want, neg), { rel: GELU_REL_NEG }, "gelu (−4, −1.19)");
    expectClose(got, want, { rel: GELU_REL_NEG, abs: GELU_TAIL_ABS }, "gelu all");
  });
  it("should match the float64 GELU in absolute terms", () => {
    expectClose(got, geluRef(x), { abs: GELU_ABS }, "gelu abs");
  });
  it("should not be the tanh approximation (distinguishable at z = 1)", () => {
    const tanhApprox = 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (1 + 0.044715)));
    const g = run(k.gelu, Float32Array.of(1))[0];
    expect(Math.abs(g - 0.8413447460685429)).toBeLessThan(2e-7);
    expect(Math.abs(g - tanhApprox)).toBeGreaterThan(1e-5);
  });
});

describe("layerNorm", () => {
  for (const [rows, cols] of [[3, 768], [5, 771], [1, 3], [2, 8], [4, 13]] as const) {
    it(`should match the float64 reference for ${rows}×${cols}`, () => {
      const x = cosData(rows * cols, rows);
      const gamma = randn(cols, 11, 0.2).map((v) => 1 + v);
      const beta = randn(cols, 12, 0.1);
      const m = k.mark();
      const px = k.allocCopy(x), pg = k.allocCopy(gamma), pb = k.allocCopy(beta), po = k.alloc(4 * rows * cols);
      k.layerNorm(px, po, pg, pb, rows, cols, 1e-12);
      const got = k.f32(po, rows * cols).slice();
      k.layerNorm(px, px, pg, pb, rows, cols, 1e-12); // in place
      const inPlace = k.f32(px, rows * cols).slice();
      k.release(m);
      const want = layerNormRef(x, rows, cols, gamma, beta, 1e-12);
      expectClose(got, want, { abs: LAYERNORM_ABS }, "layerNorm");
      expectClose(inPlace, got, { abs: 0 }, "layerNorm in place");
    });
  }
  it("should use eps (a constant row gives beta, not NaN)", () => {
    const m = k.mark();
    const px = k.allocCopy(new Float32Array(9).fill(3)), pg = k.allocCopy(new Float32Array(9).fill(2));
    const pb = k.allocCopy(Float32Array.from({ length: 9 }, (_, i) => i));
    k.layerNorm(px, px, pg, pb, 1, 9, 1e-5);
    expect(Array.from(k.f32(px, 9))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    k.release(m);
  });
});

describe("add", () => {
  it("should add in place for lengths with and without a tail", () => {
    for (const n of [1, 3, 4, 7, 768, 1001]) {
      const a = cosData(n, 1), b = cosData(n, 2);
      const m = k.mark();
      const pa = k.allocCopy(a), pb = k.allocCopy(b);
      k.add(pa, pb, n);
      expectClose(k.f32(pa, n), addRef(a, b), { abs: 0 }, `add n=${n}`);
      k.release(m);
    }
  });
  it("should not write past n", () => {
    const m = k.mark();
    const pa = k.allocCopy(new Float32Array(8).fill(1)), pb = k.allocCopy(new Float32Array(8).fill(1));
    k.add(pa, pb, 5);
    expect(Array.from(k.f32(pa, 8))).toEqual([2, 2, 2, 2, 2, 1, 1, 1]);
    k.release(m);
  });
});

describe("softmaxRows", () => {
  for (const [rows, cols, ld] of [[4, 128, 128], [3, 13, 16], [2, 1, 1], [5, 7, 9]] as const) {
    it(`should match the reference for ${rows}×${cols} (ld ${ld}) with and without a bias`, () => {
      const x = randn(rows * ld, rows * 31 + cols, 3);
      const bias = Float32Array.from({ length: cols }, (_, j) => (j % 3 === 0 ? -10000 : 0.5 * Math.sin(j)));
      for (const withBias of [false, true]) {
        const m = k.mark();
        const px = k.allocCopy(x), pb = k.allocCopy(bias);
        k.softmaxRows({ x: px, rows, cols, ld, bias: withBias ? pb : 0 });
        const got = k.f32(px, rows * ld).slice();
        k.release(m);
        const want = softmaxRowsRef(x, rows, cols, ld, withBias ? bias : undefined);
        expectClose(got, want, { rel: SOFTMAX_REL, abs: SOFTMAX_ABS }, `softmax bias=${withBias}`);
        for (let r = 0; r < rows; r++) {
          let s = 0;
          for (let j = 0; j < cols; j++) s += got[r * ld + j];
          expect(Math.abs(s - 1)).toBeLessThan(1e-6);
          for (let j = cols; j < ld; j++) expect(got[r * ld + j]).toBe(x[r * ld + j]); // padding untouched
        }
      }
    });
  }
  it("should be stable for large logits", () => {
    const m = k.mark();
    const px = k.allocCopy(Float32Array.of(1000, 1001, 999, -1000));
    k.softmaxRows({ x: px, rows: 1, cols: 4 });
    expectClose(k.f32(px, 4), softmaxRowsRef(Float32Array.of(1000, 1001, 999, -1000), 1, 4), { rel: 1e-6, abs: 1e-30 }, "large");
    k.release(m);
  });
});
