/**
 * Shared helpers for the kernel tests (run inside workerd): one Kernel per test file, seeded data,
 * and comparisons that report the worst element.
 */
import { expect } from "vitest";
import kernelModule from "../../wasm/build/kernels.wasm";
import { gaussian, mulberry32 } from "../../src/cli/random.ts";
import { createKernel, type Kernel } from "../../src/kernel/index.ts";

export function newKernel(): Kernel {
  return createKernel(kernelModule);
}

/** mulberry32 (src/cli/random.ts): small, fast, seeded; floats in [0, 1). */
export const rng = mulberry32;
export { gaussian };

export function randn(n: number, seed: number, scale = 1): Float32Array {
  const g = gaussian(seed);
  return Float32Array.from({ length: n }, () => g() * scale);
}

/** ggml's test pattern: 0.1 + 2·cos(i + offset). */
export function cosData(n: number, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.1 + 2 * Math.cos(i + offset));
}

export function randInt8(n: number, seed: number): Int8Array {
  const u = rng(seed);
  return Int8Array.from({ length: n }, () => Math.floor(u() * 255) - 127);
}

/**
 * Asserts |got − want| ≤ abs + rel·|want| element-wise; on failure names the worst index and values.
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: { abs?: number; rel?: number }, what = ""): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const abs = tol.abs ?? 0;
  const rel = tol.rel ?? 0;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const err = Math.abs(g - w);
    const allowed = abs + rel * Math.abs(w);
    if (!(err <= allowed) && (worst < 0 || err - allowed > worstExcess || Number.isNaN(err))) {
      worst = i;
      worstExcess = Number.isNaN(err) ? Infinity : err - allowed;
    }
  }
  if (worst >= 0) {
    const g = got[worst];
    const w = want[worst];
    expect.fail(`${what}: element ${worst}: got ${g}, want ${w}, |err| ${Math.abs(g - w)} > ${abs} + ${rel}·|want|`);
  }
}

/** Asserts exact equality element-wise, naming the first difference. */
export function expectEqualArrays(got: ArrayLike<number>, want: ArrayLike<number>, what = ""): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`${what}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}
