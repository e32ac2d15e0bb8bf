// Roofline probes (bench only, not part of the shipped kernels): the inner loops of the kernels with
// their operands in L1, so that their rate is the ceiling of the instruction mix on this V8 and CPU.
// Built by `npm run asbuild:roofline` (relaxed SIMD enabled); bench/kernels.ts runs them.
// Each probe runs `reps` passes over n chunks at x (activations) and w (weights) and returns a checksum.

/** The SIMD128 GEMM tile (wasm/q8.ts): 2 rows × 4 columns, i16 operands, pmaddwd + paddd; 64 MAC per chunk. */
export function probeGemmSimd128(x: usize, w: usize, n: i32, reps: i32): i32 {
  let s = i32x4.splat(0);
  for (let r = 0; r < reps; r++) {
    let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
    let a10 = i32x4.splat(0), a11 = i32x4.splat(0), a12 = i32x4.splat(0), a13 = i32x4.splat(0);
    let xp = x, pp = w;
    const xe = x + (<usize>n << 5);
    while (xp < xe) {
      const w0 = v128.load(pp), w1 = v128.load(pp, 16), w2 = v128.load(pp, 32), w3 = v128.load(pp, 48);
      const x0 = v128.load(xp);
      a00 = i32x4.add(a00, i32x4.dot_i16x8_s(x0, w0)); a01 = i32x4.add(a01, i32x4.dot_i16x8_s(x0, w1));
      a02 = i32x4.add(a02, i32x4.dot_i16x8_s(x0, w2)); a03 = i32x4.add(a03, i32x4.dot_i16x8_s(x0, w3));
      const x1 = v128.load(xp, 16);
      a10 = i32x4.add(a10, i32x4.dot_i16x8_s(x1, w0)); a11 = i32x4.add(a11, i32x4.dot_i16x8_s(x1, w1));
      a12 = i32x4.add(a12, i32x4.dot_i16x8_s(x1, w2)); a13 = i32x4.add(a13, i32x4.dot_i16x8_s(x1, w3));
      xp += 32;
      pp += 64;
    }
    s = i32x4.add(s, i32x4.add(i32x4.add(i32x4.add(a00, a01), i32x4.add(a02, a03)), i32x4.add(i32x4.add(a10, a11), i32x4.add(a12, a13))));
  }
  return i32x4.extract_lane(s, 0);
}

/** 2 × 4 tile, one relaxed dot per 16 MAC (what 7-bit activations would allow); 128 MAC per chunk. */
export function probeGemmRelaxedOneDot(x: usize, w: usize, n: i32, reps: i32): i32 {
  let s = i32x4.splat(0);
  for (let r = 0; r < reps; r++) {
    let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
    let a10 = i32x4.splat(0), a11 = i32x4.splat(0), a12 = i32x4.splat(0), a13 = i32x4.splat(0);
    let xp = x, pp = w;
    const xe = x + (<usize>n << 5);
    while (xp < xe) {
      const w0 = v128.load(pp), w1 = v128.load(pp, 16), w2 = v128.load(pp, 32), w3 = v128.load(pp, 48);
      const x0 = v128.load(xp);
      a00 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, x0, a00); a01 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, x0, a01);
      a02 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w2, x0, a02); a03 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w3, x0, a03);
      const x1 = v128.load(xp, 16);
      a10 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, x1, a10); a11 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, x1, a11);
      a12 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w2, x1, a12); a13 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w3, x1, a13);
      xp += 32;
      pp += 64;
    }
    s = i32x4.add(s, i32x4.add(i32x4.add(i32x4.add(a00, a01), i32x4.add(a02, a03)), i32x4.add(i32x4.add(a10, a11), i32x4.add(a12, a13))));
  }
  return i32x4.extract_lane(s, 0);
}

/** The relaxed build's exact tile (wasm/q8.ts): two relaxed dots (u7 halves) per 16 MAC; 128 MAC per chunk. */
export function probeGemmRelaxedExact(x: usize, w: usize, n: i32, reps: i32): i32 {
  let s = i32x4.splat(0);
  for (let r = 0; r < reps; r++) {
    let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
    let a10 = i32x4.splat(0), a11 = i32x4.splat(0), a12 = i32x4.splat(0), a13 = i32x4.splat(0);
    let xp = x, pp = w;
    const xe = x + (<usize>n << 6);
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
    s = i32x4.add(s, i32x4.add(i32x4.add(i32x4.add(a00, a01), i32x4.add(a02, a03)), i32x4.add(i32x4.add(a10, a11), i32x4.add(a12, a13))));
  }
  return i32x4.extract_lane(s, 0);
}

