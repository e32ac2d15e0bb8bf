/**
 * Plain-TypeScript reference versions (`…Ref`) of the kernels, for tests. Two kinds:
 * - float64 references (most): the mathematical result, computed in double precision and rounded to
 *   f32 once; compare with a named tolerance.
 * - exact replicas (the integer paths: `quantizeRowsQ8Ref`, `gemmQ8I32Ref`, `linearQ8Ref`,
 *   `fffQuantizeXRef`, the `exact` mode of `fffDescendRef`): the same f32 operations in the same order
 *   (Math.fround after each), so the kernel must match bit for bit.
 */
import { UfbError } from "../errors.ts";
import type { FffRecord } from "../weights/format/records.ts";

const f = Math.fround;

// ---------------------------------------------------------------- special functions (float64)

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf in float64 (series e^{−x²}·Σ 2ⁿx^{2n+1}/(2n+1)!! below 2.5, continued fraction above); rel. error ≈ 1e-15. */
export function erf64(x: number): number {
  const a = Math.abs(x);
  if (Number.isNaN(a)) return NaN;
  const r = a < 2.5 ? erfSeries(a) : 1 - erfc64(a);
  return x < 0 ? -r : r;
}

/** erfc in float64 with relative accuracy in the tail (continued fraction for x ≥ 2.5). */
export function erfc64(x: number): number {
  if (x < 2.5) return 1 - erf64(x);
  if (x > 27) return 0;
  // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated from the tail
  let t = x;
  for (let k = 300; k >= 1; k--) t = x + k / 2 / t;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / t;
}

function erfSeries(a: number): number {
  const a2 = a * a;
  let term = a;
  let sum = a;
  for (let n = 1; n < 500; n++) {
    term *= (2 * a2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-a2) * sum;
}

/** GELU(z) = 0.5·z·(1 + erf(z/√2)) in float64 (erfc form for z < 0). */
export function gelu64(z: number): number {
  return z >= 0 ? 0.5 * z * (1 + erf64(z * Math.SQRT1_2)) : 0.5 * z * erfc64(-z * Math.SQRT1_2);
}

export function erfRef(x: Float32Array): Float32Array {
  return x.map(erf64);
}

export function geluRef(x: Float32Array): Float32Array {
  return x.map(gelu64);
}

export function tanhRef(x: Float32Array): Float32Array {
  return x.map(Math.tanh);
}

export function expRef(x: Float32Array): Float32Array {
  return x.map(Math.exp);
}

// ---------------------------------------------------------------- row kernels (float64)

export function layerNormRef(x: Float32Array, rows: number, cols: number, gamma: Float32Array, beta: Float32Array, eps: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < cols; i++) mean += x[r * cols + i];
    mean /= cols;
    let v = 0;
    for (let i = 0; i < cols; i++) v += (x[r * cols + i] - mean) ** 2;
    v /= cols;
    const rstd = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < cols; i++) out[r * cols + i] = (x[r * cols + i] - mean) * rstd * gamma[i] + beta[i];
  }
  return out;
}

export function addRef(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v + b[i]);
}

/** Softmax of each row of x[rows][cols] (row stride ld) after v = x·scale + bias. */
export function softmaxRowsRef(x: Float32Array, rows: number, cols: number, ld = cols, bias?: Float32Array, scale = 1): Float32Array {
  const out = new Float32Array(x);
  for (let r = 0; r < rows; r++) {
    const v = new Float64Array(cols);
    let m = -Infinity;
    for (let i = 0; i < cols; i++) {
      v[i] = x[r * ld + i] * scale + (bias ? bias[i] : 0);
      m = Math.max(m, v[i]);
    }
    let s = 0;
    for (let i = 0; i < cols; i++) s += (v[i] = Math.exp(v[i] - m));
    for (let i = 0; i < cols; i++) out[r * ld + i] = v[i] / s;
  }
  return out;
}

// ---------------------------------------------------------------- dense products

