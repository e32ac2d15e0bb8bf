// Row and element kernels: LayerNorm, residual add, GELU/tanh/erf/exp in place, row softmax.
// Pointers are byte offsets into linear memory; f32 arrays are row-major and contiguous.
// Every loop runs 4 lanes at a time and finishes with a masked partial vector (no scalar tail code).

import { hsumF32, hmaxF32, laneMask, loadPartialF32, storePartialF32 } from "./simd";
import { expv, erfv, geluv, tanhv } from "./math";

/**
 * LayerNorm over each row of x[rows][cols] (biased variance, two-pass), affine:
 * out = ((x − mean)·rstd)·gamma + beta, rstd = 1/sqrt(var + eps). out may equal x.
 */
export function layerNorm(x: usize, out: usize, rows: i32, cols: i32, gamma: usize, beta: usize, eps: f32): void {
  const n4 = cols & ~3;
  const rem = cols & 3;
  const tailMask = laneMask(rem);
  const tail = <usize>n4 << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>cols) << 2);
    const yr = out + ((<usize>r * <usize>cols) << 2);
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
    let i = 0;
    for (; i + 8 <= cols; i += 8) {
      s0 = f32x4.add(s0, v128.load(xr + (<usize>i << 2)));
      s1 = f32x4.add(s1, v128.load(xr + (<usize>i << 2), 16));
    }
    if (i < n4) s0 = f32x4.add(s0, v128.load(xr + (<usize>i << 2)));
    if (rem) s1 = f32x4.add(s1, loadPartialF32(xr + tail, rem));
    const mean = hsumF32(f32x4.add(s0, s1)) / <f32>cols;
    const vm = f32x4.splat(mean);
    let q0 = f32x4.splat(0), q1 = f32x4.splat(0);
    i = 0;
    for (; i + 8 <= cols; i += 8) {
      const d0 = f32x4.sub(v128.load(xr + (<usize>i << 2)), vm);
      const d1 = f32x4.sub(v128.load(xr + (<usize>i << 2), 16), vm);
      q0 = f32x4.add(q0, f32x4.mul(d0, d0));
      q1 = f32x4.add(q1, f32x4.mul(d1, d1));
    }
    if (i < n4) {
      const d = f32x4.sub(v128.load(xr + (<usize>i << 2)), vm);
      q0 = f32x4.add(q0, f32x4.mul(d, d));
    }
    if (rem) {
      const d = v128.and(f32x4.sub(loadPartialF32(xr + tail, rem), vm), tailMask);
      q1 = f32x4.add(q1, f32x4.mul(d, d));
    }
    const variance = hsumF32(f32x4.add(q0, q1)) / <f32>cols;
    const rstd = f32x4.splat(<f32>1 / sqrt<f32>(variance + eps));
    for (i = 0; i < n4; i += 4) {
      const o = <usize>i << 2;
      const y = f32x4.mul(f32x4.mul(f32x4.sub(v128.load(xr + o), vm), rstd), v128.load(gamma + o));
      v128.store(yr + o, f32x4.add(y, v128.load(beta + o)));
    }
    if (rem) {
      const y = f32x4.mul(f32x4.mul(f32x4.sub(loadPartialF32(xr + tail, rem), vm), rstd), loadPartialF32(gamma + tail, rem));
      storePartialF32(yr + tail, f32x4.add(y, loadPartialF32(beta + tail, rem)), rem);
    }
  }
}

/** out[i] = a[i] + b[i] for i < n (the residual add). out may equal a or b. */
export function add(out: usize, a: usize, b: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  const rem = n & 3;
  if (rem) {
    const o = <usize>n4 << 2;
    storePartialF32(out + o, f32x4.add(loadPartialF32(a + o, rem), loadPartialF32(b + o, rem)), rem);
  }
}

// Each in-place map below is the same loop around one f32x4 function.

/** x[i] = GELU(x[i]) = 0.5·x·(1 + erf(x/√2)) (exact erf), i < n. */
export function geluInPlace(x: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(p, geluv(v128.load(p)));
  }
  const rem = n & 3;
  if (rem) {
    const p = x + (<usize>n4 << 2);
    storePartialF32(p, geluv(loadPartialF32(p, rem)), rem);
  }
}

