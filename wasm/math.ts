// f32x4 elementary functions: exp, erf/erfc, GELU, tanh.
// Plain SIMD128 only (no FMA, no relaxed ops), so every engine returns the same bits.
//
// Constants are read with load32_splat from one static table (see the note in simd.ts on v128
// constants in V8); the table index names say what each one is.

// see: Cephes expf.c (S. L. Moshier): exp(x) = 2^n · P(r), r = x − n·ln2 (two-part ln2).
// see: fdlibm s_erff.c (Sun, float version by I. L. Taylor): erf/erfc on [0, .84375), [.84375, 1.25),
//      [1.25, 1/.35), [1/.35, ∞); the hex bit patterns below are its coefficients.
// see: Cephes tanhf.c: odd polynomial for |x| < 0.625, 1 − 2/(e^{2|x|} + 1) above.
// see: Numerical Recipes in C (2nd ed.) §6.2 erfcc: erfc(z) = t·exp(−z² − 1.26551223 + t·(…)),
//      t = 1/(1 + z/2), z ≥ 0, fractional error < 1.2e-7 — used by GELU, which needs erfc only.

const T: usize = memory.data<u32>([
  // 0..7: exp
  0x42b00000, // 0  88.0 (upper clamp; exp(88) is returned above it)
  0xc2aeac4f, // 1  -87.33654 (below: 0)
  0x3fb8aa3b, // 2  log2(e)
  0x3f318000, // 3  C1 = 0.693359375
  0xb95e8083, // 4  C2 = -2.12194440e-4
  0x39506967, // 5  P0 1.9875691500e-4
  0x3ab743ce, // 6  P1 1.3981999507e-3
  0x3c088908, // 7  P2 8.3334519073e-3
  0x3d2aa9c1, // 8  P3 4.1665795894e-2
  0x3e2aaaaa, // 9  P4 1.6666665459e-1
  0x3f000000, // 10 P5 5.0000001201e-1 (rounds to 0.5)
  0x3f800000, // 11 1.0
  // 12..22: erf on [0, 0.84375): erf = x + x·pp(z)/qq(z), z = x²
  0x3e0375d4, // 12 pp0
  0xbea66beb, // 13 pp1
  0xbce9528f, // 14 pp2
  0xbbbd1489, // 15 pp3
  0xb7c756b1, // 16 pp4
  0x3ecbbbce, // 17 qq1
  0x3d852a63, // 18 qq2
  0x3ba68116, // 19 qq3
  0x390aee49, // 20 qq4
  0xb684e21a, // 21 qq5
  0x3f58560b, // 22 erx = 0.84506291151
  // 23..35: erf on [0.84375, 1.25): erf = erx + pa(s)/qa(s), s = x − 1
  0xbb1acdc6, // 23 pa0
  0x3ed46805, // 24 pa1
  0xbebe9208, // 25 pa2
  0x3ea2fe54, // 26 pa3
  0xbde31cc2, // 27 pa4
  0x3d1151b3, // 28 pa5
  0xbb0df9c0, // 29 pa6
  0x3dd9f331, // 30 qa1
  0x3f0a5785, // 31 qa2
  0x3d931ae7, // 32 qa3
  0x3e013307, // 33 qa4
  0x3c5f6e13, // 34 qa5
  0x3c445aa3, // 35 qa6
  // 36..51: erfc on [1.25, 1/0.35): ra(s)/sa(s), s = 1/x²
  0xbc21a093, // 36 ra0
  0xbf31a0b7, // 37 ra1
  0xc128f022, // 38 ra2
  0xc2798057, // 39 ra3
  0xc322658c, // 40 ra4
  0xc3389ae7, // 41 ra5
  0xc2a2932b, // 42 ra6
  0xc11d077e, // 43 ra7
  0x419d35ce, // 44 sa1
  0x4309a863, // 45 sa2
  0x43d9486f, // 46 sa3
  0x442158c9, // 47 sa4
  0x43d6810b, // 48 sa5
  0x42d9451f, // 49 sa6
  0x40d23f7c, // 50 sa7
  0xbd777f97, // 51 sa8
  // 52..65: erfc on [1/0.35, ∞): rb(s)/sb(s)
  0xbc21a092, // 52 rb0
  0xbf4c9dd4, // 53 rb1
  0xc18e104b, // 54 rb2
  0xc320a2ea, // 55 rb3
  0xc41f6441, // 56 rb4
  0xc480230b, // 57 rb5
  0xc3f1c275, // 58 rb6
  0x41f2b459, // 59 sb1
  0x43a2e571, // 60 sb2
  0x44c01759, // 61 sb3
  0x4547fdbb, // 62 sb4
  0x451f90ce, // 63 sb5
  0x43ed43a7, // 64 sb6
  0xc1b38712, // 65 sb7
  // 66..: thresholds and misc
  0x3f580000, // 66 0.84375
  0x3fa00000, // 67 1.25
  0x4036db6e, // 68 1/0.35
  0x3e800000, // 69 0.25
  0x3f000000, // 70 0.5
  0x3f100000, // 71 0.5625
  0x3f3504f3, // 72 1/√2
  0x40000000, // 73 2.0
  0x3f200000, // 74 0.625 (tanh switch)
  0xbbbaf0ea, // 75 tanh p0 -5.70498872745e-3
  0x3ca9134e, // 76 tanh p1  2.06390887954e-2
  0xbd5c1e2d, // 77 tanh p2 -5.37397155531e-2
  0x3e088393, // 78 tanh p3  1.33314422036e-1
  0xbeaaaa99, // 79 tanh p4 -3.33332819422e-1
  0x7fffffff, // 80 abs mask
  0x80000000, // 81 sign mask
  0xfffff000, // 82 keep the top 12 mantissa bits (fdlibm's z)
  0x4b400000, // 83 MAGIC = 1.5·2^23: (v + MAGIC) rounds |v| < 2^22 to an integer, half to even
  0x00000000, // 84 0.0
  // 85..94: erfc(z) ≈ t·exp(−z² + P(t)), t = 1/(1 + z/2), Chebyshev fit, fractional error < 1.2e-7
  0xbfa1fc4e, // 85 -1.26551223
  0x3f8000c7, // 86  1.00002368
  0x3ebf88fb, // 87  0.37409196
  0x3dc636c9, // 88  0.09678418
  0xbe3ec24c, // 89 -0.18628806
  0x3e8ec7cc, // 90  0.27886807
  0xbf914e5d, // 91 -1.13520398
  0x3fbe87b0, // 92  1.48851587
  0xbf527892, // 93 -0.82215223
  0x3e2ef945, // 94  0.17087277
]);

