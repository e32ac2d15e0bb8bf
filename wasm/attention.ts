// Multi-head self-attention over strided Q/K/V views (f32).
//
// For head h, with row stride ld (floats) shared by q, k and v:
//   Q_h[i][d] = q[i·ld + h·headStride + d], likewise K_h from k and V_h from v
//   P = softmax_keys(Q_h·K_hᵀ·scale + keyBias)          (keyBias f32[S] or 0, added after scaling)
//   out[i·ldOut + h·headDim + d] = (P·V_h)[i][d]
// The fused per-head-interleaved QKV of the model is q = qkv, k = qkv + headDim, v = qkv + 2·headDim
// (as float offsets), headStride = 3·headDim, ld = 3·heads·headDim.
//
// Per head: K_h is transposed into KT, 8-key panels [Sp/8][headDim][8] (Sp = S rounded up to 8; 4 × 4
// blocks through shuffles), then per block of 4 query rows, fused:
//   1. scores = Q_blk·KT as 4-row × 8-column register tiles (8 f32x4 accumulators, broadcast × 2
//      vectors: the 4×8 f32 micro-kernel that runs at peak on 16 xmm registers); the tile's epilogue
//      applies scale and key bias, masks the padding columns to −∞, and keeps each row's running max;
//   2. e = exp(score − max) and Σ e per row (one pass);
//   3. out_blk = e·V_h in the same tiles, each row multiplied by 1/Σ e in the epilogue (the softmax
//      normalization moves after the product: 4·headDim multiplies instead of 4·S); V_h is packed per
//      head into 8-column panels first (packV says why).
// The 4 × Sp score block stays in L1. Row tails reuse the last row (computed, not stored); the headDim
// tail is zero columns of the V panel, stored partially.

import { alignUp, hmaxF32, laneMask, loadPartialF32, storePartialF32 } from "./simd";
import { expRow } from "./elementwise";

/** Bytes of scratch `attention` needs: KT [Sp/8][headDim][8] + the score block [4][Sp] + VP [Dp/8][S][8] f32. */
export function attentionScratchBytes(S: i32, headDim: i32): i32 {
  const Sp = alignUp(S, 8);
  return (headDim * Sp + 4 * Sp + alignUp(headDim, 8) * S) * 4;
}

/**
 * VP[d0/8][j][0..8) = V[j][d0..d0+8) (zeros past headDim). The model's V rows are 3·heads·headDim floats
 * apart (9 KiB for BERT-base): read in place, the S rows of a head fall on a quarter of L1's sets and
 * thrash it; packed, the e·V loop reads 32 contiguous bytes per key.
 */
// @ts-ignore: decorator
@inline function packV(hv: usize, ldB: usize, S: i32, headDim: i32, vp: usize): void {
  const blocks = alignUp(headDim, 8) >> 3;
  const full = headDim >> 3;
  const blockB = <usize>S << 5;
  for (let j = 0; j < S; j++) {
    const vr = hv + <usize>j * ldB;
    let d = vp + (<usize>j << 5);
    for (let b = 0; b < full; b++) {
      v128.store(d, v128.load(vr + (<usize>b << 5)));
      v128.store(d, v128.load(vr + (<usize>b << 5), 16), 16);
      d += blockB;
    }
    if (full < blocks) {
      const r = headDim & 7;
      const src = vr + (<usize>full << 5);
      v128.store(d, loadPartialF32(src, min<i32>(r, 4)));
      v128.store(d, r > 4 ? loadPartialF32(src + 16, r - 4) : f32x4.splat(0), 16);
    }
  }
}

/**
 * KT in 8-key panels: KT[j/8][d][j%8] = K[j][d] for j < S, d < headDim; zero keys S..Sp. One panel is
 * the B operand of one score tile, read contiguously (as a plain [headDim][Sp] matrix its rows are
 * Sp·4 bytes apart and a tile's 64 rows fall on an eighth of L1's sets).
 */
