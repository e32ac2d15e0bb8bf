import type { Kernel } from "../kernel/index.ts";
import type { DenseMatrix } from "./weights.ts";

/** out[rows][m.rows] = x[rows][m.cols] · mᵀ (+ bias), through the kernel matching the matrix's dtype. */
export function linear(kernel: Kernel, x: number, rows: number, m: DenseMatrix, bias: number, out: number): void {
  if (m.dtype === "q8") kernel.linearQ8({ x, rows, k: m.cols, w: m.ptr, wScales: m.scales, n: m.rows, bias, out });
  else kernel.linearF32({ x, rows, k: m.cols, w: m.ptr, n: m.rows, bias, out });
}
