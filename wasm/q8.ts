// Dense int8 linear: per-row (per-token) symmetric activation quantization, then an exact
// int8×int8→int32 GEMM against w int8 [N][K] (PyTorch Linear layout), then f32 scaling.
//
// see: MLAS (onnxruntime) QGEMM for SSE: operands widened to i16 and multiplied with pmaddwd.
//
// Layouts (all built inside the per-call scratch; weights stay int8 and untouched):
//   xq   i16, rows in pairs: [ceil(M/2)][Kp/8][2][8]  (Kp = K rounded up to 8; padding rows/cols = 0)
//   sx   f32 [ceil(M/2)·2]  row scales (amax/127)
//   panel i16 [Kp/8][4][8]  4 weight rows widened, re-packed for each block of 4 output columns
// Micro-kernel: 2 rows × 4 columns, 8 i32x4 accumulators, i32x4.dot_i16x8_s per 8 k-values; the
// four lanes are reduced once per tile (hsum4I32). All tails (odd M, N % 4, K % 8) are handled by
// the zero padding of xq and panel, so the inner loop has no tail code.
// Exactness: |q| ≤ 127 on both sides, so an i32 lane holds K·127² with K < 133 000.
//
// Relaxed-SIMD build (ASC_FEATURE_RELAXED_SIMD, wasm/build/kernels-relaxed.wasm): the same q and the same
// exact int32 sums through i32x4.relaxed_dot_i8x16_i7x16_add_s (see gemmQ8RelaxedCore below).

import { alignUp, hsum4I32, loadPartialF32, storePartialF32, storePartialI32 } from "./simd";
import { absMaxRow, quantizeRowI16 } from "./quant";
import { c, K_MAGIC } from "./math";

/** Bytes of scratch that `linearQ8` needs for M rows of K (xq + sx + panel), 16-aligned pieces. */
export function linearQ8ScratchBytes(M: i32, K: i32): i32 {
  const Mp = alignUp(M, 2);
  if (ASC_FEATURE_RELAXED_SIMD) return alignUp(Mp * 4, 16) + relaxedPlanesBytes(M, K) + relaxedPanelBytes(K);
  const Kp = alignUp(K, 8);
  return alignUp(Mp * 4, 16) + Mp * Kp * 2 + Kp * 8;
}

/** Bytes of scratch that `gemmQ8I32` needs (the weight panel; in the relaxed build also the u7 planes). */
export function gemmQ8I32ScratchBytes(M: i32, K: i32): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) return relaxedPlanesBytes(M, K) + relaxedPanelBytes(K);
  return alignUp(K, 8) * 8;
}

/** 1 for the relaxed-SIMD build, 0 for the SIMD128 build (both are compiled from these sources). */
export function kernelRelaxedSimd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/**
 * Quantizes each row of x f32[M][K]: sx[m] = amax/127, q = round_half_even(x · (127/amax)) (0 when
 * amax = 0), written as i16 in the row-pair layout described above. xq needs ceil(M/2)·2·Kp·2 bytes,
 * sx ceil(M/2)·2 floats (the partner of an odd last row gets scale 0).
 */
export function quantizeRowsQ8(x: usize, M: i32, K: i32, xq: usize, sx: usize): void {
  const nc = alignUp(K, 8) >> 3;
  for (let m = 0; m < M; m++) {
    const xr = x + ((<usize>m * <usize>K) << 2);
    const amax = absMaxRow(xr, K);
    store<f32>(sx + (<usize>m << 2), amax / <f32>127);
    const dst = xq + (<usize>(m >> 1) * <usize>nc << 5) + (<usize>(m & 1) << 4);
    quantizeRowI16(xr, K, amax > 0 ? <f32>127 / amax : <f32>0, dst, 32);
  }
  if (M & 1) {
    // zero partner row of the last pair, and its scale
    const dst = xq + (<usize>(M >> 1) * <usize>nc << 5) + 16;
    for (let j = 0; j < nc; j++) v128.store(dst + (<usize>j << 5), i32x4.splat(0));
    store<f32>(sx + (<usize>M << 2), 0);
  }
}

