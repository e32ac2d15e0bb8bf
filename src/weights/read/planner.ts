/**
 * Read planning for ranged reads (edge-stack.md §5.1: every ranged R2 read is one subrequest and one
 * Class B operation, so neighbouring pieces are read together). The planner turns "these nodes of this
 * tree" or "these token ids" into the tiles or blocks that hold them and a short list of byte ranges:
 * pieces are sorted by offset and merged when the gap between them is at most `maxGap` bytes.
 */
import { type FffGeometry, type TileRef, locateNode, tileRef, treeOffset } from "../format/spec.ts";
import { UfbError } from "../../errors.ts";

export interface ByteRange {
  /** Absolute offset in weights.bin. */
  offset: number;
  length: number;
}

export interface CoalescedRange<T> extends ByteRange {
  /** The pieces inside this range, in offset order. */
  items: T[];
}

/** Sorts pieces by offset and merges neighbours whose gap is ≤ maxGap bytes (0: only touching pieces). */
export function coalesce<T extends ByteRange>(pieces: Iterable<T>, maxGap = 0): CoalescedRange<T>[] {
  if (!(maxGap >= 0)) throw new UfbError("bad_argument", `maxGap: expected ≥ 0, got ${maxGap}`);
  const sorted = [...pieces].sort((a, b) => a.offset - b.offset);
  const out: CoalescedRange<T>[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && p.offset - (last.offset + last.length) <= maxGap) {
      last.length = Math.max(last.length, p.offset + p.length - last.offset);
      last.items.push(p);
    } else {
      out.push({ offset: p.offset, length: p.length, items: [p] });
    }
  }
  return out;
}

/** A tile with its absolute place in weights.bin. */
export interface PlannedTile extends ByteRange {
  tree: number;
  tile: TileRef;
}

export interface FffReadPlan {
  layer: number;
  tree: number;
  /** Tiles holding the requested nodes, by id. */
  tiles: PlannedTile[];
  ranges: CoalescedRange<PlannedTile>[];
  /** Bytes the ranges cover (tiles plus the gaps read through). */
  bytes: number;
}

/**
 * Plans the reads of the tiles that hold `nodes` (heap indices) of one tree of one layer.
 * `segmentOffset` = the fff.<layer> segment's offset in weights.bin.
 */
export function planFffReads(g: FffGeometry, segmentOffset: number, layer: number, tree: number, nodes: Iterable<number>, maxGap = 0): FffReadPlan {
  const base = segmentOffset + treeOffset(g, tree);
  const ids = new Set<number>();
  for (const n of nodes) ids.add(locateNode(g, n).tile);
  return planTileReads(g, segmentOffset, layer, tree, [...ids], maxGap, base);
}

/** Plans the reads of tiles given by id. */
export function planTileReads(g: FffGeometry, segmentOffset: number, layer: number, tree: number, tileIds: Iterable<number>, maxGap = 0, base = segmentOffset + treeOffset(g, tree)): FffReadPlan {
  const tiles = [...new Set(tileIds)].sort((a, b) => a - b).map((id) => {
    const tile = tileRef(g, id);
    return { tree, tile, offset: base + tile.offset, length: tile.bytes };
  });
  const ranges = coalesce(tiles, maxGap);
  return { layer, tree, tiles, ranges, bytes: ranges.reduce((a, r) => a + r.length, 0) };
}

export interface PlannedBlock extends ByteRange {
  block: number;
  /** First row (token id) of the block and its row count. */
  firstRow: number;
  rows: number;
}

export interface EmbeddingReadPlan {
  blocks: PlannedBlock[];
  ranges: CoalescedRange<PlannedBlock>[];
  bytes: number;
}

export interface EmbeddingsGeometry {
  offset: number;
  rows: number;
  rowBytes: number;
  rowsPerBlock: number;
}

export function embeddingBlockOf(e: EmbeddingsGeometry, id: number): number {
  if (!Number.isInteger(id) || id < 0 || id >= e.rows) throw new UfbError("bad_argument", `token id ${id}: out of range, the vocabulary has ${e.rows} rows`);
  return Math.floor(id / e.rowsPerBlock);
}

export function embeddingBlock(e: EmbeddingsGeometry, block: number): PlannedBlock {
  const blocks = Math.ceil(e.rows / e.rowsPerBlock);
  if (!Number.isInteger(block) || block < 0 || block >= blocks) throw new UfbError("bad_argument", `embedding block ${block}: out of range, there are ${blocks}`);
  const firstRow = block * e.rowsPerBlock;
  const rows = Math.min(e.rowsPerBlock, e.rows - firstRow);
  return { block, firstRow, rows, offset: e.offset + firstRow * e.rowBytes, length: rows * e.rowBytes };
}

/** Plans the reads of the embedding blocks holding these token ids. */
export function planEmbeddingReads(e: EmbeddingsGeometry, ids: Iterable<number>, maxGap = 0): EmbeddingReadPlan {
  const set = new Set<number>();
  for (const id of ids) set.add(embeddingBlockOf(e, id));
  return planBlockReads(e, set, maxGap);
}

export function planBlockReads(e: EmbeddingsGeometry, blockIds: Iterable<number>, maxGap = 0): EmbeddingReadPlan {
  const blocks = [...new Set(blockIds)].sort((a, b) => a - b).map((b) => embeddingBlock(e, b));
  const ranges = coalesce(blocks, maxGap);
  return { blocks, ranges, bytes: ranges.reduce((a, r) => a + r.length, 0) };
}
