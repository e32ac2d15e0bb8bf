import { describe, expect, it } from "vitest";
import {
  HEADER_BYTES,
  decodeHeader,
  embeddingRowBytes,
  encodeHeader,
  fffGeometry,
  locateNode,
  nodeLevel,
  recordBytes,
  tileNode,
  tileRef,
  treeOffset,
} from "../../src/weights/format/spec.ts";
import { UfbError } from "../../src/errors.ts";
import { pathTiles } from "../helpers/reads.ts";

describe("record and row sizes", () => {
  it("should be align16(16 + 2·H·e) for records", () => {
    expect(recordBytes(64, "q8")).toBe(144); // 16 + 128
    expect(recordBytes(64, "f32")).toBe(528); // 16 + 512
    expect(recordBytes(768, "q8")).toBe(1552); // 16 + 1536
    expect(recordBytes(768, "f32")).toBe(6160); // 16 + 6144
    expect(recordBytes(5, "q8")).toBe(32); // 26 → 32
    expect(recordBytes(3, "f32")).toBe(48); // 40 → 48
  });
  it("should be align16(H·e) for embedding rows", () => {
    expect(embeddingRowBytes(64, "q8")).toBe(64);
    expect(embeddingRowBytes(96, "f32")).toBe(384);
    expect(embeddingRowBytes(5, "q8")).toBe(16);
    expect(embeddingRowBytes(5, "f32")).toBe(32);
  });
});

describe("tiles: 5 levels, tileDepth 2 (does not divide)", () => {
  const g = fffGeometry({ hidden: 4, trees: 2, levels: 5, dtype: "q8", tileDepth: 2 });
  // tier 0: levels {0,1}, 1 tile of 3; tier 1: levels {2,3}, 4 tiles of 3; tier 2: level {4}, 16 tiles of 1
  const recordOrder = [0, 1, 2, 3, 7, 8, 4, 9, 10, 5, 11, 12, 6, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30];

  it("should have the tiers computed by hand", () => {
    expect(g.nodesPerTree).toBe(31);
    expect(g.recordBytes).toBe(32);
    expect(g.tiers.map((t) => [t.firstLevel, t.levels, t.tiles, t.recordsPerTile, t.firstTile, t.firstRecord])).toEqual([
      [0, 2, 1, 3, 0, 0],
      [2, 2, 4, 3, 1, 3],
      [4, 1, 16, 1, 5, 15],
    ]);
    expect(g.tilesPerTree).toBe(21);
    expect(g.treeBytes).toBe(31 * 32);
    expect(g.segmentBytes).toBe(2 * 31 * 32);
  });

  it("should place nodes in the hand-computed record order", () => {
    for (let record = 0; record < recordOrder.length; record++) {
      const loc = locateNode(g, recordOrder[record]);
      expect(loc.record, `node ${recordOrder[record]}`).toBe(record);
      expect(loc.offset).toBe(record * 32);
    }
  });

  it("should locate nodes by tier, tile and slot", () => {
    expect(locateNode(g, 0)).toMatchObject({ level: 0, tier: 0, tile: 0, slot: 0 });
    expect(locateNode(g, 2)).toMatchObject({ level: 1, tier: 0, tile: 0, slot: 2 });
    expect(locateNode(g, 4)).toMatchObject({ level: 2, tier: 1, tile: 2, slot: 0, record: 6 });
    expect(locateNode(g, 9)).toMatchObject({ level: 3, tier: 1, tile: 2, slot: 1, record: 7 });
    expect(locateNode(g, 14)).toMatchObject({ level: 3, tier: 1, tile: 4, slot: 2, record: 14 });
    expect(locateNode(g, 15)).toMatchObject({ level: 4, tier: 2, tile: 5, slot: 0, record: 15 });
    expect(locateNode(g, 30)).toMatchObject({ level: 4, tier: 2, tile: 20, slot: 0, record: 30 });
  });

  it("should describe tiles", () => {
    expect(tileRef(g, 3)).toEqual({ id: 3, tier: 1, index: 2, rootNode: 5, levels: 2, firstRecord: 9, records: 3, offset: 9 * 32, bytes: 96 });
    expect(tileRef(g, 5)).toMatchObject({ tier: 2, index: 0, rootNode: 15, records: 1, offset: 15 * 32 });
    expect([0, 1, 2].map((s) => tileNode(tileRef(g, 3), s))).toEqual([5, 11, 12]);
    expect(treeOffset(g, 1)).toBe(31 * 32);
  });

  it("should touch one tile per tier on a root-to-leaf path", () => {
    // 0 → 2 (right) → 6 (right) → 13 (left) → 28 (right)
    expect(pathTiles(g, [0, 2, 6, 13, 28])).toEqual([0, 4, 18]);
  });

  it("should refuse out-of-range nodes, tiles, trees and slots", () => {
    expect(() => locateNode(g, 31)).toThrow(UfbError);
    expect(() => locateNode(g, -1)).toThrow(/node -1/);
    expect(() => tileRef(g, 21)).toThrow(/tile 21: out of range, a tree has 21 tiles/);
    expect(() => treeOffset(g, 2)).toThrow(/tree 2/);
    expect(() => tileNode(tileRef(g, 0), 3)).toThrow(/slot 3/);
  });
});

