/**
 * ufb unpack (src/weights/convert/unpack.ts): a package's weights back as the tensors it was written from —
 * exactly for f32 packages, within each row's q8 rounding for int8 ones — under the same names and shapes.
 */
import { describe, expect, it } from "vitest";
import { synthShapes, synthTensors } from "../../src/weights/convert/synth.ts";
import { unpackTensors } from "../../src/weights/convert/unpack.ts";
import { TINY_CLASSIFIER, TINY_EMBEDDING, synthPackage } from "../helpers/r2.ts";

describe("unpackTensors", () => {
  for (const [label, config] of [["classifier", TINY_CLASSIFIER], ["embedding", TINY_EMBEDDING]] as const) {
    it(`${label}, f32: every tensor the package was written from, bit for bit (partial last embedding block, 2-level tiles)`, async () => {
      const { pkg } = await synthPackage(config, { seed: 7, dtype: "f32", rowsPerBlock: 7, tileDepth: 2 });
      const got = new Map((await unpackTensors(pkg)).map((t) => [t.name, t]));
      const source = synthTensors(config, 7);
      const shapes = synthShapes(config);
      expect([...got.keys()].sort()).toEqual([...shapes.keys()].sort());
      for (const [name, shape] of shapes) {
        expect(got.get(name)!.shape, name).toEqual(shape);
        expect(got.get(name)!.data, name).toEqual(await source.get(name));
      }
    });
  }

  it("q8: each value within half a quantization step of its source, the step being its row's max |w| / 127", async () => {
    const { pkg } = await synthPackage(TINY_CLASSIFIER, { seed: 3, rowsPerBlock: 5 });
    const got = new Map((await unpackTensors(pkg)).map((t) => [t.name, t]));
    const source = synthTensors(TINY_CLASSIFIER, 3);
    for (const [name, shape] of synthShapes(TINY_CLASSIFIER)) {
      const want = await source.get(name);
      const have = got.get(name)!.data;
      if (shape.length === 1) {
        expect(have, name).toEqual(want); // vectors stay f32
        continue;
      }
      // FFF linear_out is stored per node (a column of the matrix): its step is the column's
      const byColumn = name.endsWith("ffn.linear_out.weight");
      const [rows, cols] = shape;
      const lines = byColumn ? cols : rows;
      const len = byColumn ? rows : cols;
      const at = (line: number, i: number) => (byColumn ? i * cols + line : line * cols + i);
      // one expect per tensor (not per value: tens of thousands of expect calls outlast the test timeout in workerd)
      const over: string[] = [];
      for (let line = 0; line < lines; line++) {
        let max = 0;
        for (let i = 0; i < len; i++) max = Math.max(max, Math.abs(want[at(line, i)]));
        const step = max / 127;
        for (let i = 0; i < len; i++) {
          const error = Math.abs(have[at(line, i)] - want[at(line, i)]);
          if (!(error <= step / 2 + 1e-6 * max)) over.push(`${name}[${line}][${i}]: |Δ| ${error} > half step ${step / 2}`);
        }
      }
      expect(over.slice(0, 5), name).toEqual([]);
    }
  });
});
