// Entry point of the kernel module (npm run asbuild → wasm/build/kernels.wasm).
// Plain exported functions over the imported linear memory: pointers are byte offsets, sizes are
// element counts. The kernels know nothing about models and allocate nothing: every kernel that needs
// temporary space takes a scratch pointer, sized by its `…ScratchBytes` export.

export { layerNorm, add, geluInPlace, tanhInPlace, erfInPlace, expInPlace, softmaxRows } from "./elementwise";
export { quantizeRowsQ8, gemmQ8I32, gemmQ8I32ScratchBytes, linearQ8, linearQ8ScratchBytes, kernelRelaxedSimd } from "./q8";
export { linearF32, linearF32ScratchBytes } from "./linear";
export { attention, attentionScratchBytes } from "./attention";
export { fffQuantizeX, fffDescend, fffAccumulate, fffScratchBytes, fffRecordHeaderBytes, fffDtypeF32, fffDtypeQ8 } from "./fff";

/** First free byte after the module's static data: the arena starts here (aligned up). */
export function heapBase(): usize {
  return __heap_base;
}
