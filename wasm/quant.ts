// Row quantization shared by the dense int8 GEMM (8-bit activations) and the FFF descent (14-bit).
// q = round_half_even(x · levels/amax), scale = amax/levels; finite inputs only.
//
// Two x64 details decide the speed here (measured: 85 → 12 µs for 128×768):
// - the abs max compares the abs bit patterns as i32 (same order as the floats): one pmaxsd, where
//   f32x4.max costs 8 instructions for its NaN/±0 rules;
// - rounding uses (v + 1.5·2^23) − bits(1.5·2^23): exact and half to even for |v| < 2^22, two cheap ops
//   where nearest + trunc_sat costs about 8.

import { c, K_ABS, K_MAGIC } from "./math";
import { loadPartialF32 } from "./simd";

/** max |x[k]| over k < K. */
// @ts-ignore: decorator
@inline export function absMaxRow(xr: usize, K: i32): f32 {
  const abs = c(K_ABS);
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let p = xr;
  const end16 = xr + (<usize>(K & ~15) << 2);
  while (p < end16) {
    a0 = i32x4.max_s(a0, v128.and(v128.load(p), abs));
    a1 = i32x4.max_s(a1, v128.and(v128.load(p, 16), abs));
    a2 = i32x4.max_s(a2, v128.and(v128.load(p, 32), abs));
    a3 = i32x4.max_s(a3, v128.and(v128.load(p, 48), abs));
    p += 64;
  }
  const end4 = xr + (<usize>(K & ~3) << 2);
  while (p < end4) {
    a0 = i32x4.max_s(a0, v128.and(v128.load(p), abs));
    p += 16;
  }
  if (K & 3) a1 = i32x4.max_s(a1, v128.and(loadPartialF32(p, K & 3), abs));
  let a = i32x4.max_s(i32x4.max_s(a0, a1), i32x4.max_s(a2, a3));
  a = i32x4.max_s(a, v128.shuffle<i32>(a, a, 2, 3, 0, 1));
  a = i32x4.max_s(a, v128.shuffle<i32>(a, a, 1, 0, 3, 2));
  return reinterpret<f32>(i32x4.extract_lane(a, 0));
}

/**
 * Writes round_half_even(x[k]·inv) as i16 for k < K in chunks of 8 values, chunk j at dst + j·stride,
 * zeros past K up to the next multiple of 8. Requires |x·inv| < 2^15.
 */
// @ts-ignore: decorator
@inline export function quantizeRowI16(xr: usize, K: i32, inv: f32, dst: usize, stride: usize): void {
  const vinv = f32x4.splat(inv);
  const magic = c(K_MAGIC);
  const full = K >> 3;
  let p = xr;
  let d = dst;
  const end16 = xr + (<usize>(full >> 1) << 6);
  while (p < end16) {
    const q0 = i32x4.sub(f32x4.add(f32x4.mul(v128.load(p), vinv), magic), magic);
    const q1 = i32x4.sub(f32x4.add(f32x4.mul(v128.load(p, 16), vinv), magic), magic);
    const q2 = i32x4.sub(f32x4.add(f32x4.mul(v128.load(p, 32), vinv), magic), magic);
    const q3 = i32x4.sub(f32x4.add(f32x4.mul(v128.load(p, 48), vinv), magic), magic);
    v128.store(d, i16x8.narrow_i32x4_s(q0, q1));
    v128.store(d + stride, i16x8.narrow_i32x4_s(q2, q3));
    p += 64;
    d += stride << 1;
  }
  if (full & 1) {
    const q0 = i32x4.sub(f32x4.add(f32x4.mul(v128.load(p), vinv), magic), magic);
    const q1 = i32x4.sub(f32x4.add(f32x4.mul(v128.load(p, 16), vinv), magic), magic);
    v128.store(d, i16x8.narrow_i32x4_s(q0, q1));
    p += 32;
    d += stride;
  }
  const r = K & 7;
  if (r) {
    const vlo = loadPartialF32(p, min<i32>(r, 4));
    const vhi = r > 4 ? loadPartialF32(p + 16, r - 4) : f32x4.splat(0);
    const lo = i32x4.sub(f32x4.add(f32x4.mul(vlo, vinv), magic), magic);
    const hi = i32x4.sub(f32x4.add(f32x4.mul(vhi, vinv), magic), magic);
    v128.store(d, i16x8.narrow_i32x4_s(lo, hi));
  }
}
