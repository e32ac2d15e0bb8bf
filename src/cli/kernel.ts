/**
 * The kernel module for Node: compiled from wasm/build/kernels.wasm (built by `npm run asbuild`, which
 * `npm install` runs through the prepare script). The Worker imports the same file as a module.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createKernel, type Kernel, type KernelOptions } from "../kernel/index.ts";

export const KERNEL_WASM = fileURLToPath(new URL("../../wasm/build/kernels.wasm", import.meta.url));

let compiled: Promise<WebAssembly.Module> | undefined;

export function kernelModule(): Promise<WebAssembly.Module> {
  compiled ??= readFile(KERNEL_WASM).then(
    (bytes) => WebAssembly.compile(bytes),
    () => {
      throw new Error(`${KERNEL_WASM}: not built; run 'npm run asbuild'`);
    },
  );
  return compiled;
}

export async function loadKernel(options?: KernelOptions): Promise<Kernel> {
  return createKernel(await kernelModule(), options);
}
