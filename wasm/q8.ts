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

import { alignUp, hsum4I32, loadPartialF32, storePartialF32, storePartialI32 } from "./simd";
import { absMaxRow, quantizeRowI16 } from "./quant";

/** Bytes of scratch that `linearQ8` needs for M rows of K (xq + sx + panel), 16-aligned pieces. */
export function linearQ8ScratchBytes(M: i32, K: i32): i32 {
  const Mp = alignUp(M, 2), Kp = alignUp(K, 8);
  return alignUp(Mp * 4, 16) + Mp * Kp * 2 + Kp * 8;
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
// @ts-ignore: decorator
@inline function gemmQ8Core(xq: usize, M: i32, K: i32, w: usize, N: i32, panel: usize, out: usize,
  f32out: bool, sx: usize, ws: usize, bias: usize): void {
  const Kp = alignUp(K, 8);
  const nc = Kp >> 3;
  const groups = (M + 1) >> 1;
  for (let n0 = 0; n0 < N; n0 += 4) {
    const nv = min<i32>(4, N - n0);
    packPanel(w, K, N, n0, nc, panel);
    let wsv = f32x4.splat(0), bv = f32x4.splat(0);
    if (f32out) {
      wsv = nv == 4 ? v128.load(ws + (<usize>n0 << 2)) : loadPartialF32(ws + (<usize>n0 << 2), nv);
      if (bias) bv = nv == 4 ? v128.load(bias + (<usize>n0 << 2)) : loadPartialF32(bias + (<usize>n0 << 2), nv);
    }
    for (let g = 0; g < groups; g++) {
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
      const m0 = g << 1;
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
  }
}

/**
 * Exact integer GEMM on pre-quantized activations (for tests and callers that quantize once):
 * out i32[M][N] = xq · wᵀ, xq in the row-pair layout from quantizeRowsQ8, w int8 [N][K].
 * panel: scratch of Kp·8 bytes.
 */
export function gemmQ8I32(xq: usize, M: i32, K: i32, w: usize, N: i32, panel: usize, out: usize): void {
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
  const panel = xq + <usize>(Mp * Kp * 2);
  quantizeRowsQ8(x, M, K, xq, sx);
  gemmQ8Core(xq, M, K, w, N, panel, out, true, sx, ws, bias);
}
