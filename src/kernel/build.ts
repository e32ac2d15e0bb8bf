/**
 * The two kernel builds (architecture §1): wasm/build/kernels.wasm (SIMD128) and
 * wasm/build/kernels-relaxed.wasm (SIMD128 + relaxed SIMD), compiled from the same sources and giving
 * bit-identical results (test/kernel/relaxed.test.ts). Which one runs is chosen once, at start, by
 * feature detection: `WebAssembly.validate` on a tiny module that uses the relaxed dot (workerd allows
 * validate where it refuses to compile bytes, edge-stack.md §4.2).
 */
export type KernelBuild = "simd128" | "relaxed-simd";

/**
 * "auto": the relaxed build where the engine validates relaxed SIMD, else SIMD128; or one build by name
 * (a named build that cannot run falls back to SIMD128).
 */
export type KernelBuildPreference = "auto" | KernelBuild;

// (module (func (result v128) (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.const 0) (v128.const 0) (v128.const 0))))
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () → v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x3d, 0x01, 0x3b, 0x00, // code section: one body of 59 bytes, no locals
  ...V128_ZERO, ...V128_ZERO, ...V128_ZERO,
  0xfd, 0x93, 0x02, // i32x4.relaxed_dot_i8x16_i7x16_add_s (0xfd 0x113)
  0x0b, // end
]);

/**
 * What the Worker asks for. SIMD128: on x64 without AVX-VNNI (this repo's Zen 4 VM, and AMD before Zen 5)
 * V8 lowers each relaxed dot to pmaddubsw + pmaddwd + paddd, and the exact 8-bit product needs two of
 * them per 16 MAC, so the relaxed build's int8 GEMM measured 0.5× the SIMD128 one (docs/perf-notes.md §R).
 * Where V8 emits vpdpbusd (AVX-VNNI) the relaxed form needs half the µops; switch to "auto" once that is
 * measured on the serving CPUs.
 */
export const DEFAULT_KERNEL_BUILD: KernelBuildPreference = "simd128";

let relaxed: boolean | undefined;

/** Whether this engine accepts relaxed-SIMD wasm (validated once, then cached). */
export function relaxedSimdSupported(): boolean {
  return (relaxed ??= WebAssembly.validate(RELAXED_PROBE));
}

/** Picks the kernel module to instantiate: see KernelBuildPreference. */
export function chooseKernelModule(
  modules: { simd128: WebAssembly.Module; relaxed?: WebAssembly.Module },
  prefer: KernelBuildPreference = "auto",
): { build: KernelBuild; module: WebAssembly.Module } {
  const canRelax = modules.relaxed !== undefined && relaxedSimdSupported();
  if (canRelax && prefer !== "simd128") return { build: "relaxed-simd", module: modules.relaxed! };
  return { build: "simd128", module: modules.simd128 };
}
