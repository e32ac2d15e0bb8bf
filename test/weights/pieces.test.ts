/**
 * WeightPackage's second level (PieceCache): asked before the source, verified like the source, never
 * able to fail a read, and offered only verified bytes.
 */
import { describe, expect, it } from "vitest";
import { MemorySource } from "../../src/weights/read/sources.ts";
import { type PieceCache, type PieceRef, WeightPackage } from "../../src/weights/read/package.ts";
import { buildFixturePackage } from "../helpers/packages.ts";

class MapPieces implements PieceCache {
  readonly map = new Map<string, Uint8Array>();
  gets = 0;
  puts: PieceRef[] = [];
  async get(p: PieceRef) {
    this.gets++;
    return this.map.get(p.name);
  }
  put(p: PieceRef, bytes: Uint8Array) {
    this.puts.push(p);
    this.map.set(p.name, bytes.slice());
  }
}

async function open(pieces: PieceCache) {
  const built = await buildFixturePackage("trees", "q8", { tileDepth: 2, rowsPerBlock: 16 });
  return WeightPackage.open({ manifest: built.manifest, tokenizer: async () => built.tokenizer, weights: new MemorySource(built.weights), pieces });
}

describe("second level under WeightPackage", () => {
  it("serves verified pieces it holds and offers what it read from the source", async () => {
    const pieces = new MapPieces();
    const pkg = await open(pieces);
    const first = await pkg.readFffTiles(1, 0, [0, 1, 2]);
    await pkg.readEmbeddingBlocks([0, 3]);
    await pkg.readDense();
    await pkg.readFffLayer(2);
    expect(pieces.puts.map((p) => p.name).sort()).toEqual(["dense", "emb/0", "emb/3", "fff/1/0/0", "fff/1/0/1", "fff/1/0/2", "fff/2"].sort());
    const layer = pieces.puts.find((p) => p.kind === "layer")!;
    expect(layer.bytes).toBe(pkg.fffSegments[2].length);
    pkg.resetStats();
    const again = await pkg.readFffTiles(1, 0, [0, 1, 2]);
    await pkg.readEmbeddingBlocks([0, 3]);
    await pkg.readDense();
    await pkg.readFffLayer(2);
    expect(pkg.stats.reads).toBe(0);
    expect(pkg.pieceStats).toEqual({ hits: 7, bytes: expect.any(Number), rejected: 0 });
    for (const id of [0, 1, 2]) expect(again.get(id)!.bytes).toEqual(first.get(id)!.bytes);
  });

  it("rejects bytes that fail their hash or size, reads the source instead, and offers the good bytes", async () => {
    const pieces = new MapPieces();
    const pkg = await open(pieces);
    await pkg.readFffTiles(0, 1, [0, 1]);
    pieces.map.get("fff/0/1/0")![5] ^= 1;
    pieces.map.set("fff/0/1/1", new Uint8Array(3));
    pkg.resetStats();
    pieces.puts = [];
    const tiles = await pkg.readFffTiles(0, 1, [0, 1]);
    expect(tiles.size).toBe(2);
    expect(pkg.pieceStats).toMatchObject({ hits: 0, rejected: 2 });
    expect(pkg.stats.reads).toBeGreaterThan(0);
    expect(pieces.puts.map((p) => p.name).sort()).toEqual(["fff/0/1/0", "fff/0/1/1"]);
  });

  it("a throwing second level is a miss; verifyAll and bypassing reads never consult it", async () => {
    const throwing: PieceCache = {
      get: async () => {
        throw new Error("down");
      },
      put: () => {
        throw new Error("down");
      },
    };
    const pkg = await open(throwing);
    expect((await pkg.readFffTiles(0, 0, [0])).size).toBe(1);
    const pieces = new MapPieces();
    const pkg2 = await open(pieces);
    await pkg2.verifyAll();
    expect(pieces.gets).toBe(0);
    expect(pieces.puts).toEqual([]);
    await pkg2.readEmbeddingBlocks([0], 0, { secondLevel: false });
    expect(pieces.gets).toBe(0);
  });
});
