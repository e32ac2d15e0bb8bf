// FFF conditional matrix multiplication over node records (docs/architecture.md §2–3).
//
// Record (16-aligned): f32 bias, f32 inScale, f32 outScale, u32 0, then wIn[H], wOut[H] (i8 or f32),
// zero padding to a multiple of 16. Node table: u32[2^levels − 1], the record address or 0 (not resident).
//
// q8 descent: each token's x is quantized once per call to i16 with 14 bits (|q| ≤ 8191, per-token
// scale sx = amax/8191, round half to even), then logit = f32(Σ q·wIn) · (sx·inScale) + bias with an
// exact integer dot (i32x4.dot_i16x8_s; per lane ≤ H/4·8191·127 < 2^31 for H ≤ 4096, lanes summed in
// i64). The branch decision therefore depends only on integers and three IEEE f32 operations: no FMA,
// no relaxed SIMD, identical on every CPU. f32 descent: logit = f32 dot (4 lanes, fixed order) + bias.
//
// q8 accumulation: c_l = GELU(logit_l)·outScale_l per level; per token the c_l are quantized to i16
// (|q| ≤ 32767, scale cmax/32767) and levels are combined in pairs: the two wOut rows are widened with
// load8x8_s and interleaved (i16x8 shuffle) so one i32x4.dot_i16x8_s adds c_a·wa[k] + c_b·wb[k] for
// 4 outputs; per pass of up to 3 pairs (6 levels) the int32 sums stay in registers per chunk of 8
// outputs and are converted to f32 once: y += cs·f32(Σ). (Larger passes spill: TurboFan issues all
// loads of a loop body first; see docs/perf-notes.md.)
//
// Reading past H: wIn chunks of 8 may read into wOut (multiplied by the zero padding of the quantized
// x), wOut chunks of 8 stay inside the record's padding (16 + H + align8(H) ≤ recordBytes); f32 tails
// use partial vectors.

import { alignUp, hsumF32, hsumI32Wide, loadPartialF32, storePartialF32 } from "./simd";
import { geluv } from "./math";
import { absMaxRow, quantizeRowI16 } from "./quant";

// The record header and dtype codes are the package format's (src/weights/format/spec.ts); they are
// exported below so that a test can hold the two definitions to the same values.
const F32: i32 = 0;
const Q8: i32 = 1;
/** Bytes before wIn: f32 bias, f32 inScale, f32 outScale, u32 reserved. */
const RECORD_HEADER: usize = 16;
const X_LEVELS: f32 = 8191; // 14-bit activations
const C_LEVELS: f32 = 32767; // 16-bit coefficients

/** Record header size the kernels assume (checked against the format by test/kernel/format-constants.test.ts). */
export function fffRecordHeaderBytes(): i32 {
  return <i32>RECORD_HEADER;
}

/** The `dtype` argument value for f32 records. */
export function fffDtypeF32(): i32 {
  return F32;
}

/** The `dtype` argument value for q8 records. */
export function fffDtypeQ8(): i32 {
  return Q8;
}

/** Bytes of scratch fffDescend / fffAccumulate need (the larger of the two). */
export function fffScratchBytes(T: i32, H: i32, levels: i32): i32 {
  const Hp = alignUp(H, 8);
  const descend = 32 + 3 * alignUp(T * 4, 16) + T * Hp * 2;
  const pairs = (levels + 1) >> 1;
  const accumulate = alignUp(T * levels * 4, 16) + alignUp(levels * 4, 16) + pairs * 16 + alignUp(pairs * 8, 16) + 32;
  return max<i32>(descend, accumulate);
}

/**
 * Quantizes T rows of x f32[T][H] to 14-bit i16 (layout [T][Hp], Hp = H rounded up to 8) with scales
 * sx[t] = amax/8191. Exposed for tests (the descent calls it itself).
 */
