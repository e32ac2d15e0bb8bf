/**
 * Kernel room: the wasm SIMD kernels (wasm/), their memory arena and typed wrappers, and plain-TS
 * references. Web-standard APIs only (runs in workerd and Node 24).
 */
export { createKernel } from "./kernel.ts";
export type {
  Kernel,
  KernelExports,
  KernelOptions,
  SoftmaxRowsParams,
  LinearF32Params,
  LinearQ8Params,
  AttentionParams,
  FffParams,
  FffDescendParams,
  FffAccumulateParams,
} from "./kernel.ts";
export { Arena, alignUp } from "./arena.ts";
export { DEFAULT_KERNEL_BUILD, chooseKernelModule, relaxedSimdSupported, type KernelBuild, type KernelBuildPreference } from "./build.ts";
export { KernelError } from "../errors.ts";
export * from "./reference.ts";
