import { describe, expect, it } from "vitest";
import { sinusoidTable } from "../../src/model/positions.ts";
import { fixtureJson } from "../helpers/fixtures.ts";

describe("sinusoid table", () => {
  for (const name of ["tiny", "trees"]) {
    it(`matches the reference's table (${name}) within its float32 build error`, async () => {
      const expected = await fixtureJson<{ sinusoid_table: number[][]; dims: { hidden_size: number; max_seq_length: number } }>(
        `reference/${name}/expected.json`,
      );
      const { hidden_size: h, max_seq_length: s } = expected.dims;
      const table = sinusoidTable(s, h);
      let worst = 0;
      for (let p = 0; p < s; p++) for (let j = 0; j < h; j++) worst = Math.max(worst, Math.abs(table[p * h + j] - expected.sinusoid_table[p][j]));
      expect(worst).toBeLessThan(5e-6);
    });
  }

  it("interleaves sin and cos (position 0 is 0,1,0,1,…)", () => {
    const t = sinusoidTable(2, 6);
    expect(Array.from(t.slice(0, 6))).toEqual([0, 1, 0, 1, 0, 1]);
    expect(t[6]).toBeCloseTo(Math.sin(1), 6);
    expect(t[7]).toBeCloseTo(Math.cos(1), 6);
  });
});
