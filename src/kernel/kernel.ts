/**
 * The kernel module, instantiated once per Kernel: the WebAssembly.Memory it imports, a bump arena
 * over that memory, typed views, and one typed method per kernel export (architecture §1).
 *
 * Pointers are byte offsets into `kernel.memory` (numbers). Methods that need temporary space take it
 * from the arena and give it back before returning. Views (`f32(ptr, len)`, …) are cheap and must be
 * re-made after anything that can grow the memory (any `alloc`, and any method call).
 *
 * @example
 * ```ts
 * import kernelModule from "../../wasm/build/kernels.wasm";
 * const k = createKernel(kernelModule);
 * const x = k.alloc(4 * 768 * 128), y = k.alloc(4 * 768 * 128);
 * k.layerNorm(x, y, gamma, beta, 128, 768, 1e-12);
 * ```
 */
import { KernelError } from "../errors.ts";
import { Arena } from "./arena.ts";
import type { KernelBuild } from "./build.ts";
import { DTYPE_CODE, type Dtype } from "../weights/format/spec.ts";

/** The raw exports of wasm/build/kernels.wasm (see wasm/*.ts for each contract). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  layerNorm(x: number, out: number, rows: number, cols: number, gamma: number, beta: number, eps: number): void;
  add(out: number, a: number, b: number, n: number): void;
  geluInPlace(x: number, n: number): void;
  tanhInPlace(x: number, n: number): void;
  erfInPlace(x: number, n: number): void;
  expInPlace(x: number, n: number): void;
  softmaxRows(x: number, rows: number, cols: number, ld: number, bias: number): void;
  quantizeRowsQ8(x: number, M: number, K: number, xq: number, sx: number): void;
  gemmQ8I32(xq: number, M: number, K: number, w: number, N: number, scratch: number, out: number): void;
  gemmQ8I32ScratchBytes(M: number, K: number): number;
  /** 1 in the relaxed-SIMD build, 0 in the SIMD128 build. */
  kernelRelaxedSimd(): number;
  linearQ8(x: number, M: number, K: number, w: number, ws: number, bias: number, N: number, out: number, scratch: number): void;
  linearQ8ScratchBytes(M: number, K: number): number;
  linearF32(x: number, M: number, K: number, w: number, bias: number, N: number, out: number, scratch: number): void;
  linearF32ScratchBytes(K: number): number;
  attention(q: number, k: number, v: number, ld: number, S: number, heads: number, headDim: number, headStride: number,
    scale: number, keyBias: number, out: number, ldOut: number, scratch: number): void;
  attentionScratchBytes(S: number, headDim: number): number;
  fffQuantizeX(x: number, T: number, H: number, xq: number, sx: number): void;
  fffDescend(x: number, T: number, H: number, levels: number, table: number, dtype: number,
    paths: number, logits: number, progress: number, scratch: number): number;
  fffAccumulate(y: number, T: number, H: number, levels: number, table: number, dtype: number,
    paths: number, logits: number, scratch: number): void;
  fffScratchBytes(T: number, H: number, levels: number): number;
  /** The record header size and dtype codes the FFF kernels assume (the format's, see wasm/fff.ts). */
  fffRecordHeaderBytes(): number;
  fffDtypeF32(): number;
  fffDtypeQ8(): number;
}

export interface KernelOptions {
  /** Initial size of the memory in 64 KiB pages (default 16 = 1 MiB, at least 2, the module's minimum; it grows on demand). */
  initialPages?: number;
  /** Upper bound in pages (default 32768 = 2 GiB, the module's declared maximum). */
  maximumPages?: number;
}

export interface SoftmaxRowsParams {
  /** f32 rows, softmaxed in place */
  x: number;
  rows: number;
  cols: number;
  /** row stride in floats (default cols) */
  ld?: number;
  /** f32[cols] added to every row before the softmax, or 0/undefined */
  bias?: number;
}