describe("tiles: edge cases and invariants", () => {
  it("should keep heap order when one tile holds the tree or each tile holds one node", () => {
    for (const tileDepth of [1, 6, 24]) {
      const g = fffGeometry({ hidden: 8, trees: 1, levels: 6, dtype: "f32", tileDepth });
      for (let n = 0; n < g.nodesPerTree; n++) expect(locateNode(g, n).record).toBe(n);
    }
    expect(fffGeometry({ hidden: 8, trees: 1, levels: 6, dtype: "f32", tileDepth: 1 }).tilesPerTree).toBe(63);
    expect(fffGeometry({ hidden: 8, trees: 1, levels: 6, dtype: "f32", tileDepth: 9 }).tilesPerTree).toBe(1);
  });

  it("should have 273 tiles of 15 records for 12 levels and tileDepth 4 (the 1x11 model)", () => {
    const g = fffGeometry({ hidden: 768, trees: 1, levels: 12, dtype: "q8", tileDepth: 4 });
    expect(g.tilesPerTree).toBe(1 + 16 + 256);
    expect(g.tiers.every((t) => t.recordsPerTile === 15)).toBe(true);
    expect(g.segmentBytes).toBe(4095 * 1552);
    expect(locateNode(g, 4094)).toMatchObject({ tier: 2, tile: 272, slot: 14, record: 4094 });
  });

  it("should map every record to exactly one node and back", () => {
    for (const [levels, tileDepth] of [[1, 1], [2, 3], [7, 3], [9, 4], [10, 5]]) {
      const g = fffGeometry({ hidden: 2, trees: 1, levels, dtype: "q8", tileDepth });
      const seen = new Set<number>();
      for (let id = 0; id < g.tilesPerTree; id++) {
        const t = tileRef(g, id);
        for (let s = 0; s < t.records; s++) {
          const n = tileNode(t, s);
          const loc = locateNode(g, n);
          expect(loc.tile).toBe(id);
          expect(loc.slot).toBe(s);
          expect(loc.record).toBe(t.firstRecord + s);
          seen.add(loc.record);
        }
      }
      expect(seen.size).toBe(g.nodesPerTree);
      // tiles are contiguous and ordered by root heap index within each tier
      for (let id = 1; id < g.tilesPerTree; id++) expect(tileRef(g, id).offset).toBe(tileRef(g, id - 1).offset + tileRef(g, id - 1).bytes);
    }
  });

  it("should compute node levels", () => {
    expect([0, 1, 2, 3, 6, 7, 14, 15, 4094].map(nodeLevel)).toEqual([0, 1, 1, 2, 2, 3, 3, 4, 11]);
  });
});

describe("weights.bin header", () => {
  it("should round-trip and check the magic and version", () => {
    const h = encodeHeader({ version: 1, fileBytes: 2 ** 33 + 5, segmentCount: 18, dtype: "q8" });
    expect(h.length).toBe(HEADER_BYTES);
    expect(new TextDecoder().decode(h.subarray(0, 4))).toBe("UFBW");
    expect(decodeHeader(h)).toEqual({ version: 1, fileBytes: 2 ** 33 + 5, segmentCount: 18, dtype: "q8" });
    const bad = h.slice();
    bad[0] = 0x58;
    expect(() => decodeHeader(bad)).toThrow(/magic "XFBW", expected "UFBW"/);
    const newer = h.slice();
    new DataView(newer.buffer).setUint32(4, 3, true);
    expect(() => decodeHeader(newer)).toThrow(/package v3; reader supports ≤ 1/);
  });
});
