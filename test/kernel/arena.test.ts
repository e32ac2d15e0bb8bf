import { describe, expect, it } from "vitest";
import kernelModule from "../../wasm/build/kernels.wasm";
import { KernelError, createKernel } from "../../src/kernel/index.ts";
import { expectClose } from "./helpers.ts";

describe("kernel arena", () => {
  it("should align, bump, release and track the high-water mark", () => {
    const k = createKernel(kernelModule, { initialPages: 2 });
    expect(k.heapBase % 64).toBe(0);
    expect(k.heapBase).toBeGreaterThanOrEqual(k.exports.heapBase());
    const a = k.alloc(10);
    expect(a).toBe(k.heapBase);
    const b = k.alloc(1, 16);
    expect(b % 16).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 10);
    const mark = k.mark();
    const c = k.alloc(1000, 128);
    expect(c % 128).toBe(0);
    const high = k.highWaterBytes;
    expect(high).toBe(c + 1000);
    k.release(mark);
    expect(k.mark()).toBe(mark);
    expect(k.alloc(4, 4)).toBe(Math.ceil(mark / 4) * 4);
    expect(k.highWaterBytes).toBe(high); // release does not lower the high-water mark
  });

  it("should grow the memory on demand, keeping the contents", () => {
    const k = createKernel(kernelModule, { initialPages: 2 });
    expect(k.memoryBytes).toBe(2 * 65536);
    const p = k.allocCopy(Float32Array.of(1, 2, 3));
    const big = k.alloc(5 * 65536);
    expect(k.memoryBytes).toBeGreaterThanOrEqual(big + 5 * 65536);
    expect(Array.from(k.f32(p, 3))).toEqual([1, 2, 3]); // a fresh view after the grow
    // the kernels see the grown memory
    const q = k.allocCopy(Float32Array.of(-1, 0.5));
    k.gelu(q, 2);
    expectClose(k.f32(q, 2), [-0.15865525393145707, 0.34573123063700656], { rel: 3e-7 });
  });

  it("should refuse to grow past maximumPages and bad arguments", () => {
    const k = createKernel(kernelModule, { initialPages: 2, maximumPages: 4 });
    expect(() => k.alloc(5 * 65536)).toThrow(KernelError);
    expect(() => k.alloc(16, 3)).toThrow(/power of two/);
    expect(() => k.alloc(-1)).toThrow(/integer/);
    expect(() => k.release(k.mark() + 64)).toThrow(/outside the arena/);
    expect(() => createKernel(kernelModule, { maximumPages: 40000 })).toThrow(/maximum/);
  });

  it("should give scratch back after each call", () => {
    const k = createKernel(kernelModule);
    const [M, K, N] = [8, 64, 16];
    const x = k.alloc(4 * M * K), w = k.alloc(M * K), ws = k.alloc(4 * N), out = k.alloc(4 * M * N);
    const before = k.mark();
    k.linearQ8({ x, rows: M, k: K, w, wScales: ws, n: N, out });
    k.linearF32({ x, rows: M, k: K, w: x, n: M, out });
    expect(k.mark()).toBe(before);
    expect(k.highWaterBytes).toBeGreaterThan(before);
  });

  it("should keep instances independent", () => {
    const k1 = createKernel(kernelModule), k2 = createKernel(kernelModule);
    expect(k1.memory).not.toBe(k2.memory);
    const p1 = k1.allocCopy(Float32Array.of(7));
    k2.allocCopy(Float32Array.of(9));
    expect(k1.f32(p1, 1)[0]).toBe(7);
  });
});

describe("test helpers", () => {
  it("should fail on a one-ulp difference and pass on equality (the comparisons can fail)", () => {
    const a = Float32Array.of(1, 2, 3);
    const b = Float32Array.of(1, 2, Math.fround(3 + 2.4e-7));
    expect(() => expectClose(b, a, { abs: 0 })).toThrow(/element 2/);
    expect(() => expectClose(a, a, { abs: 0 })).not.toThrow();
  });
});
