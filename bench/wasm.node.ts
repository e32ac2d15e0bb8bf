/** Node-only: compiles wasm/build/kernels.wasm from its bytes (the Worker imports it as a module instead). */
import { readFileSync } from "node:fs";
import { createKernel, type Kernel, type KernelOptions } from "../src/kernel/index.ts";

let mod: WebAssembly.Module | undefined;

export function kernelModule(): WebAssembly.Module {
  return (mod ??= new WebAssembly.Module(readFileSync(new URL("../wasm/build/kernels.wasm", import.meta.url))));
}

/** A fresh Kernel (its own memory) over the shared compiled module. */
export function loadKernel(options?: KernelOptions): Kernel {
  return createKernel(kernelModule(), options);
}
