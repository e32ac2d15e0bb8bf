/** Node-only: compiles the kernel builds from their bytes (the Worker imports them as modules instead). */
import { readFileSync } from "node:fs";
import { createKernel, type Kernel, type KernelBuild, type KernelOptions } from "../src/kernel/index.ts";

const FILES: Record<KernelBuild, string> = { "simd128": "kernels.wasm", "relaxed-simd": "kernels-relaxed.wasm" };
const mods = new Map<KernelBuild, WebAssembly.Module>();

/** The build the benches use unless a suite asks for both: KERNEL_BUILD=relaxed-simd selects the other. */
export const BENCH_BUILD: KernelBuild = process.env.KERNEL_BUILD === "relaxed-simd" ? "relaxed-simd" : "simd128";

export function kernelModule(build: KernelBuild = BENCH_BUILD): WebAssembly.Module {
  let m = mods.get(build);
  if (!m) mods.set(build, (m = new WebAssembly.Module(readFileSync(new URL(`../wasm/build/${FILES[build]}`, import.meta.url)))));
  return m;
}

/** A fresh Kernel (its own memory) over the shared compiled module of `build`. */
export function loadKernel(options?: KernelOptions, build: KernelBuild = BENCH_BUILD): Kernel {
  return createKernel(kernelModule(build), options);
}