/** out[M][N] = x[M][K]·w[N][K]ᵀ + bias, float64 accumulation. */
export function linearF32Ref(x: Float32Array, M: number, K: number, w: Float32Array, bias: Float32Array | null, N: number): Float32Array {
  const out = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = bias ? bias[n] : 0;
      for (let k = 0; k < K; k++) s += x[m * K + k] * w[n * K + k];
      out[m * N + n] = s;
    }
  }
  return out;
}

/** Round half to even (what f32x4.nearest and the 1.5·2^23 trick do). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Exact replica of quantizeRowsQ8: q[m][k] int8 and the row scales sx[m] = amax/127. */
export function quantizeRowsQ8Ref(x: Float32Array, M: number, K: number): { q: Int8Array; scale: Float32Array } {
  return quantizeRowsRef(x, M, K, 127, Int8Array) as { q: Int8Array; scale: Float32Array };
}

function quantizeRowsRef(x: Float32Array, M: number, K: number, levels: number, Ctor: Int8ArrayConstructor | Int16ArrayConstructor) {
  const q = new Ctor(M * K);
  const scale = new Float32Array(M);
  for (let m = 0; m < M; m++) {
    let amax = 0;
    for (let k = 0; k < K; k++) amax = Math.max(amax, Math.abs(x[m * K + k]));
    scale[m] = f(amax / levels);
    const inv = amax > 0 ? f(levels / amax) : 0;
    for (let k = 0; k < K; k++) q[m * K + k] = roundHalfEven(f(x[m * K + k] * inv));
  }
  return { q, scale };
}

/** Exact int32 GEMM: out[m][n] = Σ_k q[m][k]·w[n][k]. */
export function gemmQ8I32Ref(q: Int8Array | Int16Array, M: number, K: number, w: Int8Array, N: number): Int32Array {
  const out = new Int32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += q[m * K + k] * w[n * K + k];
      out[m * N + n] = s;
    }
  }
  return out;
}

/** Exact replica of linearQ8: f32(Σ qx·qw)·(sx[m]·ws[n]) + bias[n], each step rounded to f32. */
export function linearQ8Ref(x: Float32Array, M: number, K: number, w: Int8Array, ws: Float32Array, bias: Float32Array | null, N: number): Float32Array {
  const { q, scale } = quantizeRowsQ8Ref(x, M, K);
  const acc = gemmQ8I32Ref(q, M, K, w, N);
  const out = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let y = f(f(acc[m * N + n]) * f(scale[m] * ws[n]));
      if (bias) y = f(y + bias[n]);
      out[m * N + n] = y;
    }
  }
  return out;
}

/** Dense int8 linear in float64 from the dequantized weights (no activation quantization). */
export function linearQ8Float64Ref(x: Float32Array, M: number, K: number, w: Int8Array, ws: Float32Array, bias: Float32Array | null, N: number): Float32Array {
  const wd = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wd[n * K + k] = w[n * K + k] * ws[n];
  return linearF32Ref(x, M, K, wd, bias, N);
}

// ---------------------------------------------------------------- attention (float64)

export interface AttentionRefParams {
  /** the matrix holding Q, K and V: rows of ld floats */
  qkv: Float32Array;
  /** float offsets of element (0,0) of head 0 of Q, K and V inside qkv */
  offQ: number;
  offK: number;
  offV: number;
  ld: number;
  S: number;
  heads: number;
  headDim: number;
  headStride: number;
  scale: number;
  keyBias?: Float32Array;
  ldOut: number;
}