export function fffQuantizeX(x: usize, T: i32, H: i32, xq: usize, sx: usize): void {
  const Hp = alignUp(H, 8);
  for (let t = 0; t < T; t++) {
    const xr = x + ((<usize>t * <usize>H) << 2);
    const amax = absMaxRow(xr, H);
    store<f32>(sx + (<usize>t << 2), amax / X_LEVELS);
    quantizeRowI16(xr, H, amax > 0 ? X_LEVELS / amax : <f32>0, xq + ((<usize>t * <usize>Hp) << 1), 16);
  }
}

/** Exact Σ xq[k]·w[k] over Hp i16 × i8 values (Hp multiple of 8). */
// @ts-ignore: decorator
@inline function dotQ8(xp: usize, wp: usize, Hp: i32): i64 {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
  const end = xp + (<usize>Hp << 1);
  const end2 = end - 16;
  while (xp < end2) {
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(xp), v128.load8x8_s(wp)));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(xp, 16), v128.load8x8_s(wp, 8)));
    xp += 32;
    wp += 16;
  }
  if (xp < end) a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(xp), v128.load8x8_s(wp)));
  return hsumI32Wide(i32x4.add(a0, a1));
}

/** f32 Σ x[k]·w[k], k < H: two 4-lane accumulators, partial vector for the tail, pairwise reduction. */
// @ts-ignore: decorator
@inline function dotF32(xr: usize, wp: usize, H: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let k = 0;
  for (; k + 8 <= H; k += 8) {
    const o = <usize>k << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(xr + o), v128.load(wp + o)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(xr + o, 16), v128.load(wp + o, 16)));
  }
  if (k + 4 <= H) {
    const o = <usize>k << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(xr + o), v128.load(wp + o)));
    k += 4;
  }
  const rem = H - k;
  if (rem) {
    const o = <usize>k << 2;
    a1 = f32x4.add(a1, f32x4.mul(loadPartialF32(xr + o, rem), loadPartialF32(wp + o, rem)));
  }
  return hsumF32(f32x4.add(a0, a1));
}

/**
 * Four exact dots at once (Σ xq_j·w_j over Hp values, Hp a multiple of 8), stored as i64 at out[0..3].
 * Four independent record streams keep several cache misses in flight (the records of one level are
 * scattered over the tree).
 */
// @ts-ignore: decorator
@inline function dot4Q8(x0: usize, x1: usize, x2: usize, x3: usize, w0: usize, w1: usize, w2: usize, w3: usize,
  Hp: i32, out: usize): void {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
  const end = x0 + (<usize>(Hp & ~15) << 1);
  while (x0 < end) {
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(x0), v128.load8x8_s(w0)));
    b0 = i32x4.add(b0, i32x4.dot_i16x8_s(v128.load(x0, 16), v128.load8x8_s(w0, 8)));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(x1), v128.load8x8_s(w1)));
    b1 = i32x4.add(b1, i32x4.dot_i16x8_s(v128.load(x1, 16), v128.load8x8_s(w1, 8)));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load(x2), v128.load8x8_s(w2)));
    b2 = i32x4.add(b2, i32x4.dot_i16x8_s(v128.load(x2, 16), v128.load8x8_s(w2, 8)));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load(x3), v128.load8x8_s(w3)));
    b3 = i32x4.add(b3, i32x4.dot_i16x8_s(v128.load(x3, 16), v128.load8x8_s(w3, 8)));
    x0 += 32; x1 += 32; x2 += 32; x3 += 32;
    w0 += 16; w1 += 16; w2 += 16; w3 += 16;
  }
  if (Hp & 8) {
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(x0), v128.load8x8_s(w0)));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(x1), v128.load8x8_s(w1)));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load(x2), v128.load8x8_s(w2)));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load(x3), v128.load8x8_s(w3)));
  }
  store<i64>(out, hsumI32Wide(i32x4.add(a0, b0)));
  store<i64>(out, hsumI32Wide(i32x4.add(a1, b1)), 8);
  store<i64>(out, hsumI32Wide(i32x4.add(a2, b2)), 16);
  store<i64>(out, hsumI32Wide(i32x4.add(a3, b3)), 24);
}