/** Widens weight rows n0..n0+3 (zeros past N, and past K up to Kp) into panel i16 [Kp/8][4][8]. */
// @ts-ignore: decorator
@inline function packPanel(w: usize, K: i32, N: i32, n0: i32, nc: i32, panel: usize): void {
  const kFull = K >> 3;
  for (let j = 0; j < 4; j++) {
    const dst = panel + (<usize>j << 4);
    if (n0 + j >= N) {
      for (let c = 0; c < nc; c++) v128.store(dst + (<usize>c << 6), i32x4.splat(0));
      continue;
    }
    const row = w + <usize>(n0 + j) * <usize>K;
    for (let c = 0; c < kFull; c++) v128.store(dst + (<usize>c << 6), v128.load8x8_s(row + (<usize>c << 3)));
    if (kFull < nc) {
      // last partial chunk: K % 8 values, then zeros (never reads past the row)
      let v = i16x8.splat(0);
      const base = kFull << 3;
      const d = dst + (<usize>kFull << 6);
      v128.store(d, v);
      for (let k = base; k < K; k++) store<i16>(d + (<usize>(k - base) << 1), <i16>load<i8>(row + <usize>k));
    }
  }
}

/**
 * The tile loop. f32out = false: out i32[M][N] = Σ_k q_x·q_w (exact). f32out = true:
 * out f32[M][N] = f32(Σ) · (sx[m]·ws[n]) (+ bias[n] when bias ≠ 0).
 */
/** Sink for the touch loads of gemmQ8Core, so that the optimizer keeps them. */
let touchSink: u32 = 0;

// @ts-ignore: decorator
@inline function gemmQ8Core(xq: usize, M: i32, K: i32, w: usize, N: i32, panel: usize, out: usize,
  f32out: bool, sx: usize, ws: usize, bias: usize): void {
  const Kp = alignUp(K, 8);
  const nc = Kp >> 3;
  const groups = (M + 1) >> 1;
  // lines of the next block's 4 weight rows to touch per row group, spread over the block's groups
  const perGroup = <usize>(((K << 2) + 63) >> 6) / <usize>groups + 1;
  let touch: u32 = 0;
  for (let n0 = 0; n0 < N; n0 += 4) {
    const nv = min<i32>(4, N - n0);
    packPanel(w, K, N, n0, nc, panel);
    // every layer has its own weights, so they come from DRAM: touching the next block's rows while this
    // block computes keeps their misses in flight behind the arithmetic
    let tp = n0 + 8 <= N ? w + <usize>(n0 + 4) * <usize>K : 0;
    const te = tp + (<usize>K << 2);
    let wsv = f32x4.splat(0), bv = f32x4.splat(0);
    if (f32out) {
      wsv = nv == 4 ? v128.load(ws + (<usize>n0 << 2)) : loadPartialF32(ws + (<usize>n0 << 2), nv);
      if (bias) bv = nv == 4 ? v128.load(bias + (<usize>n0 << 2)) : loadPartialF32(bias + (<usize>n0 << 2), nv);
    }
    for (let g = 0; g < groups; g++) {
      if (tp) {
        for (let j: usize = 0; j < perGroup && tp < te; j++, tp += 64) touch += load<u8>(tp);
      }
      let xp = xq + (<usize>g * <usize>nc << 5);
      const xe = xp + (<usize>nc << 5);
      let pp = panel;
      let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
      let a10 = i32x4.splat(0), a11 = i32x4.splat(0), a12 = i32x4.splat(0), a13 = i32x4.splat(0);
      while (xp < xe) {
        const w0 = v128.load(pp), w1 = v128.load(pp, 16), w2 = v128.load(pp, 32), w3 = v128.load(pp, 48);
        const x0 = v128.load(xp);
        a00 = i32x4.add(a00, i32x4.dot_i16x8_s(x0, w0));
        a01 = i32x4.add(a01, i32x4.dot_i16x8_s(x0, w1));
        a02 = i32x4.add(a02, i32x4.dot_i16x8_s(x0, w2));
        a03 = i32x4.add(a03, i32x4.dot_i16x8_s(x0, w3));
        const x1 = v128.load(xp, 16);
        a10 = i32x4.add(a10, i32x4.dot_i16x8_s(x1, w0));
        a11 = i32x4.add(a11, i32x4.dot_i16x8_s(x1, w1));
        a12 = i32x4.add(a12, i32x4.dot_i16x8_s(x1, w2));
        a13 = i32x4.add(a13, i32x4.dot_i16x8_s(x1, w3));
        xp += 32;
        pp += 64;
      }
      const r0 = hsum4I32(a00, a01, a02, a03);
      const r1 = hsum4I32(a10, a11, a12, a13);
      storeTile(out, N, M, g << 1, n0, nv, r0, r1, f32out, sx, wsv, bv, bias);
    }
  }
  touchSink += touch;
}

