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
export { Arena, KernelError, alignUp } from "./arena.ts";
export {
  FFF_DTYPE_CODE,
  FFF_RECORD_HEADER_BYTES,
  fffRecordBytes,
  fffRecordQ8,
  fffRecordF32,
  quantizeVectorQ8,
  writeFffRecord,
} from "./records.ts";
export type { FffDtype } from "./records.ts";
export * from "./reference.ts";