/** Records the logit of token t at level lvl and advances it (the child is 2n + 1 + (logit > 0)). */
// @ts-ignore: decorator
@inline function advance(t: i32, lvl: i32, levels: i32, paths: usize, logits: usize, progress: usize, logit: f32): void {
  const slot = <usize>(t * levels + lvl) << 2;
  store<f32>(logits + slot, logit);
  if (lvl + 1 < levels) store<i32>(paths + slot + 4, 2 * load<i32>(paths + slot) + 1 + (logit > 0 ? 1 : 0));
  store<i32>(progress + (<usize>t << 2), lvl + 1);
}

/**
 * Resumable descent (architecture §3). x f32[T][H]; table u32[2^levels − 1]; paths i32[T][levels];
 * logits f32[T][levels]; progress i32[T]; dtype 0 = f32 records, 1 = q8 records.
 * Level by level, every token whose progress equals the level and whose node is resident gets
 * logit = dot(x, wIn) + bias, paths[t][l+1] = 2n + 1 + (logit > 0), progress + 1.
 * Returns the number of tokens that stopped at a missing record (progress < levels).
 * scratch: fffScratchBytes(T, H, levels) bytes, 16-aligned.
 */
export function fffDescend(x: usize, T: i32, H: i32, levels: i32, table: usize, dtype: i32,
  paths: usize, logits: usize, progress: usize, scratch: usize): i32 {
  const Hp = alignUp(H, 8);
  const dots = scratch; // 4 × i64
  const list = scratch + 32; // i32[T] tokens active at this level, then u32[T] their records
  const recs = list + <usize>alignUp(T * 4, 16);
  const sx = recs + <usize>alignUp(T * 4, 16);
  const xq = sx + <usize>alignUp(T * 4, 16);
  if (dtype == Q8) fffQuantizeX(x, T, H, xq, sx);
  for (let lvl = 0; lvl < levels; lvl++) {
    // tokens at this level whose record is resident
    let cnt = 0;
    for (let t = 0; t < T; t++) {
      if (load<i32>(progress + (<usize>t << 2)) != lvl) continue;
      const node = load<i32>(paths + (<usize>(t * levels + lvl) << 2));
      const rec = load<u32>(table + (<usize>node << 2));
      if (rec == 0) continue;
      store<i32>(list + (<usize>cnt << 2), t);
      store<u32>(recs + (<usize>cnt << 2), rec);
      cnt++;
    }
    if (dtype == Q8) {
      // touch every wIn line of this level's records first: many independent misses in flight
      let touch: u32 = 0;
      for (let i = 0; i < cnt; i++) {
        const r = <usize>load<u32>(recs + (<usize>i << 2));
        const e = r + RECORD_HEADER + <usize>H;
        for (let a = r; a < e; a += 64) touch += load<u8>(a);
      }
      store<u32>(dots, touch);
      const rowB = <usize>Hp << 1;
      // fewer than four tokens left (always the case at T < 4): one dot each, instead of dot4Q8 with
      // repeated pointers (which computed the last dot up to four times: 2.4× the per-token cost at T = 1)
      const cnt4 = cnt & ~3;
      for (let i = cnt4; i < cnt; i++) {
        const t = load<i32>(list + (<usize>i << 2));
        const rec = <usize>load<u32>(recs + (<usize>i << 2));
        const dot = dotQ8(xq + <usize>t * rowB, rec + RECORD_HEADER, Hp);
        const logit = <f32>dot * (load<f32>(sx + (<usize>t << 2)) * load<f32>(rec, 4)) + load<f32>(rec);
        advance(t, lvl, levels, paths, logits, progress, logit);
      }
      for (let i = 0; i < cnt4; i += 4) {
        const j1 = i + 1, j2 = i + 2, j3 = i + 3;
        const t0 = load<i32>(list + (<usize>i << 2)), t1 = load<i32>(list + (<usize>j1 << 2));
        const t2 = load<i32>(list + (<usize>j2 << 2)), t3 = load<i32>(list + (<usize>j3 << 2));
        dot4Q8(xq + <usize>t0 * rowB, xq + <usize>t1 * rowB, xq + <usize>t2 * rowB, xq + <usize>t3 * rowB,
          <usize>load<u32>(recs + (<usize>i << 2)) + RECORD_HEADER, <usize>load<u32>(recs + (<usize>j1 << 2)) + RECORD_HEADER,
          <usize>load<u32>(recs + (<usize>j2 << 2)) + RECORD_HEADER, <usize>load<u32>(recs + (<usize>j3 << 2)) + RECORD_HEADER, Hp, dots);
        for (let j = 0; j < 4; j++) {
          const t = load<i32>(list + (<usize>(i + j) << 2));
          const rec = <usize>load<u32>(recs + (<usize>(i + j) << 2));
          const dot = load<i64>(dots + (<usize>j << 3));
          // three IEEE f32 operations in a fixed order: f32(dot)·(sx·inScale) + bias
          const logit = <f32>dot * (load<f32>(sx + (<usize>t << 2)) * load<f32>(rec, 4)) + load<f32>(rec);
          advance(t, lvl, levels, paths, logits, progress, logit);
        }
      }
    } else {
      for (let i = 0; i < cnt; i++) {
        const t = load<i32>(list + (<usize>i << 2));
        const rec = <usize>load<u32>(recs + (<usize>i << 2));
        advance(t, lvl, levels, paths, logits, progress, dotF32(x + ((<usize>t * <usize>H) << 2), rec + RECORD_HEADER, H) + load<f32>(rec));
      }
    }
  }
  let blocked = 0;
  for (let t = 0; t < T; t++) if (load<i32>(progress + (<usize>t << 2)) < levels) blocked++;
  return blocked;
}