/** out[rows][n] = x[rows][k]·w[n][k]ᵀ (+ bias[n]); f32 everywhere. */
export interface LinearF32Params {
  /** f32[rows][k] */
  x: number;
  rows: number;
  k: number;
  /** f32[n][k], PyTorch Linear.weight layout */
  w: number;
  n: number;
  /** f32[n] or 0/undefined */
  bias?: number;
  /** f32[rows][n]; must not overlap x or w */
  out: number;
}

/**
 * Dense int8: each row of x quantized (symmetric, amax/127, round half to even), exact int32 GEMM with
 * w int8 [n][k], out[m][j] = f32(Σ)·(sx[m]·wScales[j]) + bias[j].
 */
export interface LinearQ8Params {
  /** f32[rows][k] */
  x: number;
  rows: number;
  k: number;
  /** i8[n][k] */
  w: number;
  /** f32[n]: per-output-row dequantization scales */
  wScales: number;
  n: number;
  /** f32[n] or 0/undefined */
  bias?: number;
  /** f32[rows][n]; must not overlap x or w */
  out: number;
}

/**
 * Multi-head attention over strided views of one matrix qkv [seqLen][ldQkv] (f32): head h reads
 * Q at columns qOffset + h·headStride … + headDim, K at kOffset + h·headStride, V at vOffset + h·headStride;
 * out[i][h·headDim + d] (row stride ldOut) = (softmax_keys(Q·Kᵀ·scale + keyBias)·V)[i][d].
 * The model's per-head interleaved QKV: headStride = 3·headDim, offsets 0, headDim, 2·headDim.
 */
export interface AttentionParams {
  /** f32[seqLen][ldQkv] */
  qkv: number;
  /** row stride of qkv in floats */
  ldQkv: number;
  seqLen: number;
  heads: number;
  headDim: number;
  /** distance between heads in floats */
  headStride: number;
  /** column offsets (floats) of head 0's Q, K, V */
  qOffset: number;
  kOffset: number;
  vOffset: number;
  /** score scale, e.g. 1/√headDim (applied before keyBias) */
  scale: number;
  /** f32[seqLen] additive key bias (the mask, e.g. (1 − mask)·−10000), or 0/undefined */
  keyBias?: number;
  /** f32 output rows; must not overlap qkv */
  out: number;
  /** row stride of out in floats (default heads·headDim) */
  ldOut?: number;
}

/** Shared arguments of the FFF kernels (architecture §3). */
export interface FffParams {
  /** T, the number of token rows */
  tokens: number;
  /** H, the hidden size */
  hidden: number;
  /** levels of the tree (depth + 1); the table has 2^levels − 1 entries */
  levels: number;
  /** u32[2^levels − 1] record addresses, 0 = not resident */
  table: number;
  dtype: Dtype;
  /** i32[tokens][levels] */
  paths: number;
  /** f32[tokens][levels] */
  logits: number;
}

export interface FffDescendParams extends FffParams {
  /** f32[tokens][hidden], the norm2 output */
  x: number;
  /** i32[tokens]; start each token at 0 with paths[t][0] = 0 */
  progress: number;
}

export interface FffAccumulateParams extends FffParams {
  /** f32[tokens][hidden], y += Σ GELU(logit)·wOut */
  y: number;
}

export interface Kernel {
  readonly memory: WebAssembly.Memory;
  /** the instance's raw exports */
  readonly exports: KernelExports;
  /** first arena byte (after static data, 64-aligned) */
  readonly heapBase: number;
  /** which of the two kernel builds this instance runs (same results bit for bit, see build.ts) */
  readonly build: KernelBuild;

  /** Reserves `bytes` at a multiple of `align` (power of two, default 64); grows the memory if needed. */
  alloc(bytes: number, align?: number): number;
  /** The arena top, for `release`. */
  mark(): number;
  /** Frees everything allocated after `mark`. */
  release(mark: number): void;
  /** Highest arena address ever reached, in bytes (static data included). */
  readonly highWaterBytes: number;
  /** Current linear-memory size in bytes. */
  readonly memoryBytes: number;
  /** Allocates and copies `src` in; returns the pointer. */
  allocCopy(src: ArrayBufferView, align?: number): number;

