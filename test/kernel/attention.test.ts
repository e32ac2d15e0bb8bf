import { describe, expect, it } from "vitest";
import { attentionRef } from "../../src/kernel/index.ts";
import { expectClose, newKernel, randn } from "./helpers.ts";

/** f32 attention vs float64: scores are sums of headDim products of O(1) values, softmax is smooth. */
const ATTENTION_ABS = 2e-6;

const k = newKernel();

interface Case {
  S: number;
  heads: number;
  headDim: number;
  /** "interleaved": the model's per-head [Q|K|V] blocks; "planar": Q, K, V side by side, then padding */
  layout: "interleaved" | "planar";
  mask: boolean;
  /** extra columns in the output rows */
  outPad: number;
}

const CASES: Case[] = [
  { S: 16, heads: 12, headDim: 64, layout: "interleaved", mask: false, outPad: 0 },
  { S: 128, heads: 2, headDim: 64, layout: "interleaved", mask: true, outPad: 0 },
  { S: 1, heads: 3, headDim: 8, layout: "interleaved", mask: false, outPad: 0 },
  { S: 7, heads: 2, headDim: 5, layout: "planar", mask: true, outPad: 3 },
  { S: 13, heads: 3, headDim: 12, layout: "interleaved", mask: true, outPad: 1 },
  { S: 9, heads: 1, headDim: 17, layout: "planar", mask: false, outPad: 0 },
  { S: 33, heads: 4, headDim: 16, layout: "planar", mask: true, outPad: 0 },
];

describe("attention", () => {
  for (const c of CASES) {
    it(`should match float64 for S=${c.S}, ${c.heads}×${c.headDim}, ${c.layout}${c.mask ? ", masked" : ""}`, () => {
      const { S, heads, headDim } = c;
      const width = heads * headDim;
      // interleaved: head h owns 3·headDim columns; planar: [Q (width) | K (width) | V (width) | 5 spare]
      const ld = c.layout === "interleaved" ? 3 * width : 3 * width + 5;
      const headStride = c.layout === "interleaved" ? 3 * headDim : headDim;
      const [qOffset, kOffset, vOffset] = c.layout === "interleaved" ? [0, headDim, 2 * headDim] : [0, width, 2 * width];
      const qkv = randn(S * ld, S * 100 + heads * 10 + headDim, 1);
      const keyBias = Float32Array.from({ length: S }, (_, j) => (c.mask && j % 4 === 3 ? -10000 : 0));
      const ldOut = width + c.outPad;
      const scale = 1 / Math.sqrt(headDim);
      const m = k.mark();
      const pq = k.allocCopy(qkv), pb = k.allocCopy(keyBias), po = k.alloc(4 * S * ldOut);
      k.f32(po, S * ldOut).fill(42);
      k.attention({
        qkv: pq, ldQkv: ld, seqLen: S, heads, headDim, headStride, qOffset, kOffset, vOffset,
        scale, keyBias: c.mask ? pb : 0, out: po, ldOut,
      });
      const got = k.f32(po, S * ldOut).slice();
      expect(Array.from(k.f32(pq, S * ld))).toEqual(Array.from(qkv)); // inputs untouched
      k.release(m);
      const want = attentionRef({
        qkv, offQ: qOffset, offK: kOffset, offV: vOffset, ld, S, heads, headDim, headStride, scale,
        keyBias: c.mask ? keyBias : undefined, ldOut,
      });
      for (let i = 0; i < S; i++) for (let j = width; j < ldOut; j++) want[i * ldOut + j] = 42; // padding untouched
      expectClose(got, want, { abs: ATTENTION_ABS }, "attention");
    });
  }

  it("should give masked keys no weight", () => {
    // V rows of masked keys are huge: any leak shows in the output
    const S = 6, headDim = 4;
    const ld = 3 * headDim;
    const qkv = randn(S * ld, 5);
    for (let j = 0; j < S; j++) if (j % 2) for (let d = 0; d < headDim; d++) qkv[j * ld + 2 * headDim + d] = 1e6;
    const keyBias = Float32Array.from({ length: S }, (_, j) => (j % 2 ? -10000 : 0));
    const m = k.mark();
    const pq = k.allocCopy(qkv), pb = k.allocCopy(keyBias), po = k.alloc(4 * S * headDim);
    k.attention({ qkv: pq, ldQkv: ld, seqLen: S, heads: 1, headDim, headStride: 3 * headDim, qOffset: 0, kOffset: headDim, vOffset: 2 * headDim, scale: 0.5, keyBias: pb, out: po });
    for (const v of k.f32(po, S * headDim)) expect(Math.abs(v)).toBeLessThan(10);
    k.release(m);
  });
});