/** Table entry i, splatted: one load (V8 would rebuild an immediate v128 constant at every use). */
// @ts-ignore: decorator
@inline export function c(i: i32): v128 {
  return v128.load32_splat(T + (<usize>i << 2));
}

export const K_ONE: i32 = 11;
export const K_ABS: i32 = 80;
export const K_SIGN: i32 = 81;
export const K_MAGIC: i32 = 83;
export const K_ZERO: i32 = 84;

/**
 * e^x per lane; x < -87.33654 → 0, x > 88 → e^88. Cephes expf, ~1 ulp. n = round(x·log2 e) comes from
 * the 1.5·2^23 trick (one add, exact, half to even) instead of nearest + trunc_sat (8 x64 instructions);
 * pmin/pmax clamp (plain minps/maxps; NaN in gives NaN or a clamp bound, deterministically).
 */
// @ts-ignore: decorator
@inline export function expv(x: v128): v128 {
  const under = f32x4.lt(x, c(1));
  x = f32x4.pmin(f32x4.pmax(x, c(1)), c(0));
  const magic = c(83);
  const t = f32x4.add(f32x4.mul(x, c(2)), magic);
  const fx = f32x4.sub(t, magic);
  let r = f32x4.sub(x, f32x4.mul(fx, c(3)));
  r = f32x4.sub(r, f32x4.mul(fx, c(4)));
  let y = f32x4.add(f32x4.mul(c(5), r), c(6));
  y = f32x4.add(f32x4.mul(y, r), c(7));
  y = f32x4.add(f32x4.mul(y, r), c(8));
  y = f32x4.add(f32x4.mul(y, r), c(9));
  y = f32x4.add(f32x4.mul(y, r), c(10));
  y = f32x4.add(f32x4.add(f32x4.mul(y, f32x4.mul(r, r)), r), c(11));
  // 2^n: n sits in the low mantissa bits of t; (t_bits − MAGIC_bits + 127) << 23
  const p2 = i32x4.shl(i32x4.add(i32x4.sub(t, magic), i32x4.shr_u(c(11), 23)), 23);
  return v128.andnot(f32x4.mul(y, p2), under);
}

// Per-regime pieces for a ≥ 0 (a = |x|).