/** 2 × 4 tile of i16x8.relaxed_dot_i8x16_i7x16_s + i16 add (pmaddubsw + paddw): exact only for small operands. */
export function probeGemmRelaxedI16(x: usize, w: usize, n: i32, reps: i32): i32 {
  let s = i32x4.splat(0);
  for (let r = 0; r < reps; r++) {
    let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
    let a10 = i32x4.splat(0), a11 = i32x4.splat(0), a12 = i32x4.splat(0), a13 = i32x4.splat(0);
    let xp = x, pp = w;
    const xe = x + (<usize>n << 5);
    while (xp < xe) {
      const w0 = v128.load(pp), w1 = v128.load(pp, 16), w2 = v128.load(pp, 32), w3 = v128.load(pp, 48);
      const x0 = v128.load(xp);
      a00 = i16x8.add(a00, i16x8.relaxed_dot_i8x16_i7x16_s(w0, x0)); a01 = i16x8.add(a01, i16x8.relaxed_dot_i8x16_i7x16_s(w1, x0));
      a02 = i16x8.add(a02, i16x8.relaxed_dot_i8x16_i7x16_s(w2, x0)); a03 = i16x8.add(a03, i16x8.relaxed_dot_i8x16_i7x16_s(w3, x0));
      const x1 = v128.load(xp, 16);
      a10 = i16x8.add(a10, i16x8.relaxed_dot_i8x16_i7x16_s(w0, x1)); a11 = i16x8.add(a11, i16x8.relaxed_dot_i8x16_i7x16_s(w1, x1));
      a12 = i16x8.add(a12, i16x8.relaxed_dot_i8x16_i7x16_s(w2, x1)); a13 = i16x8.add(a13, i16x8.relaxed_dot_i8x16_i7x16_s(w3, x1));
      xp += 32;
      pp += 64;
    }
    s = i32x4.add(s, i32x4.add(i32x4.add(i32x4.add(a00, a01), i32x4.add(a02, a03)), i32x4.add(i32x4.add(a10, a11), i32x4.add(a12, a13))));
  }
  return i32x4.extract_lane(s, 0);
}

/** The f32 4 × 8 tile (attention, linearF32): broadcast × 2 vectors, mul + add (no FMA in SIMD128); 32 MAC per step. */
export function probeF32Tile(x: usize, w: usize, n: i32, reps: i32): f32 {
  let s = f32x4.splat(0);
  for (let r = 0; r < reps; r++) {
    let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
    let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
    let bp = w;
    let xo: usize = 0;
    const xe = <usize>n << 2;
    while (xo < xe) {
      const b0 = v128.load(bp), b1 = v128.load(bp, 16);
      let q = v128.load32_splat(x + xo);
      a00 = f32x4.add(a00, f32x4.mul(q, b0)); a01 = f32x4.add(a01, f32x4.mul(q, b1));
      q = v128.load32_splat(x + xo, 1024);
      a10 = f32x4.add(a10, f32x4.mul(q, b0)); a11 = f32x4.add(a11, f32x4.mul(q, b1));
      q = v128.load32_splat(x + xo, 2048);
      a20 = f32x4.add(a20, f32x4.mul(q, b0)); a21 = f32x4.add(a21, f32x4.mul(q, b1));
      q = v128.load32_splat(x + xo, 3072);
      a30 = f32x4.add(a30, f32x4.mul(q, b0)); a31 = f32x4.add(a31, f32x4.mul(q, b1));
      bp += 32;
      xo += 4;
    }
    s = f32x4.add(s, f32x4.add(f32x4.add(f32x4.add(a00, a01), f32x4.add(a10, a11)), f32x4.add(f32x4.add(a20, a21), f32x4.add(a30, a31))));
  }
  return f32x4.extract_lane(s, 0);
}