export function attentionRef(p: AttentionRefParams): Float32Array {
  const { qkv, ld, S, heads, headDim, headStride, scale, ldOut } = p;
  const out = new Float32Array(S * ldOut);
  for (let h = 0; h < heads; h++) {
    const q0 = p.offQ + h * headStride, k0 = p.offK + h * headStride, v0 = p.offV + h * headStride;
    for (let i = 0; i < S; i++) {
      const s = new Float64Array(S);
      let m = -Infinity;
      for (let j = 0; j < S; j++) {
        let d = 0;
        for (let e = 0; e < headDim; e++) d += qkv[i * ld + q0 + e] * qkv[j * ld + k0 + e];
        s[j] = d * scale + (p.keyBias ? p.keyBias[j] : 0);
        m = Math.max(m, s[j]);
      }
      let z = 0;
      for (let j = 0; j < S; j++) z += (s[j] = Math.exp(s[j] - m));
      for (let e = 0; e < headDim; e++) {
        let acc = 0;
        for (let j = 0; j < S; j++) acc += s[j] * qkv[j * ld + v0 + e];
        out[i * ldOut + h * headDim + e] = acc / z;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- FFF

export type { FffRecord };


/** Exact replica of fffQuantizeX: 14-bit i16 per token, sx[t] = amax/8191. */
export function fffQuantizeXRef(x: Float32Array, T: number, H: number): { q: Int16Array; scale: Float32Array } {
  return quantizeRowsRef(x, T, H, 8191, Int16Array) as { q: Int16Array; scale: Float32Array };
}

export interface FffDescendRefParams {
  x: Float32Array;
  T: number;
  H: number;
  levels: number;
  /** the record of node n, or null when it is not resident */
  record: (node: number) => FffRecord | null;
  paths: Int32Array;
  logits: Float32Array;
  progress: Int32Array;
  /**
   * "f64": logit = Σ x·(wIn·inScale) + bias in float64 (the mathematical reference).
   * "exact": the kernel's q8 arithmetic (14-bit x, integer dot, three f32 ops); q8 records only.
   */
  mode?: "f64" | "exact";
  /** f64 mode: receives the float64 logits (T·levels), for tolerance checks */
  logits64?: Float64Array;
}

/** Reference of fffDescend (same contract, same resumability); returns the blocked count. */
export function fffDescendRef(p: FffDescendRefParams): number {
  const { x, T, H, levels, paths, logits, progress } = p;
  const exact = p.mode === "exact";
  const xq = exact ? fffQuantizeXRef(x, T, H) : null;
  for (let t = 0; t < T; t++) {
    while (progress[t] < levels) {
      const lvl = progress[t];
      const node = paths[t * levels + lvl];
      const rec = p.record(node);
      if (!rec) break;
      let logit: number;
      if (xq) {
        let dot = 0;
        for (let k = 0; k < H; k++) dot += xq.q[t * H + k] * rec.wIn[k];
        logit = f(f(f(dot) * f(xq.scale[t] * rec.inScale)) + rec.bias);
      } else {
        let dot = 0;
        for (let k = 0; k < H; k++) dot += x[t * H + k] * rec.wIn[k];
        const l64 = dot * rec.inScale + rec.bias;
        if (p.logits64) p.logits64[t * levels + lvl] = l64;
        logit = l64;
      }
      logits[t * levels + lvl] = logit;
      if (lvl + 1 < levels) paths[t * levels + lvl + 1] = 2 * node + 1 + (logit > 0 ? 1 : 0);
      progress[t] = lvl + 1;
    }
  }
  let blocked = 0;
  for (let t = 0; t < T; t++) if (progress[t] < levels) blocked++;
  return blocked;
}

export interface FffAccumulateRefParams {
  /** f32[T][H], updated in place: y += Σ_l GELU(logit)·wOut·outScale (float64 sum, one rounding) */
  y: Float32Array;
  T: number;
  H: number;
  levels: number;
  record: (node: number) => FffRecord | null;
  paths: Int32Array;
  logits: Float32Array;
}

export function fffAccumulateRef(p: FffAccumulateRefParams): void {
  const { y, T, H, levels, paths, logits } = p;
  for (let t = 0; t < T; t++) {
    const acc = new Float64Array(H);
    for (let k = 0; k < H; k++) acc[k] = y[t * H + k];
    for (let l = 0; l < levels; l++) {
      const node = paths[t * levels + l];
      const rec = p.record(node);
      if (!rec) throw new UfbError("internal", `fffAccumulateRef: node ${node} of token ${t} is not resident`);
      const c = gelu64(logits[t * levels + l]) * rec.outScale;
      for (let k = 0; k < H; k++) acc[k] += c * rec.wOut[k];
    }
    for (let k = 0; k < H; k++) y[t * H + k] = acc[k];
  }
}