/** Stores the 2 × nv tile of rows m0, m0+1 (the second only when it exists): exact i32, or f32-scaled. */
// @ts-ignore: decorator
@inline function storeTile(out: usize, N: i32, M: i32, m0: i32, n0: i32, nv: i32, r0: v128, r1: v128,
  f32out: bool, sx: usize, wsv: v128, bv: v128, bias: usize): void {
  const o0 = out + ((<usize>m0 * <usize>N + <usize>n0) << 2);
  const o1 = o0 + (<usize>N << 2);
  const two = m0 + 1 < M;
  if (f32out) {
    let y0 = f32x4.mul(f32x4.convert_i32x4_s(r0), f32x4.mul(v128.load32_splat(sx + (<usize>m0 << 2)), wsv));
    let y1 = f32x4.mul(f32x4.convert_i32x4_s(r1), f32x4.mul(v128.load32_splat(sx + (<usize>m0 << 2), 4), wsv));
    if (bias) { y0 = f32x4.add(y0, bv); y1 = f32x4.add(y1, bv); }
    if (nv == 4) {
      v128.store(o0, y0);
      if (two) v128.store(o1, y1);
    } else {
      storePartialF32(o0, y0, nv);
      if (two) storePartialF32(o1, y1, nv);
    }
  } else {
    if (nv == 4) {
      v128.store(o0, r0);
      if (two) v128.store(o1, r1);
    } else {
      storePartialI32(o0, r0, nv);
      if (two) storePartialI32(o1, r1, nv);
    }
  }
}

/**
 * Exact integer GEMM on pre-quantized activations (for tests and callers that quantize once):
 * out i32[M][N] = xq · wᵀ, xq in the row-pair layout from quantizeRowsQ8, w int8 [N][K].
 * panel: scratch of Kp·8 bytes.
 */
export function gemmQ8I32(xq: usize, M: i32, K: i32, w: usize, N: i32, panel: usize, out: usize): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    // `panel` is gemmQ8I32ScratchBytes(M, K): the u7 planes, then the i8 panel
    const planes = panel;
    rowPairsToPlanes(xq, M, K, planes);
    gemmQ8RelaxedCore(planes, M, K, w, N, planes + <usize>relaxedPlanesBytes(M, K), out, false, 0, 0, 0);
    return;
  }
  gemmQ8Core(xq, M, K, w, N, panel, out, false, 0, 0, 0);
}

/**
 * out f32[M][N] = dequant(quant(x) · wᵀ) (+ bias): x f32[M][K], w int8 [N][K] with per-row scales
 * ws f32[N], bias f32[N] or 0. out[m][n] = f32(Σ_k qx·qw) · (sx[m]·ws[n]) + bias[n].
 * scratch: linearQ8ScratchBytes(M, K) bytes, 16-aligned. out must not overlap x or scratch.
 */
