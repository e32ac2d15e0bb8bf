// Multi-head self-attention over strided Q/K/V views (f32).
//
// For head h, with row stride ld (floats) shared by q, k and v:
//   Q_h[i][d] = q[i·ld + h·headStride + d], likewise K_h from k and V_h from v
//   P = softmax_keys(Q_h·K_hᵀ·scale + keyBias)          (keyBias f32[S] or 0, added after scaling)
//   out[i·ldOut + h·headDim + d] = (P·V_h)[i][d]
// The fused per-head-interleaved QKV of the model is q = qkv, k = qkv + headDim, v = qkv + 2·headDim
// (as float offsets), headStride = 3·headDim, ld = 3·heads·headDim.
//
// Per head: K_h is transposed into KT [headDim][Sp] (Sp = S rounded up to 8, zero columns), then both
// products run as 4-row × 8-column register tiles (8 f32x4 accumulators, broadcast × 2 vectors), the
// shape of the 4×8 f32 micro-kernel that runs at peak on 16 xmm registers. Row tails reuse the last row
// (computed, not stored); the headDim tail in P·V uses partial vectors.

import { alignUp, loadPartialF32, storePartialF32 } from "./simd";
import { softmaxRow } from "./elementwise";

/** Bytes of scratch `attention` needs: KT [headDim][Sp] + P [S][Sp] f32. */
export function attentionScratchBytes(S: i32, headDim: i32): i32 {
  const Sp = alignUp(S, 8);
  return (headDim * Sp + S * Sp) * 4;
}

/**
 * See the file header. q, k, v, out: byte pointers to element (0, 0) of head 0; ld, ldOut, headStride
 * in floats. scratch: attentionScratchBytes(S, headDim) bytes, 16-aligned. out must not overlap the inputs.
 */