  f32(ptr: number, len: number): Float32Array;
  i8(ptr: number, len: number): Int8Array;
  u8(ptr: number, len: number): Uint8Array;
  i16(ptr: number, len: number): Int16Array;
  i32(ptr: number, len: number): Int32Array;
  u32(ptr: number, len: number): Uint32Array;

  /**
   * LayerNorm over rows of x f32[rows][cols]: out = ((x − mean)·rstd)·gamma + beta, biased variance,
   * rstd = 1/√(var + eps) (eps default 1e-12). out may equal x.
   */
  layerNorm(x: number, out: number, gamma: number, beta: number, rows: number, cols: number, eps?: number): void;
  /** y[i] += x[i], i < n (the residual add). */
  add(y: number, x: number, n: number): void;
  /** x = GELU(x) (exact erf), n floats in place. */
  gelu(x: number, n: number): void;
  tanh(x: number, n: number): void;
  /** x = erf(x) in place (accuracy tests). */
  erf(x: number, n: number): void;
  /** x = exp(x) in place (accuracy tests; x < −87.34 → 0, x > 88 → e^88). */
  exp(x: number, n: number): void;
  softmaxRows(p: SoftmaxRowsParams): void;
  linearF32(p: LinearF32Params): void;
  linearQ8(p: LinearQ8Params): void;
  /** Quantizes x f32[M][K] into xq (row-pair i16 layout, see wasm/q8.ts) and sx f32[M+1]. */
  quantizeRowsQ8(x: number, M: number, K: number, xq: number, sx: number): void;
  /** Bytes of the xq buffer of quantizeRowsQ8. */
  quantizedRowsBytes(M: number, K: number): number;
  /** Exact out i32[M][N] = xq·wᵀ on quantizeRowsQ8 output. */
  gemmQ8I32(xq: number, M: number, K: number, w: number, N: number, out: number): void;
  attention(p: AttentionParams): void;
  /** Returns the number of tokens blocked at a non-resident record. */
  fffDescend(p: FffDescendParams): number;
  fffAccumulate(p: FffAccumulateParams): void;
  /** 14-bit activation quantization used by the q8 descent (tests): xq i16[T][align8(H)], sx f32[T]. */
  fffQuantizeX(x: number, T: number, H: number, xq: number, sx: number): void;
}

/** The module's declared memory limits (asbuild: --initialMemory 2 --maximumMemory 32768). */
const MIN_PAGES = 2;
const MAX_PAGES = 32768;