/** x[i] = tanh(x[i]), i < n. */
export function tanhInPlace(x: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(p, tanhv(v128.load(p)));
  }
  const rem = n & 3;
  if (rem) {
    const p = x + (<usize>n4 << 2);
    storePartialF32(p, tanhv(loadPartialF32(p, rem)), rem);
  }
}

/** x[i] = erf(x[i]), i < n (exposed for accuracy tests). */
export function erfInPlace(x: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(p, erfv(v128.load(p)));
  }
  const rem = n & 3;
  if (rem) {
    const p = x + (<usize>n4 << 2);
    storePartialF32(p, erfv(loadPartialF32(p, rem)), rem);
  }
}

/** x[i] = exp(x[i]), i < n (exposed for accuracy tests; x < −87.34 → 0, x > 88 → e^88). */
export function expInPlace(x: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(p, expv(v128.load(p)));
  }
  const rem = n & 3;
  if (rem) {
    const p = x + (<usize>n4 << 2);
    storePartialF32(p, expv(loadPartialF32(p, rem)), rem);
  }
}

/**
 * Numerically stable softmax of each row of x[rows][cols] in place (row stride ld floats, ld ≥ cols),
 * after adding bias[cols] when bias ≠ 0: x = exp(v − max v) / Σ exp(v − max v), v = x + bias.
 */
export function softmaxRows(x: usize, rows: i32, cols: i32, ld: i32, bias: usize): void {
  for (let r = 0; r < rows; r++) softmaxRow(x + ((<usize>r * <usize>ld) << 2), cols, bias, f32x4.splat(1));
}

/** Row of scores in place: e = exp(v − max) over the first cols; returns 1/Σ e. */
// @ts-ignore: decorator
@inline export function expRow(xr: usize, cols: i32, vmax: v128): f32 {
  const n4 = cols & ~3;
  const rem = cols & 3;
  let s0 = f32x4.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const e = expv(f32x4.sub(v128.load(xr + o), vmax));
    v128.store(xr + o, e);
    s0 = f32x4.add(s0, e);
  }
  if (rem) {
    const tail = <usize>n4 << 2;
    const e = v128.and(expv(f32x4.sub(loadPartialF32(xr + tail, rem), vmax)), laneMask(rem));
    storePartialF32(xr + tail, e, rem);
    s0 = f32x4.add(s0, e);
  }
  return <f32>1 / hsumF32(s0);
}

/**
 * One row: v = x·scale + bias (bias may be 0), then softmax in place (its exp pass is expRow, which attention uses).
 */
// @ts-ignore: decorator
@inline export function softmaxRow(xr: usize, cols: i32, bias: usize, scale: v128): void {
  const n4 = cols & ~3;
  const rem = cols & 3;
  const tail = <usize>n4 << 2;
  const tailMask = laneMask(rem);
  // pass 1: v = x·scale (+ bias), written back, and the row max
  let m = f32x4.splat(-Infinity);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    let v = f32x4.mul(v128.load(xr + o), scale);
    if (bias) v = f32x4.add(v, v128.load(bias + o));
    v128.store(xr + o, v);
    m = f32x4.pmax(m, v);
  }
  if (rem) {
    let v = f32x4.mul(loadPartialF32(xr + tail, rem), scale);
    if (bias) v = f32x4.add(v, loadPartialF32(bias + tail, rem));
    storePartialF32(xr + tail, v, rem);
    m = f32x4.pmax(m, v128.bitselect(v, f32x4.splat(-Infinity), tailMask));
  }
  const vmax = f32x4.splat(hmaxF32(m));
  // pass 2: e = exp(v − max), Σ e; pass 3: normalize
  const inv = f32x4.splat(expRow(xr, cols, vmax));
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(xr + o, f32x4.mul(v128.load(xr + o), inv));
  }
  if (rem) storePartialF32(xr + tail, f32x4.mul(loadPartialF32(xr + tail, rem), inv), rem);
}