export function attention(q: usize, k: usize, v: usize, ld: i32, S: i32, heads: i32, headDim: i32, headStride: i32,
  scale: f32, keyBias: usize, out: usize, ldOut: i32, scratch: usize): void {
  const Sp = alignUp(S, 8);
  const kt = scratch;
  const P = scratch + ((<usize>headDim * <usize>Sp) << 2);
  const ldB = <usize>ld << 2;
  const spB = <usize>Sp << 2;
  const vscale = f32x4.splat(scale);
  for (let h = 0; h < heads; h++) {
    const hq = q + ((<usize>h * <usize>headStride) << 2);
    const hk = k + ((<usize>h * <usize>headStride) << 2);
    const hv = v + ((<usize>h * <usize>headStride) << 2);
    const ho = out + ((<usize>h * <usize>headDim) << 2);
    // KT[d][j] = K[j][d]; zero columns S..Sp
    for (let j = 0; j < S; j++) {
      const kr = hk + <usize>j * ldB;
      for (let d = 0; d < headDim; d++) store<f32>(kt + <usize>d * spB + (<usize>j << 2), load<f32>(kr + (<usize>d << 2)));
    }
    for (let j = S; j < Sp; j++) for (let d = 0; d < headDim; d++) store<f32>(kt + <usize>d * spB + (<usize>j << 2), 0);
    // P = Q·KT, 4 rows × 8 columns per tile
    for (let i0 = 0; i0 < S; i0 += 4) {
      const nr = min<i32>(4, S - i0);
      const q0 = hq + <usize>i0 * ldB;
      const q1 = nr > 1 ? q0 + ldB : q0;
      const q2 = nr > 2 ? q0 + 2 * ldB : q0;
      const q3 = nr > 3 ? q0 + 3 * ldB : q0;
      for (let j0 = 0; j0 < Sp; j0 += 8) {
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
        let bp = kt + (<usize>j0 << 2);
        let qo: usize = 0;
        const qe = <usize>headDim << 2;
        while (qo < qe) {
          const b0 = v128.load(bp), b1 = v128.load(bp, 16);
          let s = v128.load32_splat(q0 + qo);
          a00 = f32x4.add(a00, f32x4.mul(s, b0)); a01 = f32x4.add(a01, f32x4.mul(s, b1));
          s = v128.load32_splat(q1 + qo);
          a10 = f32x4.add(a10, f32x4.mul(s, b0)); a11 = f32x4.add(a11, f32x4.mul(s, b1));
          s = v128.load32_splat(q2 + qo);
          a20 = f32x4.add(a20, f32x4.mul(s, b0)); a21 = f32x4.add(a21, f32x4.mul(s, b1));
          s = v128.load32_splat(q3 + qo);
          a30 = f32x4.add(a30, f32x4.mul(s, b0)); a31 = f32x4.add(a31, f32x4.mul(s, b1));
          bp += spB;
          qo += 4;
        }
        const p0 = P + <usize>i0 * spB + (<usize>j0 << 2);
        v128.store(p0, a00); v128.store(p0, a01, 16);
        if (nr > 1) { v128.store(p0 + spB, a10); v128.store(p0 + spB, a11, 16); }
        if (nr > 2) { v128.store(p0 + 2 * spB, a20); v128.store(p0 + 2 * spB, a21, 16); }
        if (nr > 3) { v128.store(p0 + 3 * spB, a30); v128.store(p0 + 3 * spB, a31, 16); }
      }
    }
    // softmax over the S keys of each row (scale, then key bias)
    for (let i = 0; i < S; i++) softmaxRow(P + <usize>i * spB, S, keyBias, vscale);
    // out_h = P·V_h, 4 rows × 8 columns per tile
    for (let i0 = 0; i0 < S; i0 += 4) {
      const nr = min<i32>(4, S - i0);
      const p0 = P + <usize>i0 * spB;
      const p1 = nr > 1 ? p0 + spB : p0;
      const p2 = nr > 2 ? p0 + 2 * spB : p0;
      const p3 = nr > 3 ? p0 + 3 * spB : p0;
      for (let d0 = 0; d0 < headDim; d0 += 8) {
        const nd = min<i32>(8, headDim - d0);
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
        let vp = hv + (<usize>d0 << 2);
        const pe = <usize>S << 2;
        if (nd == 8) {
          for (let po: usize = 0; po < pe; po += 4) {
            const b0 = v128.load(vp), b1 = v128.load(vp, 16);
            let s = v128.load32_splat(p0 + po);
            a00 = f32x4.add(a00, f32x4.mul(s, b0)); a01 = f32x4.add(a01, f32x4.mul(s, b1));
            s = v128.load32_splat(p1 + po);
            a10 = f32x4.add(a10, f32x4.mul(s, b0)); a11 = f32x4.add(a11, f32x4.mul(s, b1));
            s = v128.load32_splat(p2 + po);
            a20 = f32x4.add(a20, f32x4.mul(s, b0)); a21 = f32x4.add(a21, f32x4.mul(s, b1));
            s = v128.load32_splat(p3 + po);
            a30 = f32x4.add(a30, f32x4.mul(s, b0)); a31 = f32x4.add(a31, f32x4.mul(s, b1));
            vp += ldB;
          }
        } else {
          const n0 = min<i32>(4, nd), n1 = nd - n0;
          for (let po: usize = 0; po < pe; po += 4) {
            const b0 = loadPartialF32(vp, n0), b1 = loadPartialF32(vp + 16, n1);
            let s = v128.load32_splat(p0 + po);
            a00 = f32x4.add(a00, f32x4.mul(s, b0)); a01 = f32x4.add(a01, f32x4.mul(s, b1));
            s = v128.load32_splat(p1 + po);
            a10 = f32x4.add(a10, f32x4.mul(s, b0)); a11 = f32x4.add(a11, f32x4.mul(s, b1));
            s = v128.load32_splat(p2 + po);
            a20 = f32x4.add(a20, f32x4.mul(s, b0)); a21 = f32x4.add(a21, f32x4.mul(s, b1));
            s = v128.load32_splat(p3 + po);
            a30 = f32x4.add(a30, f32x4.mul(s, b0)); a31 = f32x4.add(a31, f32x4.mul(s, b1));
            vp += ldB;
          }
        }
        const ldoB = <usize>ldOut << 2;
        const o = ho + <usize>i0 * ldoB + (<usize>d0 << 2);
        storeRow8(o, a00, a01, nd);
        if (nr > 1) storeRow8(o + ldoB, a10, a11, nd);
        if (nr > 2) storeRow8(o + 2 * ldoB, a20, a21, nd);
        if (nr > 3) storeRow8(o + 3 * ldoB, a30, a31, nd);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function storeRow8(p: usize, lo: v128, hi: v128, n: i32): void {
  if (n == 8) {
    v128.store(p, lo);
    v128.store(p, hi, 16);
  } else {
    storePartialF32(p, lo, min<i32>(4, n));
    if (n > 4) storePartialF32(p + 16, hi, n - 4);
  }
}