// @ts-ignore: decorator
@inline function transposeK(hk: usize, ldB: usize, S: i32, Sp: i32, headDim: i32, kt: usize): void {
  const S4 = S & ~3, D4 = headDim & ~3;
  const panelB = <usize>headDim << 5;
  for (let j = 0; j < S4; j += 4) {
    const r0 = hk + <usize>j * ldB, r1 = r0 + ldB, r2 = r1 + ldB, r3 = r2 + ldB;
    const base = kt + <usize>(j >> 3) * panelB + (<usize>(j & 4) << 2);
    for (let d = 0; d < D4; d += 4) {
      const o = <usize>d << 2;
      const a = v128.load(r0 + o), b = v128.load(r1 + o), c = v128.load(r2 + o), e = v128.load(r3 + o);
      const ab0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), ab1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
      const ce0 = v128.shuffle<f32>(c, e, 0, 4, 1, 5), ce1 = v128.shuffle<f32>(c, e, 2, 6, 3, 7);
      const t = base + (<usize>d << 5);
      v128.store(t, v128.shuffle<f32>(ab0, ce0, 0, 1, 4, 5));
      v128.store(t, v128.shuffle<f32>(ab0, ce0, 2, 3, 6, 7), 32);
      v128.store(t, v128.shuffle<f32>(ab1, ce1, 0, 1, 4, 5), 64);
      v128.store(t, v128.shuffle<f32>(ab1, ce1, 2, 3, 6, 7), 96);
    }
    for (let d = D4; d < headDim; d++) {
      const t = base + (<usize>d << 5);
      store<f32>(t, load<f32>(r0 + (<usize>d << 2)));
      store<f32>(t, load<f32>(r1 + (<usize>d << 2)), 4);
      store<f32>(t, load<f32>(r2 + (<usize>d << 2)), 8);
      store<f32>(t, load<f32>(r3 + (<usize>d << 2)), 12);
    }
  }
  for (let j = S4; j < Sp; j++) {
    const kr = hk + <usize>j * ldB;
    const base = kt + <usize>(j >> 3) * panelB + (<usize>(j & 7) << 2);
    for (let d = 0; d < headDim; d++) store<f32>(base + (<usize>d << 5), j < S ? load<f32>(kr + (<usize>d << 2)) : 0);
  }
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
  const VP = P + ((<usize>Sp << 2) << 2);
  const ldB = <usize>ld << 2;
  const spB = <usize>Sp << 2;
  const ldoB = <usize>ldOut << 2;
  const vscale = f32x4.splat(scale);
  const ninf = f32x4.splat(-Infinity);
  for (let h = 0; h < heads; h++) {
    const hq = q + ((<usize>h * <usize>headStride) << 2);
    const hk = k + ((<usize>h * <usize>headStride) << 2);
    const hv = v + ((<usize>h * <usize>headStride) << 2);
    const ho = out + ((<usize>h * <usize>headDim) << 2);
    transposeK(hk, ldB, S, Sp, headDim, kt);
    packV(hv, ldB, S, headDim, VP);
    for (let i0 = 0; i0 < S; i0 += 4) {
      const nr = min<i32>(4, S - i0);
      // 1. scores of rows i0..i0+4: scaled, biased, padding masked, running row max
      const q0 = hq + <usize>i0 * ldB;
      const q1 = nr > 1 ? q0 + ldB : q0;
      const q2 = nr > 2 ? q0 + 2 * ldB : q0;
      const q3 = nr > 3 ? q0 + 3 * ldB : q0;
      let m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
      for (let j0 = 0; j0 < Sp; j0 += 8) {
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
        let bp = kt + (<usize>(j0 >> 3) * <usize>headDim << 5);
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
          bp += 32;
          qo += 4;
        }
        // epilogue: v = score·scale + bias; columns ≥ S → −∞ (never read by the bias or the max)
        const nj = min<i32>(8, S - j0);
        let bv0 = f32x4.splat(0), bv1 = f32x4.splat(0);
        if (keyBias) {
          const bp0 = keyBias + (<usize>j0 << 2);
          bv0 = nj >= 4 ? v128.load(bp0) : loadPartialF32(bp0, nj);
          bv1 = nj == 8 ? v128.load(bp0, 16) : loadPartialF32(bp0 + 16, max<i32>(nj - 4, 0));
        }
        a00 = f32x4.add(f32x4.mul(a00, vscale), bv0); a01 = f32x4.add(f32x4.mul(a01, vscale), bv1);
        a10 = f32x4.add(f32x4.mul(a10, vscale), bv0); a11 = f32x4.add(f32x4.mul(a11, vscale), bv1);
        a20 = f32x4.add(f32x4.mul(a20, vscale), bv0); a21 = f32x4.add(f32x4.mul(a21, vscale), bv1);
        a30 = f32x4.add(f32x4.mul(a30, vscale), bv0); a31 = f32x4.add(f32x4.mul(a31, vscale), bv1);
        if (nj < 8) {
          const k0 = laneMask(min<i32>(nj, 4)), k1 = laneMask(max<i32>(nj - 4, 0));
          a00 = v128.bitselect(a00, ninf, k0); a01 = v128.bitselect(a01, ninf, k1);
          a10 = v128.bitselect(a10, ninf, k0); a11 = v128.bitselect(a11, ninf, k1);
          a20 = v128.bitselect(a20, ninf, k0); a21 = v128.bitselect(a21, ninf, k1);
          a30 = v128.bitselect(a30, ninf, k0); a31 = v128.bitselect(a31, ninf, k1);
        }
        m0 = f32x4.pmax(m0, f32x4.pmax(a00, a01));
        m1 = f32x4.pmax(m1, f32x4.pmax(a10, a11));
        m2 = f32x4.pmax(m2, f32x4.pmax(a20, a21));
        m3 = f32x4.pmax(m3, f32x4.pmax(a30, a31));
        const p0 = P + (<usize>j0 << 2);
        v128.store(p0, a00); v128.store(p0, a01, 16);
        v128.store(p0 + spB, a10); v128.store(p0 + spB, a11, 16);
        v128.store(p0 + 2 * spB, a20); v128.store(p0 + 2 * spB, a21, 16);
        v128.store(p0 + 3 * spB, a30); v128.store(p0 + 3 * spB, a31, 16);
      }
      // 2. e = exp(v − max), 1/Σ e per row (rows past nr repeat the last row: computed, not stored)
      const i0s = expRow(P, S, f32x4.splat(hmaxF32(m0)));
      const i1s = nr > 1 ? expRow(P + spB, S, f32x4.splat(hmaxF32(m1))) : i0s;
      const i2s = nr > 2 ? expRow(P + 2 * spB, S, f32x4.splat(hmaxF32(m2))) : i0s;
      const i3s = nr > 3 ? expRow(P + 3 * spB, S, f32x4.splat(hmaxF32(m3))) : i0s;
      const inv0 = f32x4.splat(i0s), inv1 = f32x4.splat(i1s), inv2 = f32x4.splat(i2s), inv3 = f32x4.splat(i3s);
      // 3. out[i0..i0+4) = e·V_h / Σ e, 4 rows × 8 columns per tile
      const p0 = P;
      const p1 = nr > 1 ? p0 + spB : p0;
      const p2 = nr > 2 ? p0 + 2 * spB : p0;
      const p3 = nr > 3 ? p0 + 3 * spB : p0;
      for (let d0 = 0; d0 < headDim; d0 += 8) {
        const nd = min<i32>(8, headDim - d0);
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
        let vp = VP + (<usize>(d0 >> 3) * <usize>S << 5);
        const pe = <usize>S << 2;
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
          vp += 32;
        }
        const o = ho + <usize>i0 * ldoB + (<usize>d0 << 2);
        storeRow8(o, f32x4.mul(a00, inv0), f32x4.mul(a01, inv0), nd);
        if (nr > 1) storeRow8(o + ldoB, f32x4.mul(a10, inv1), f32x4.mul(a11, inv1), nd);
        if (nr > 2) storeRow8(o + 2 * ldoB, f32x4.mul(a20, inv2), f32x4.mul(a21, inv2), nd);
        if (nr > 3) storeRow8(o + 3 * ldoB, f32x4.mul(a30, inv3), f32x4.mul(a31, inv3), nd);
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