/** Instantiates the kernel module with a fresh memory. */
export function createKernel(module: WebAssembly.Module, options: KernelOptions = {}): Kernel {
  const maximum = options.maximumPages ?? MAX_PAGES;
  const initial = Math.max(MIN_PAGES, options.initialPages ?? 16);
  if (maximum > MAX_PAGES) throw new KernelError(`maximumPages ${maximum} exceeds the module's maximum ${MAX_PAGES}`);
  const memory = new WebAssembly.Memory({ initial, maximum });
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new KernelError(`wasm abort at ${line}:${col}`);
      },
    },
  });
  const ex = instance.exports as unknown as KernelExports;
  const arena = new Arena(memory, ex.heapBase(), maximum);

  /** Runs fn with `bytes` of scratch taken from the arena. */
  function withScratch<T>(bytes: number, fn: (scratch: number) => T): T {
    const m = arena.mark();
    try {
      return fn(arena.alloc(bytes, 64));
    } finally {
      arena.release(m);
    }
  }

  const buf = () => memory.buffer;

  const kernel: Kernel = {
    memory,
    exports: ex,
    heapBase: arena.base,
    build: ex.kernelRelaxedSimd() === 1 ? "relaxed-simd" : "simd128",
    alloc: (bytes, align) => arena.alloc(bytes, align),
    mark: () => arena.mark(),
    release: (m) => arena.release(m),
    get highWaterBytes() {
      return arena.highWaterBytes;
    },
    get memoryBytes() {
      return arena.memoryBytes;
    },
    allocCopy(src, align) {
      const ptr = arena.alloc(src.byteLength, align);
      new Uint8Array(buf(), ptr, src.byteLength).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
      return ptr;
    },

    f32: (ptr, len) => new Float32Array(buf(), ptr, len),
    i8: (ptr, len) => new Int8Array(buf(), ptr, len),
    u8: (ptr, len) => new Uint8Array(buf(), ptr, len),
    i16: (ptr, len) => new Int16Array(buf(), ptr, len),
    i32: (ptr, len) => new Int32Array(buf(), ptr, len),
    u32: (ptr, len) => new Uint32Array(buf(), ptr, len),

    layerNorm: (x, out, gamma, beta, rows, cols, eps = 1e-12) => ex.layerNorm(x, out, rows, cols, gamma, beta, eps),
    add: (y, x, n) => ex.add(y, y, x, n),
    gelu: (x, n) => ex.geluInPlace(x, n),
    tanh: (x, n) => ex.tanhInPlace(x, n),
    erf: (x, n) => ex.erfInPlace(x, n),
    exp: (x, n) => ex.expInPlace(x, n),
    softmaxRows(p) {
      ex.softmaxRows(p.x, p.rows, p.cols, p.ld ?? p.cols, p.bias ?? 0);
    },
    linearF32(p) {
      withScratch(ex.linearF32ScratchBytes(p.k), (s) => ex.linearF32(p.x, p.rows, p.k, p.w, p.bias ?? 0, p.n, p.out, s));
    },
    linearQ8(p) {
      withScratch(ex.linearQ8ScratchBytes(p.rows, p.k), (s) => ex.linearQ8(p.x, p.rows, p.k, p.w, p.wScales, p.bias ?? 0, p.n, p.out, s));
    },
    quantizeRowsQ8: (x, M, K, xq, sx) => ex.quantizeRowsQ8(x, M, K, xq, sx),
    quantizedRowsBytes: (M, K) => Math.ceil(M / 2) * 2 * Math.ceil(K / 8) * 8 * 2,
    gemmQ8I32(xq, M, K, w, N, out) {
      withScratch(ex.gemmQ8I32ScratchBytes(M, K), (s) => ex.gemmQ8I32(xq, M, K, w, N, s, out));
    },
    attention(p) {
      withScratch(ex.attentionScratchBytes(p.seqLen, p.headDim), (s) =>
        ex.attention(p.qkv + 4 * p.qOffset, p.qkv + 4 * p.kOffset, p.qkv + 4 * p.vOffset, p.ldQkv, p.seqLen, p.heads,
          p.headDim, p.headStride, p.scale, p.keyBias ?? 0, p.out, p.ldOut ?? p.heads * p.headDim, s));
    },
    fffDescend(p) {
      return withScratch(ex.fffScratchBytes(p.tokens, p.hidden, p.levels), (s) =>
        ex.fffDescend(p.x, p.tokens, p.hidden, p.levels, p.table, dtypeCode(p.dtype), p.paths, p.logits, p.progress, s));
    },
    fffAccumulate(p) {
      withScratch(ex.fffScratchBytes(p.tokens, p.hidden, p.levels), (s) =>
        ex.fffAccumulate(p.y, p.tokens, p.hidden, p.levels, p.table, dtypeCode(p.dtype), p.paths, p.logits, s));
    },
    fffQuantizeX: (x, T, H, xq, sx) => ex.fffQuantizeX(x, T, H, xq, sx),
  };
  return kernel;
}

function dtypeCode(d: Dtype): number {
  const c = DTYPE_CODE[d];
  if (c === undefined) throw new KernelError(`FFF dtype must be "f32" or "q8", got ${JSON.stringify(d)}`);
  return c;
}
