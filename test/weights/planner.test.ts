import { describe, expect, it } from "vitest";
import { fffGeometry } from "../../src/weights/format/spec.ts";
import { coalesce, embeddingBlock, planEmbeddingReads, planFffReads } from "../../src/weights/read/planner.ts";

describe("coalesce", () => {
  const r = (offset: number, length: number) => ({ offset, length });
  it("should merge touching ranges with maxGap 0 and keep separate ones", () => {
    const out = coalesce([r(100, 10), r(0, 10), r(10, 5), r(120, 1)]);
    expect(out.map(({ offset, length }) => [offset, length])).toEqual([[0, 15], [100, 10], [120, 1]]);
    expect(out[0].items).toEqual([r(0, 10), r(10, 5)]);
  });
  it("should read through gaps up to maxGap", () => {
    expect(coalesce([r(0, 10), r(20, 10), r(100, 10)], 10).map(({ offset, length }) => [offset, length])).toEqual([[0, 30], [100, 10]]);
    expect(coalesce([r(0, 10), r(20, 10), r(100, 10)], 70).map(({ offset, length }) => [offset, length])).toEqual([[0, 110]]);
    expect(coalesce([r(0, 10), r(20, 10)], 9)).toHaveLength(2);
  });
  it("should handle overlaps and empty input", () => {
    expect(coalesce([r(0, 50), r(10, 5)]).map(({ offset, length }) => [offset, length])).toEqual([[0, 50]]);
    expect(coalesce([])).toEqual([]);
    expect(() => coalesce([], -1)).toThrow(/maxGap/);
  });
});

describe("planFffReads (5 levels, tileDepth 2, record 32 B, 2 trees)", () => {
  const g = fffGeometry({ hidden: 4, trees: 2, levels: 5, dtype: "q8", tileDepth: 2 });
  const seg = 6400; // segment offset in weights.bin

  it("should plan one tile per tier for a path", () => {
    // path 0 → 2 → 6 → 13 → 28: tiles 0 (records 0–2), 4 (records 12–14), 18 (record 28)
    const plan = planFffReads(g, seg, 3, 0, [0, 2, 6, 13, 28]);
    expect(plan.tiles.map((t) => [t.tile.id, t.offset, t.length])).toEqual([[0, seg, 96], [4, seg + 12 * 32, 96], [18, seg + 28 * 32, 32]]);
    expect(plan.ranges).toHaveLength(3);
    expect(plan.bytes).toBe(224);
  });

  it("should offset by tree and merge neighbouring tiles", () => {
    // tree 1 starts at 31 records; nodes 3, 4 → tiles 1, 2 (touching); node 5's subtree → tile 3 (touching)
    const plan = planFffReads(g, seg, 0, 1, [3, 9, 4, 11]);
    expect(plan.tiles.map((t) => t.tile.id)).toEqual([1, 2, 3]);
    expect(plan.ranges.map((r) => [r.offset, r.length])).toEqual([[seg + (31 + 3) * 32, 9 * 32]]);
    const gapped = planFffReads(g, seg, 0, 1, [3, 14]); // tiles 1 and 4: 2 tiles apart
    expect(gapped.ranges).toHaveLength(2);
    expect(planFffReads(g, seg, 0, 1, [3, 14], 192).ranges).toHaveLength(1);
    expect(planFffReads(g, seg, 0, 1, [3, 14], 191).ranges).toHaveLength(2);
  });
});

describe("planEmbeddingReads", () => {
  const e = { offset: 64, rows: 1000, rowBytes: 64, rowsPerBlock: 256 };
  it("should map ids to blocks and merge touching blocks", () => {
    const plan = planEmbeddingReads(e, [5, 300, 0, 999, 5]);
    expect(plan.blocks.map((b) => [b.block, b.firstRow, b.rows, b.offset, b.length])).toEqual([
      [0, 0, 256, 64, 256 * 64],
      [1, 256, 256, 64 + 256 * 64, 256 * 64],
      [3, 768, 232, 64 + 768 * 64, 232 * 64],
    ]);
    expect(plan.ranges.map((r) => [r.offset, r.length])).toEqual([[64, 512 * 64], [64 + 768 * 64, 232 * 64]]);
    expect(embeddingBlock(e, 3).rows).toBe(232);
    expect(() => planEmbeddingReads(e, [1000])).toThrow(/token id 1000/);
  });
});