/**
 * y f32[T][H] += Σ_l GELU(logits[t][l]) · wOut[paths[t][l]] for every token (architecture §3).
 * Every record on the paths must be resident. dtype 0 = f32, 1 = q8.
 * scratch: fffScratchBytes(T, H, levels) bytes, 16-aligned.
 */
export function fffAccumulate(y: usize, T: i32, H: i32, levels: i32, table: usize, dtype: i32,
  paths: usize, logits: usize, scratch: usize): void {
  // GELU of all T·levels logits at once
  const n = T * levels;
  const g = scratch;
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) v128.store(g + (<usize>i << 2), geluv(v128.load(logits + (<usize>i << 2))));
  if (n & 3) storePartialF32(g + (<usize>n4 << 2), geluv(loadPartialF32(logits + (<usize>n4 << 2), n & 3)), n & 3);
  const woff = dtype == Q8 ? <usize>H + RECORD_HEADER : (<usize>H << 2) + RECORD_HEADER;
  const cbuf = g + <usize>alignUp(n * 4, 16);
  const pairs = (levels + 1) >> 1;
  const coef = cbuf + <usize>alignUp(levels * 4, 16);
  const ptrs = coef + (<usize>pairs << 4);
  const tail = ptrs + (<usize>alignUp(pairs * 8, 16)); // 8 floats
  for (let t = 0; t < T; t++) {
    const yr = y + ((<usize>t * <usize>H) << 2);
    const base = <usize>(t * levels) << 2;
    if (dtype != Q8) {
      for (let l = 0; l < levels; l++) {
        const rec = <usize>load<u32>(table + (<usize>load<i32>(paths + base + (<usize>l << 2)) << 2));
        axpyF32(yr, load<f32>(g + base + (<usize>l << 2)), rec + woff, H);
      }
      continue;
    }
    // c_l = GELU(logit)·outScale, quantized to i16 with one scale per token
    let cmax: f32 = 0;
    for (let l = 0; l < levels; l++) {
      const rec = <usize>load<u32>(table + (<usize>load<i32>(paths + base + (<usize>l << 2)) << 2));
      const c = load<f32>(g + base + (<usize>l << 2)) * load<f32>(rec, 8);
      store<f32>(cbuf + (<usize>l << 2), c);
      store<u32>(ptrs + (<usize>l << 2), <u32>(rec + woff));
      cmax = max<f32>(cmax, abs<f32>(c));
    }
    if (cmax == 0) continue;
    const inv = C_LEVELS / cmax;
    const cs = cmax / C_LEVELS;
    for (let p = 0; p < pairs; p++) {
      const la = p << 1;
      const qa = <i32>nearest<f32>(load<f32>(cbuf + (<usize>la << 2)) * inv);
      let qb = 0;
      if (la + 1 < levels) qb = <i32>nearest<f32>(load<f32>(cbuf + (<usize>(la + 1) << 2)) * inv);
      else store<u32>(ptrs + (<usize>(la + 1) << 2), load<u32>(ptrs + (<usize>la << 2))); // odd levels: b = a, coefficient 0
      v128.store(coef + (<usize>p << 4), i32x4.splat((qb << 16) | (qa & 0xffff)));
    }
    const csv = f32x4.splat(cs);
    let p = 0;
    for (; p + 3 <= pairs; p += 3) accPass(3, yr, H, coef + (<usize>p << 4), ptrs + (<usize>p << 3), csv, tail);
    for (; p < pairs; p++) accPass(1, yr, H, coef + (<usize>p << 4), ptrs + (<usize>p << 3), csv, tail);
  }
}