/** a in [0, 0.84375): pp(z)/qq(z), z = a². */
// @ts-ignore: decorator
@inline function ratioA(a: v128): v128 {
  const z = f32x4.mul(a, a);
  let r = f32x4.add(f32x4.mul(z, c(16)), c(15));
  r = f32x4.add(f32x4.mul(z, r), c(14));
  r = f32x4.add(f32x4.mul(z, r), c(13));
  r = f32x4.add(f32x4.mul(z, r), c(12));
  let s = f32x4.add(f32x4.mul(z, c(21)), c(20));
  s = f32x4.add(f32x4.mul(z, s), c(19));
  s = f32x4.add(f32x4.mul(z, s), c(18));
  s = f32x4.add(f32x4.mul(z, s), c(17));
  s = f32x4.add(f32x4.mul(z, s), c(11));
  return f32x4.div(r, s);
}

/** a in [0.84375, 1.25): pa(s)/qa(s), s = a − 1. */
// @ts-ignore: decorator
@inline function ratioB(a: v128): v128 {
  const s = f32x4.sub(a, c(11));
  let p = f32x4.add(f32x4.mul(s, c(29)), c(28));
  p = f32x4.add(f32x4.mul(s, p), c(27));
  p = f32x4.add(f32x4.mul(s, p), c(26));
  p = f32x4.add(f32x4.mul(s, p), c(25));
  p = f32x4.add(f32x4.mul(s, p), c(24));
  p = f32x4.add(f32x4.mul(s, p), c(23));
  let q = f32x4.add(f32x4.mul(s, c(35)), c(34));
  q = f32x4.add(f32x4.mul(s, q), c(33));
  q = f32x4.add(f32x4.mul(s, q), c(32));
  q = f32x4.add(f32x4.mul(s, q), c(31));
  q = f32x4.add(f32x4.mul(s, q), c(30));
  q = f32x4.add(f32x4.mul(s, q), c(11));
  return f32x4.div(p, q);
}

/** a ≥ 1.25: erfc(a) (fdlibm: exp(−z²−0.5625)·exp((z−a)(z+a) + R/S)/a, z = a with 12 mantissa bits). */
// @ts-ignore: decorator
@inline function erfcC(a: v128): v128 {
  const s = f32x4.div(c(11), f32x4.mul(a, a));
  const near = f32x4.lt(a, c(68));
  // [1.25, 1/0.35): ra/sa
  let r1 = f32x4.add(f32x4.mul(s, c(43)), c(42));
  r1 = f32x4.add(f32x4.mul(s, r1), c(41));
  r1 = f32x4.add(f32x4.mul(s, r1), c(40));
  r1 = f32x4.add(f32x4.mul(s, r1), c(39));
  r1 = f32x4.add(f32x4.mul(s, r1), c(38));
  r1 = f32x4.add(f32x4.mul(s, r1), c(37));
  r1 = f32x4.add(f32x4.mul(s, r1), c(36));
  let s1 = f32x4.add(f32x4.mul(s, c(51)), c(50));
  s1 = f32x4.add(f32x4.mul(s, s1), c(49));
  s1 = f32x4.add(f32x4.mul(s, s1), c(48));
  s1 = f32x4.add(f32x4.mul(s, s1), c(47));
  s1 = f32x4.add(f32x4.mul(s, s1), c(46));
  s1 = f32x4.add(f32x4.mul(s, s1), c(45));
  s1 = f32x4.add(f32x4.mul(s, s1), c(44));
  s1 = f32x4.add(f32x4.mul(s, s1), c(11));
  // [1/0.35, ∞): rb/sb
  let r2 = f32x4.add(f32x4.mul(s, c(58)), c(57));
  r2 = f32x4.add(f32x4.mul(s, r2), c(56));
  r2 = f32x4.add(f32x4.mul(s, r2), c(55));
  r2 = f32x4.add(f32x4.mul(s, r2), c(54));
  r2 = f32x4.add(f32x4.mul(s, r2), c(53));
  r2 = f32x4.add(f32x4.mul(s, r2), c(52));
  let s2 = f32x4.add(f32x4.mul(s, c(65)), c(64));
  s2 = f32x4.add(f32x4.mul(s, s2), c(63));
  s2 = f32x4.add(f32x4.mul(s, s2), c(62));
  s2 = f32x4.add(f32x4.mul(s, s2), c(61));
  s2 = f32x4.add(f32x4.mul(s, s2), c(60));
  s2 = f32x4.add(f32x4.mul(s, s2), c(59));
  s2 = f32x4.add(f32x4.mul(s, s2), c(11));
  const rs = f32x4.div(v128.bitselect(r1, r2, near), v128.bitselect(s1, s2, near));
  const z = v128.and(a, c(82));
  const e1 = expv(f32x4.sub(f32x4.neg(f32x4.mul(z, z)), c(71)));
  const e2 = expv(f32x4.add(f32x4.mul(f32x4.sub(z, a), f32x4.add(z, a)), rs));
  return f32x4.div(f32x4.mul(e1, e2), a);
}

