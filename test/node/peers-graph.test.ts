/**
 * bench/peers/onnx.ts writes graphs that onnxruntime-web (the peer of `npm run bench:peers`) can load and
 * run: a tiny BERT shape in fp32 and in quantize_dynamic's int8 form, output [1, seq, hidden], finite,
 * and the int8 graph close to the fp32 one built from the same seed.
 */
import * as ort from "onnxruntime-web";
import { describe, expect, it } from "vitest";
import { buildBert } from "../../bench/peers/onnx.ts";

const TINY = { layers: 2, hidden: 32, heads: 2, intermediate: 64, vocab: 50, maxPositions: 16 };

async function run(bytes: Uint8Array, seq: number): Promise<{ dims: readonly number[]; data: Float32Array }> {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  const ids = new ort.Tensor("int64", BigInt64Array.from({ length: seq }, (_, i) => BigInt((i * 7) % TINY.vocab)), [1, seq]);
  const out = Object.values(await session.run({ input_ids: ids }))[0];
  await session.release();
  return { dims: out.dims, data: out.data as Float32Array };
}

describe("bench:peers graph builder", () => {
  it("builds fp32 and int8 BERT graphs that onnxruntime-web runs", async () => {
    const fp32 = buildBert(TINY, "fp32");
    const int8 = buildBert(TINY, "int8");
    // the int8 graph uses quantize_dynamic's nodes
    const text = new TextDecoder("latin1").decode(int8);
    expect(text).toContain("DynamicQuantizeLinear");
    expect(text).toContain("MatMulInteger");
    for (const seq of [1, 5]) {
      const a = await run(fp32, seq), b = await run(int8, seq);
      expect(a.dims).toEqual([1, seq, TINY.hidden]);
      expect(b.dims).toEqual([1, seq, TINY.hidden]);
      let dot = 0, na = 0, nb = 0;
      for (let i = 0; i < a.data.length; i++) {
        expect(Number.isFinite(a.data[i]) && Number.isFinite(b.data[i])).toBe(true);
        dot += a.data[i] * b.data[i];
        na += a.data[i] ** 2;
        nb += b.data[i] ** 2;
      }
      expect(dot / Math.sqrt(na * nb)).toBeGreaterThan(0.95);
    }
  });
});