/** y[k] += c·w[k], k < H (f32). */
// @ts-ignore: decorator
@inline function axpyF32(yr: usize, c: f32, wp: usize, H: i32): void {
  const cv = f32x4.splat(c);
  const h4 = H & ~3;
  for (let k = 0; k < h4; k += 4) {
    const o = <usize>k << 2;
    v128.store(yr + o, f32x4.add(v128.load(yr + o), f32x4.mul(cv, v128.load(wp + o))));
  }
  const rem = H & 3;
  if (rem) {
    const o = <usize>h4 << 2;
    storePartialF32(yr + o, f32x4.add(loadPartialF32(yr + o, rem), f32x4.mul(cv, loadPartialF32(wp + o, rem))), rem);
  }
}

// @ts-ignore: decorator
@inline function pairLo(va: v128, vb: v128, c: v128): v128 {
  return i32x4.dot_i16x8_s(v128.shuffle<i16>(va, vb, 0, 8, 1, 9, 2, 10, 3, 11), c);
}

// @ts-ignore: decorator
@inline function pairHi(va: v128, vb: v128, c: v128): v128 {
  return i32x4.dot_i16x8_s(v128.shuffle<i16>(va, vb, 4, 12, 5, 13, 6, 14, 7, 15), c);
}

/** One chunk of 8 outputs for N pairs: y[o..o+8) += cs·Σ pairs, widened rows at offset kk. */
// @ts-ignore: decorator
@inline function accChunk(N: i32, kk: usize, o: usize, a0: usize, b0: usize, a1: usize, b1: usize, a2: usize, b2: usize,
  a3: usize, b3: usize, a4: usize, b4: usize, a5: usize, b5: usize,
  c0: v128, c1: v128, c2: v128, c3: v128, c4: v128, c5: v128, csv: v128): void {
  let va = v128.load8x8_s(a0 + kk), vb = v128.load8x8_s(b0 + kk);
  let s0 = pairLo(va, vb, c0), s1 = pairHi(va, vb, c0);
  if (N > 1) {
    va = v128.load8x8_s(a1 + kk); vb = v128.load8x8_s(b1 + kk);
    s0 = i32x4.add(s0, pairLo(va, vb, c1)); s1 = i32x4.add(s1, pairHi(va, vb, c1));
  }
  if (N > 2) {
    va = v128.load8x8_s(a2 + kk); vb = v128.load8x8_s(b2 + kk);
    s0 = i32x4.add(s0, pairLo(va, vb, c2)); s1 = i32x4.add(s1, pairHi(va, vb, c2));
  }
  if (N > 3) {
    va = v128.load8x8_s(a3 + kk); vb = v128.load8x8_s(b3 + kk);
    s0 = i32x4.add(s0, pairLo(va, vb, c3)); s1 = i32x4.add(s1, pairHi(va, vb, c3));
  }
  if (N > 4) {
    va = v128.load8x8_s(a4 + kk); vb = v128.load8x8_s(b4 + kk);
    s0 = i32x4.add(s0, pairLo(va, vb, c4)); s1 = i32x4.add(s1, pairHi(va, vb, c4));
  }
  if (N > 5) {
    va = v128.load8x8_s(a5 + kk); vb = v128.load8x8_s(b5 + kk);
    s0 = i32x4.add(s0, pairLo(va, vb, c5)); s1 = i32x4.add(s1, pairHi(va, vb, c5));
  }
  v128.store(o, f32x4.add(v128.load(o), f32x4.mul(f32x4.convert_i32x4_s(s0), csv)));
  v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(f32x4.convert_i32x4_s(s1), csv)), 16);
}

