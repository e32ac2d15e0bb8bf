/**
 * q8: symmetric int8 quantization, one f32 scale per row (per FFF record vector, per embedding row, per
 * dense matrix row). The rule, defined once (docs/format.md §5):
 *
 *   scale = fround(amax / 127);  q = clamp(roundHalfAwayFromZero(w / scale), −127, 127);  scale 0 ⇒ every q = 0
 *
 * so |w − q·scale| ≤ scale/2 for every element. −128 is never produced (symmetric range).
 * see: ggml-org/ggml src/ggml-quants.c quantize_row_q8_0_ref (d = amax/127, rounding), llama2.c quantize_q80.
 */
import { Q8_MAX } from "./spec.ts";

const roundHalfAway = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x));

/** Largest |x| of src[offset … offset+length), or NaN when one of them is not finite. */
export function absMax(src: ArrayLike<number>, offset = 0, length = src.length - offset, stride = 1): number {
  let amax = 0;
  for (let i = 0; i < length; i++) {
    const v = src[offset + i * stride];
    if (!Number.isFinite(v)) return NaN;
    const a = Math.abs(v);
    if (a > amax) amax = a;
  }
  return amax;
}

/** The q8 scale of a row whose largest magnitude is amax. */
export const q8Scale = (amax: number): number => Math.fround(amax / Q8_MAX);

/**
 * Quantizes `length` values of src (starting at `offset`, step `stride`) into dst[dstOffset…]; returns the
 * scale. Non-finite input gives NaN (callers name the tensor and refuse it).
 */
export function quantizeQ8(
  src: ArrayLike<number>,
  dst: Int8Array,
  dstOffset = 0,
  offset = 0,
  length = src.length - offset,
  stride = 1,
): number {
  const amax = absMax(src, offset, length, stride);
  if (Number.isNaN(amax)) return NaN;
  const scale = q8Scale(amax);
  if (scale === 0) {
    dst.fill(0, dstOffset, dstOffset + length);
    return 0;
  }
  for (let i = 0; i < length; i++) {
    const q = roundHalfAway(src[offset + i * stride] / scale);
    dst[dstOffset + i] = q > Q8_MAX ? Q8_MAX : q < -Q8_MAX ? -Q8_MAX : q;
  }
  return scale;
}

/** max |src[i] − q[i]·scale| (computed in f64). */
export function q8MaxError(src: ArrayLike<number>, q: ArrayLike<number>, scale: number, srcOffset = 0, stride = 1): number {
  if (!Number.isFinite(scale)) return NaN;
  let err = 0;
  for (let i = 0; i < q.length; i++) {
    const e = Math.abs(src[srcOffset + i * stride] - q[i] * scale);
    if (!(e <= err)) err = e; // NaN propagates
  }
  return err;
}

export interface QuantizedMatrix {
  /** [rows][cols] int8, row stride = cols. */
  q: Int8Array;
  scales: Float32Array;
  /** max |w − q·scale| over the matrix. */
  maxError: number;
  /** Index of the first row with a non-finite value, or −1. */
  badRow: number;
}

/** Quantizes a row-major [rows][cols] f32 matrix row by row. */
export function quantizeMatrixQ8(src: ArrayLike<number>, rows: number, cols: number): QuantizedMatrix {
  const q = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  let maxError = 0;
  for (let r = 0; r < rows; r++) {
    const s = quantizeQ8(src, q, r * cols, r * cols, cols);
    if (Number.isNaN(s)) return { q, scales, maxError: NaN, badRow: r };
    scales[r] = s;
    const e = q8MaxError(src, q.subarray(r * cols, (r + 1) * cols), s, r * cols);
    if (e > maxError) maxError = e;
  }
  return { q, scales, maxError, badRow: -1 };
}