/** erf(x) per lane (fdlibm erff algorithm, SIMD; max error ≈ 1 ulp). */
// @ts-ignore: decorator
@inline export function erfv(x: v128): v128 {
  const a = v128.and(x, c(80));
  const sign = v128.and(x, c(81));
  const inA = f32x4.lt(a, c(66));
  const inC = f32x4.ge(a, c(67));
  let r = f32x4.splat(0);
  if (v128.any_true(inA)) r = f32x4.add(a, f32x4.mul(a, ratioA(a)));
  if (v128.any_true(v128.andnot(v128.not(inA), inC))) r = v128.bitselect(r, f32x4.add(c(22), ratioB(a)), inA);
  if (v128.any_true(inC)) r = v128.bitselect(f32x4.sub(c(11), erfcC(a)), r, inC);
  return v128.or(r, sign);
}

/** erfc(a) for a ≥ 0 in one piece (Numerical Recipes erfcc): one division, one exp, no branch. */
// @ts-ignore: decorator
@inline function erfcNR(a: v128): v128 {
  const t = f32x4.div(c(11), f32x4.add(c(11), f32x4.mul(c(70), a)));
  let p = f32x4.add(f32x4.mul(t, c(94)), c(93));
  p = f32x4.add(f32x4.mul(t, p), c(92));
  p = f32x4.add(f32x4.mul(t, p), c(91));
  p = f32x4.add(f32x4.mul(t, p), c(90));
  p = f32x4.add(f32x4.mul(t, p), c(89));
  p = f32x4.add(f32x4.mul(t, p), c(88));
  p = f32x4.add(f32x4.mul(t, p), c(87));
  p = f32x4.add(f32x4.mul(t, p), c(86));
  p = f32x4.add(f32x4.mul(t, p), c(85));
  return f32x4.mul(t, expv(f32x4.sub(p, f32x4.mul(a, a))));
}

/**
 * GELU(x) = 0.5·x·(1 + erf(x/√2)) per lane, exact-erf form, a = |x|/√2:
 * a < 0.84375: fdlibm's erf rational (≈1 ulp); above: x ≥ 0: 0.5·x·(2 − erfc(a)), x < 0: 0.5·x·erfc(a)
 * with the one-piece erfcNR — 2 − erfc needs only erfc's absolute accuracy, and the negative side keeps
 * its relative accuracy (no 1 + erf cancellation in the tail). ~3× cheaper than the piecewise erfc.
 */
// @ts-ignore: decorator
@inline export function geluv(x: v128): v128 {
  const a = f32x4.mul(v128.and(x, c(80)), c(72));
  const neg = f32x4.lt(x, c(84));
  const inA = f32x4.lt(a, c(66));
  const one = c(11);
  const half = c(70);
  let g = f32x4.splat(0);
  if (v128.any_true(inA)) {
    // a < 0.84375: fdlibm's erf = a + a·pp/qq, erfc split at 1/4 (1 − erf below, 0.5 − (a·R + (a − 0.5)) above)
    const y = f32x4.mul(a, ratioA(a));
    const erfA = f32x4.add(a, y);
    const erfcA = v128.bitselect(f32x4.sub(one, erfA), f32x4.sub(half, f32x4.add(y, f32x4.sub(a, half))), f32x4.lt(a, c(69)));
    g = v128.bitselect(erfcA, f32x4.add(one, erfA), neg);
  }
  if (!v128.all_true<i32>(inA)) {
    const e = erfcNR(a);
    g = v128.bitselect(g, v128.bitselect(e, f32x4.sub(c(73), e), neg), inA);
  }
  return f32x4.mul(f32x4.mul(half, x), g);
}

/** tanh(x) per lane (Cephes tanhf; max error ≈ 2 ulp). */
// @ts-ignore: decorator
@inline export function tanhv(x: v128): v128 {
  const a = v128.and(x, c(80));
  const sign = v128.and(x, c(81));
  const big = f32x4.ge(a, c(74));
  let r = f32x4.splat(0);
  if (v128.any_true(v128.not(big))) {
    const z = f32x4.mul(x, x);
    let p = f32x4.add(f32x4.mul(c(75), z), c(76));
    p = f32x4.add(f32x4.mul(p, z), c(77));
    p = f32x4.add(f32x4.mul(p, z), c(78));
    p = f32x4.add(f32x4.mul(p, z), c(79));
    r = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  }
  if (v128.any_true(big)) {
    const e = expv(f32x4.add(a, a));
    const t = f32x4.sub(c(11), f32x4.div(c(73), f32x4.add(e, c(11))));
    r = v128.bitselect(v128.or(t, sign), r, big);
  }
  return r;
}
