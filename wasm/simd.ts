// Small SIMD helpers shared by the kernels. Everything here is inlined.
//
// V8 note (x64): a v128 constant used inside a loop is re-materialized at every use (movq + vmovq +
// punpck), so hot loops take their constants from registers set up before the loop or from memory.

/** Sum of the four i32 lanes of a, b, c, d as one vector: [Σa, Σb, Σc, Σd]. */
// @ts-ignore: decorator
@inline export function hsum4I32(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 1, 4, 5), v128.shuffle<i32>(a, b, 2, 3, 6, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 1, 4, 5), v128.shuffle<i32>(c, d, 2, 3, 6, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 2, 4, 6), v128.shuffle<i32>(ab, cd, 1, 3, 5, 7));
}

/** Sum of the four f32 lanes of a, b, c, d as one vector: [Σa, Σb, Σc, Σd] (pairwise order). */
// @ts-ignore: decorator
@inline export function hsum4F32(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 1, 4, 5), v128.shuffle<f32>(a, b, 2, 3, 6, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 1, 4, 5), v128.shuffle<f32>(c, d, 2, 3, 6, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 2, 4, 6), v128.shuffle<f32>(ab, cd, 1, 3, 5, 7));
}

/** (a0 + a2) + (a1 + a3): the horizontal f32 sum, in a fixed order. */
// @ts-ignore: decorator
@inline export function hsumF32(a: v128): f32 {
  const s = f32x4.add(a, v128.shuffle<f32>(a, a, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** Horizontal max of four f32 lanes. */
// @ts-ignore: decorator
@inline export function hmaxF32(a: v128): f32 {
  const s = f32x4.pmax(a, v128.shuffle<f32>(a, a, 2, 3, 0, 1));
  return max<f32>(f32x4.extract_lane(s, 0), f32x4.extract_lane(s, 1));
}

/** Horizontal i32 sum, widened to i64 so it cannot overflow. */
// @ts-ignore: decorator
@inline export function hsumI32Wide(a: v128): i64 {
  return (<i64>i32x4.extract_lane(a, 0) + <i64>i32x4.extract_lane(a, 1)) +
    (<i64>i32x4.extract_lane(a, 2) + <i64>i32x4.extract_lane(a, 3));
}

/** Loads lanes [0, n) (n in 0..4) of f32 at p, zeros elsewhere; reads only those n values. */
// @ts-ignore: decorator
@inline export function loadPartialF32(p: usize, n: i32): v128 {
  let v = f32x4.splat(0);
  if (n > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  if (n > 3) v = f32x4.replace_lane(v, 3, load<f32>(p, 12));
  return v;
}

/** Stores lanes [0, n) (n in 0..4) of an f32 vector at p. */
// @ts-ignore: decorator
@inline export function storePartialF32(p: usize, v: v128, n: i32): void {
  if (n > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
  if (n > 3) store<f32>(p, f32x4.extract_lane(v, 3), 12);
}

/** Stores lanes [0, n) (n in 0..4) of an i32 vector at p. */
// @ts-ignore: decorator
@inline export function storePartialI32(p: usize, v: v128, n: i32): void {
  if (n > 0) store<i32>(p, i32x4.extract_lane(v, 0));
  if (n > 1) store<i32>(p, i32x4.extract_lane(v, 1), 4);
  if (n > 2) store<i32>(p, i32x4.extract_lane(v, 2), 8);
  if (n > 3) store<i32>(p, i32x4.extract_lane(v, 3), 12);
}

// @ts-ignore: decorator
@inline export function alignUp(n: i32, a: i32): i32 {
  return (n + a - 1) & ~(a - 1);
}

/** Lanes [0, n) all ones, the rest zero (n in 0..4). */
// @ts-ignore: decorator
@inline export function laneMask(n: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n));
}