export function linearQ8(x: usize, M: i32, K: i32, w: usize, ws: usize, bias: usize, N: i32, out: usize, scratch: usize): void {
  const Mp = alignUp(M, 2), Kp = alignUp(K, 8);
  const sx = scratch;
  const xq = scratch + <usize>alignUp(Mp * 4, 16);
  if (ASC_FEATURE_RELAXED_SIMD) {
    quantizeRowsPlanes(x, M, K, xq, sx);
    gemmQ8RelaxedCore(xq, M, K, w, N, xq + <usize>relaxedPlanesBytes(M, K), out, true, sx, ws, bias);
    return;
  }
  const panel = xq + <usize>(Mp * Kp * 2);
  quantizeRowsQ8(x, M, K, xq, sx);
  gemmQ8Core(xq, M, K, w, N, panel, out, true, sx, ws, bias);
}

// ---------------------------------------------------------------- relaxed-SIMD build
//
// i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c) is deterministic only when every lane of b is in [0, 127]
// (x86 reads b as unsigned in pmaddubsw, ARM as signed; both agree there, and pair sums ≤ 2·128·127 cannot
// saturate). The activations q ∈ [−127, 127] are the SIMD128 build's, bit for bit; they enter the dot as
//   u = q + 127 ∈ [0, 254],  lo = u >> 1,  hi = u − lo   (lo, hi ∈ [0, 127], lo + hi = u)
// and both halves go into the same i32 accumulator:
//   Σ w·lo + Σ w·hi = Σ w·u = Σ w·q + 127·Σ w   →   Σ w·q = acc − 127·colsum(w)   (exact in i32).
// Two relaxed dots per 16 MAC: on x64 with AVX-VNNI V8 emits one vpdpbusd each (2 µops per 16 MAC, against
// 4 for pmaddwd + paddd); without it (this repo's Zen 4 VM) each is pmaddubsw + pmaddwd + paddd, so the
// SIMD128 build is faster there (docs/perf-notes.md §R). An 8-bit × 8-bit product cannot go through one
// i8 × i7 dot, and pair sums of the two halves can exceed i16, so there is no one-dot exact form.
//
// Layouts: planes u8 [ceil(M/2)][Kc][2 rows][lo 16, hi 16] (Kc = ceil(K/16)); panel i8 [Kc][4][16] (raw
// weight bytes, zeros past K and N), then i32x4 127·colsum of its 4 rows. Padding: k ≥ K has w = 0.

// @ts-ignore: decorator
@inline function relaxedPlanesBytes(M: i32, K: i32): i32 {
  return alignUp(M, 2) * (alignUp(K, 16) >> 4) * 32;
}

// @ts-ignore: decorator
@inline function relaxedPanelBytes(K: i32): i32 {
  return (alignUp(K, 16) >> 4) * 64 + 16;
}

/** Splits i16x8 q (|q| ≤ 127) lanes lo/hi into the two u7 halves, stored as 16 + 16 bytes at d. */
// @ts-ignore: decorator
@inline function storeHalves(qa: v128, qb: v128, d: usize): void {
  const off = i16x8.splat(127);
  const ua = i16x8.add(qa, off), ub = i16x8.add(qb, off);
  const la = i16x8.shr_u(ua, 1), lb = i16x8.shr_u(ub, 1);
  v128.store(d, i8x16.narrow_i16x8_u(la, lb));
  v128.store(d, i8x16.narrow_i16x8_u(i16x8.sub(ua, la), i16x8.sub(ub, lb)), 16);
}

