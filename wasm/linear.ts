// Dense f32 linear: out[M][N] = x[M][K] · w[N][K]ᵀ (+ bias[N]), w row-major like PyTorch Linear.weight.
//
// Micro-kernel: 2 rows × 4 columns in dot-product form (8 f32x4 accumulators over k, one horizontal
// reduction per tile). The 4 weight rows are re-packed per column block into panel f32 [Kp/4][4][4]
// (zero-padded to Kp = K rounded up to 4, zero rows past N), so the inner loop walks two pointers.
// x rows are read in place; the K tail is loaded with a partial (zero-filled) vector, never past the row.
// Odd M: the second row of the last pair repeats the first and is not stored.

import { alignUp, hsum4F32, loadPartialF32, storePartialF32 } from "./simd";

/** Bytes of scratch `linearF32` needs (the weight panel). */
export function linearF32ScratchBytes(K: i32): i32 {
  return alignUp(K, 4) * 16;
}

// @ts-ignore: decorator
@inline function packPanelF32(w: usize, K: i32, N: i32, n0: i32, panel: usize): void {
  const k4 = K & ~3;
  const rem = K & 3;
  for (let j = 0; j < 4; j++) {
    const dst = panel + (<usize>j << 4);
    if (n0 + j >= N) {
      for (let k = 0; k < K; k += 4) v128.store(dst + (<usize>k << 4), f32x4.splat(0));
      continue;
    }
    const row = w + ((<usize>(n0 + j) * <usize>K) << 2);
    for (let k = 0; k < k4; k += 4) v128.store(dst + (<usize>k << 4), v128.load(row + (<usize>k << 2)));
    if (rem) v128.store(dst + (<usize>k4 << 4), loadPartialF32(row + (<usize>k4 << 2), rem));
  }
}

/**
 * out f32[M][N] = x f32[M][K] · w f32[N][K]ᵀ + bias (bias f32[N] or 0).
 * scratch: linearF32ScratchBytes(K) bytes, 16-aligned. out must not overlap x, w or scratch.
 */
export function linearF32(x: usize, M: i32, K: i32, w: usize, bias: usize, N: i32, out: usize, scratch: usize): void {
  const k4 = K & ~3;
  const rem = K & 3;
  const panel = scratch;
  const rowBytes = <usize>K << 2;
  for (let n0 = 0; n0 < N; n0 += 4) {
    const nv = min<i32>(4, N - n0);
    packPanelF32(w, K, N, n0, panel);
    let bv = f32x4.splat(0);
    if (bias) bv = nv == 4 ? v128.load(bias + (<usize>n0 << 2)) : loadPartialF32(bias + (<usize>n0 << 2), nv);
    for (let m0 = 0; m0 < M; m0 += 2) {
      const two = m0 + 1 < M;
      const x0 = x + <usize>m0 * rowBytes;
      const x1 = two ? x0 + rowBytes : x0;
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
      let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
      let pp = panel;
      let xo: usize = 0;
      const xe = <usize>k4 << 2;
      while (xo < xe) {
        const w0 = v128.load(pp), w1 = v128.load(pp, 16), w2 = v128.load(pp, 32), w3 = v128.load(pp, 48);
        const u = v128.load(x0 + xo);
        a00 = f32x4.add(a00, f32x4.mul(u, w0));
        a01 = f32x4.add(a01, f32x4.mul(u, w1));
        a02 = f32x4.add(a02, f32x4.mul(u, w2));
        a03 = f32x4.add(a03, f32x4.mul(u, w3));
        const v = v128.load(x1 + xo);
        a10 = f32x4.add(a10, f32x4.mul(v, w0));
        a11 = f32x4.add(a11, f32x4.mul(v, w1));
        a12 = f32x4.add(a12, f32x4.mul(v, w2));
        a13 = f32x4.add(a13, f32x4.mul(v, w3));
        xo += 16;
        pp += 64;
      }
      if (rem) {
        const w0 = v128.load(pp), w1 = v128.load(pp, 16), w2 = v128.load(pp, 32), w3 = v128.load(pp, 48);
        const u = loadPartialF32(x0 + xo, rem);
        a00 = f32x4.add(a00, f32x4.mul(u, w0));
        a01 = f32x4.add(a01, f32x4.mul(u, w1));
        a02 = f32x4.add(a02, f32x4.mul(u, w2));
        a03 = f32x4.add(a03, f32x4.mul(u, w3));
        const v = loadPartialF32(x1 + xo, rem);
        a10 = f32x4.add(a10, f32x4.mul(v, w0));
        a11 = f32x4.add(a11, f32x4.mul(v, w1));
        a12 = f32x4.add(a12, f32x4.mul(v, w2));
        a13 = f32x4.add(a13, f32x4.mul(v, w3));
      }
      let r0 = hsum4F32(a00, a01, a02, a03);
      let r1 = hsum4F32(a10, a11, a12, a13);
      if (bias) { r0 = f32x4.add(r0, bv); r1 = f32x4.add(r1, bv); }
      const o0 = out + ((<usize>m0 * <usize>N + <usize>n0) << 2);
      const o1 = o0 + (<usize>N << 2);
      if (nv == 4) {
        v128.store(o0, r0);
        if (two) v128.store(o1, r1);
      } else {
        storePartialF32(o0, r0, nv);
        if (two) storePartialF32(o1, r1, nv);
      }
    }
  }
}