/**
 * One accumulation pass over N ≤ 6 level pairs (N is a compile-time constant after inlining):
 * y[k] += cs·Σ_p (qa_p·wa_p[k] + qb_p·wb_p[k]) for k < H, where coef[p] is the i32 splat of
 * (qb << 16 | qa) and ptrs[2p], ptrs[2p+1] are the two wOut rows (int8). Coefficients stay in registers;
 * 8 outputs per iteration (2 int32 accumulators), converted to f32 once per pass; the last chunk
 * stores partially (wOut reads of 8 stay inside the record: 16 + H + align8(H) ≤ recordBytes).
 * Used with N = 3 (measured best; 6 spills) and N = 1 for the rest.
 */
// @ts-ignore: decorator
@inline function accPass(N: i32, yr: usize, H: i32, coef: usize, ptrs: usize, csv: v128, tail: usize): void {
  const c0 = v128.load(coef);
  const c1 = N > 1 ? v128.load(coef, 16) : c0;
  const c2 = N > 2 ? v128.load(coef, 32) : c0;
  const c3 = N > 3 ? v128.load(coef, 48) : c0;
  const c4 = N > 4 ? v128.load(coef, 64) : c0;
  const c5 = N > 5 ? v128.load(coef, 80) : c0;
  const a0 = <usize>load<u32>(ptrs), b0 = <usize>load<u32>(ptrs, 4);
  const a1 = N > 1 ? <usize>load<u32>(ptrs, 8) : a0, b1 = N > 1 ? <usize>load<u32>(ptrs, 12) : a0;
  const a2 = N > 2 ? <usize>load<u32>(ptrs, 16) : a0, b2 = N > 2 ? <usize>load<u32>(ptrs, 20) : a0;
  const a3 = N > 3 ? <usize>load<u32>(ptrs, 24) : a0, b3 = N > 3 ? <usize>load<u32>(ptrs, 28) : a0;
  const a4 = N > 4 ? <usize>load<u32>(ptrs, 32) : a0, b4 = N > 4 ? <usize>load<u32>(ptrs, 36) : a0;
  const a5 = N > 5 ? <usize>load<u32>(ptrs, 40) : a0, b5 = N > 5 ? <usize>load<u32>(ptrs, 44) : a0;
  const full = H & ~7;
  for (let k = 0; k < full; k += 8) {
    accChunk(N, <usize>k, yr + (<usize>k << 2), a0, b0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5, c0, c1, c2, c3, c4, c5, csv);
  }
  const r = H - full;
  if (r) {
    // last partial chunk: through an 8-float buffer so the loop body has no tail test
    const o = yr + (<usize>full << 2);
    v128.store(tail, f32x4.splat(0));
    v128.store(tail, f32x4.splat(0), 16);
    for (let i = 0; i < r; i++) store<f32>(tail + (<usize>i << 2), load<f32>(o + (<usize>i << 2)));
    accChunk(N, <usize>full, tail, a0, b0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5, c0, c1, c2, c3, c4, c5, csv);
    for (let i = 0; i < r; i++) store<f32>(o + (<usize>i << 2), load<f32>(tail + (<usize>i << 2)));
  }
}