/** quantizeRowsQ8's rounding (same q), written as u7 planes; sx as in quantizeRowsQ8. */
function quantizeRowsPlanes(x: usize, M: i32, K: i32, planes: usize, sx: usize): void {
  const kc = alignUp(K, 16) >> 4;
  const magic = c(K_MAGIC);
  for (let m = 0; m < M; m++) {
    const xr = x + ((<usize>m * <usize>K) << 2);
    const amax = absMaxRow(xr, K);
    store<f32>(sx + (<usize>m << 2), amax / <f32>127);
    const vinv = f32x4.splat(amax > 0 ? <f32>127 / amax : <f32>0);
    let d = planes + (<usize>(m >> 1) * <usize>kc << 6) + (<usize>(m & 1) << 5);
    const full = K >> 4;
    let p = xr;
    for (let j = 0; j < full; j++) {
      const q0 = i32x4.sub(f32x4.add(f32x4.mul(v128.load(p), vinv), magic), magic);
      const q1 = i32x4.sub(f32x4.add(f32x4.mul(v128.load(p, 16), vinv), magic), magic);
      const q2 = i32x4.sub(f32x4.add(f32x4.mul(v128.load(p, 32), vinv), magic), magic);
      const q3 = i32x4.sub(f32x4.add(f32x4.mul(v128.load(p, 48), vinv), magic), magic);
      storeHalves(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3), d);
      p += 64;
      d += 64;
    }
    const r = K & 15;
    if (r) {
      // partial vectors: zeros past K (q = 0 there, multiplied by w = 0)
      const v0 = loadPartialF32(p, min<i32>(r, 4));
      const v1 = r > 4 ? loadPartialF32(p + 16, min<i32>(r - 4, 4)) : f32x4.splat(0);
      const v2 = r > 8 ? loadPartialF32(p + 32, min<i32>(r - 8, 4)) : f32x4.splat(0);
      const v3 = r > 12 ? loadPartialF32(p + 48, r - 12) : f32x4.splat(0);
      const q0 = i32x4.sub(f32x4.add(f32x4.mul(v0, vinv), magic), magic);
      const q1 = i32x4.sub(f32x4.add(f32x4.mul(v1, vinv), magic), magic);
      const q2 = i32x4.sub(f32x4.add(f32x4.mul(v2, vinv), magic), magic);
      const q3 = i32x4.sub(f32x4.add(f32x4.mul(v3, vinv), magic), magic);
      storeHalves(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3), d);
    }
  }
  if (M & 1) {
    // partner row of the last pair: q = 0, scale 0 (computed, never stored)
    let d = planes + (<usize>(M >> 1) * <usize>kc << 6) + 32;
    const z = i16x8.splat(0);
    for (let j = 0; j < kc; j++) {
      storeHalves(z, z, d);
      d += 64;
    }
    store<f32>(sx + (<usize>M << 2), 0);
  }
}

/** quantizeRowsQ8's i16 row-pair layout → u7 planes (for gemmQ8I32 on pre-quantized rows). */
function rowPairsToPlanes(xq: usize, M: i32, K: i32, planes: usize): void {
  const nc = alignUp(K, 8) >> 3;
  const kc = alignUp(K, 16) >> 4;
  const groups = (M + 1) >> 1;
  for (let g = 0; g < groups; g++) {
    for (let r = 0; r < 2; r++) {
      const src = xq + (<usize>g * <usize>nc << 5) + (<usize>r << 4);
      let d = planes + (<usize>g * <usize>kc << 6) + (<usize>r << 5);
      for (let j = 0; j < kc; j++) {
        const qa = v128.load(src + (<usize>(2 * j) << 5));
        const qb = 2 * j + 1 < nc ? v128.load(src + (<usize>(2 * j + 1) << 5)) : i16x8.splat(0);
        storeHalves(qa, qb, d);
        d += 64;
      }
    }
  }
}

/** Copies weight row n (zeros when n ≥ N, and past K) into column j of panel i8 [Kc][4][16]; returns Σ_k w. */
// @ts-ignore: decorator
@inline function packRowI8(w: usize, K: i32, N: i32, n: i32, kc: i32, dst: usize): i32 {
  if (n >= N) {
    for (let c = 0; c < kc; c++) v128.store(dst + (<usize>c << 6), i32x4.splat(0));
    return 0;
  }
  const full = K >> 4;
  const row = w + <usize>n * <usize>K;
  let s = i32x4.splat(0);
  for (let c = 0; c < full; c++) {
    const v = v128.load(row + (<usize>c << 4));
    v128.store(dst + (<usize>c << 6), v);
    s = i32x4.add(s, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v)));
  }
  if (full < kc) {
    // last partial chunk: K % 16 bytes, then zeros (never reads past the row)
    const d = dst + (<usize>full << 6);
    v128.store(d, i32x4.splat(0));
    for (let k = full << 4; k < K; k++) store<i8>(d + <usize>(k - (full << 4)), load<i8>(row + <usize>k));
    s = i32x4.add(s, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(d))));
  }
  return (i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1)) + (i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3));
}

/** Packs weight rows n0..n0+3 into panel i8 [Kc][4][16]; returns the correction 127·colsum per column. */
// @ts-ignore: decorator
@inline function packPanelI8(w: usize, K: i32, N: i32, n0: i32, kc: i32, panel: usize): v128 {
  let sums = i32x4.splat(packRowI8(w, K, N, n0, kc, panel));
  sums = i32x4.replace_lane(sums, 1, packRowI8(w, K, N, n0 + 1, kc, panel + 16));
  sums = i32x4.replace_lane(sums, 2, packRowI8(w, K, N, n0 + 2, kc, panel + 32));
  sums = i32x4.replace_lane(sums, 3, packRowI8(w, K, N, n0 + 3, kc, panel + 48));
  return i32x4.mul(sums, i32x4.splat(127));
}

/** gemmQ8Core with the relaxed dot (2 rows × 4 columns, 16 k per step); same outputs bit for bit. */
// @ts-ignore: decorator
@inline function gemmQ8RelaxedCore(planes: usize, M: i32, K: i32, w: usize, N: i32, panel: usize, out: usize,
  f32out: bool, sx: usize, ws: usize, bias: usize): void {
  const kc = alignUp(K, 16) >> 4;
  const groups = (M + 1) >> 1;
  for (let n0 = 0; n0 < N; n0 += 4) {
    const nv = min<i32>(4, N - n0);
    const corr = packPanelI8(w, K, N, n0, kc, panel);
    let wsv = f32x4.splat(0), bv = f32x4.splat(0);
    if (f32out) {
      wsv = nv == 4 ? v128.load(ws + (<usize>n0 << 2)) : loadPartialF32(ws + (<usize>n0 << 2), nv);
      if (bias) bv = nv == 4 ? v128.load(bias + (<usize>n0 << 2)) : loadPartialF32(bias + (<usize>n0 << 2), nv);
    }
    for (let g = 0; g < groups; g++) {
      let xp = planes + (<usize>g * <usize>kc << 6);
      const xe = xp + (<usize>kc << 6);
      let pp = panel;
      let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
      let a10 = i32x4.splat(0), a11 = i32x4.splat(0), a12 = i32x4.splat(0), a13 = i32x4.splat(0);
      while (xp < xe) {
        const w0 = v128.load(pp), w1 = v128.load(pp, 16), w2 = v128.load(pp, 32), w3 = v128.load(pp, 48);
        let lo = v128.load(xp), hi = v128.load(xp, 16);
        a00 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, hi, i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, lo, a00));
        a01 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, hi, i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, lo, a01));
        a02 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w2, hi, i32x4.relaxed_dot_i8x16_i7x16_add_s(w2, lo, a02));
        a03 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w3, hi, i32x4.relaxed_dot_i8x16_i7x16_add_s(w3, lo, a03));
        lo = v128.load(xp, 32);
        hi = v128.load(xp, 48);
        a10 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, hi, i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, lo, a10));
        a11 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, hi, i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, lo, a11));
        a12 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w2, hi, i32x4.relaxed_dot_i8x16_i7x16_add_s(w2, lo, a12));
        a13 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w3, hi, i32x4.relaxed_dot_i8x16_i7x16_add_s(w3, lo, a13));
        xp += 64;
        pp += 64;
      }
      const r0 = i32x4.sub(hsum4I32(a00, a01, a02, a03), corr);
      const r1 = i32x4.sub(hsum4I32(a10, a11, a12, a13), corr);
      storeTile(out, N, M, g << 1, n0, nv, r0, r1, f32out, sx, wsv, bv, bias);
    }
  }
}
