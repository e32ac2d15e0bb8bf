/**
 * Format constants and geometry of a ufb package (docs/format.md). Everything that turns a node, a tile,
 * an embedding row or a block into a byte offset lives here, once.
 *
 * Summary of the layout (docs/format.md §1):
 *   1. A package is a folder or an R2 prefix with manifest.json, tokenizer.json and weights.bin.
 *   2. weights.bin = 64-byte header ("UFBW", version, file size) + segments at 64-byte-aligned offsets,
 *      in this order: embeddings, dense, fff.0 … fff.<L−1>. All numbers little-endian.
 *   3. embeddings: V rows of align16(H·e) bytes (e = 1 for q8, 4 for f32), sha256 per block of rowsPerBlock rows.
 *   4. dense: the tensors every request needs, each at a 64-byte-aligned offset relative to the segment;
 *      q8 matrices are followed by their f32 row scales. One sha256 for the whole segment.
 *   5. fff.<l>: K trees one after another; a tree = N = 2^levels − 1 node records of recordBytes bytes,
 *      grouped in subtree tiles of tileDepth levels: tier by tier, tiles of a tier by root heap index,
 *      records of a tile in local heap order. One sha256 per tile.
 *   6. manifest.json: format, version, config, special tokens, quantization, tensor and segment tables,
 *      every sha256. Nothing is read without being checked against it.
 */
import { UfbError } from "../../errors.ts";

// Every multi-byte number in a package is little-endian; typed-array views are used directly on them.
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new UfbError("internal", "ufb packages need a little-endian host");

/** manifest.json `format` value: the package's magic. */
export const FORMAT = "ufb-package";
/** Bumped only for layout changes (docs/format.md, version history). */
export const FORMAT_VERSION = 1;
/** First 4 bytes of weights.bin. */
export const WEIGHTS_MAGIC = "UFBW";
export const HEADER_BYTES = 64;
export const SEGMENT_ALIGN = 64;
/** Dense tensors and their scales start at multiples of this, relative to the dense segment. */
export const TENSOR_ALIGN = 64;
export const RECORD_ALIGN = 16;
/** bias f32, inScale f32, outScale f32, reserved u32 (architecture.md §2). */
export const RECORD_HEADER_BYTES = 16;
export const ROW_ALIGN = 16;
export const Q8_MAX = 127;
export const DEFAULT_TILE_DEPTH = 4;
export const DEFAULT_ROWS_PER_BLOCK = 256;
/** Largest tree supported: 2^24 − 1 nodes. */
export const MAX_FFF_LEVELS = 24;

export type Dtype = "f32" | "q8";

export const dtypeBytes = (dtype: Dtype): number => (dtype === "q8" ? 1 : 4);
export const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Bytes of one FFF node record: align16(16 + 2·H·e) (architecture.md §2). */
export function recordBytes(hidden: number, dtype: Dtype): number {
  return alignUp(RECORD_HEADER_BYTES + 2 * hidden * dtypeBytes(dtype), RECORD_ALIGN);
}

/** Bytes of one word-embedding row in the embeddings segment: align16(H·e). */
export function embeddingRowBytes(hidden: number, dtype: Dtype): number {
  return alignUp(hidden * dtypeBytes(dtype), ROW_ALIGN);
}

/** Nodes of a heap-ordered tree (or subtree tile) of `levels` levels: 2^levels − 1. */
export const nodesInTree = (levels: number): number => 2 ** levels - 1;

/** Level (0 = root) of a heap-ordered node. */
export function nodeLevel(node: number): number {
  return 31 - Math.clz32(node + 1);
}

export interface TierGeometry {
  tier: number;
  /** First tree level covered by the tier: tier·tileDepth. */
  firstLevel: number;
  /** Levels per tile of this tier: min(tileDepth, levels − firstLevel). */
  levels: number;
  /** Tiles in the tier: 2^firstLevel (one per node at firstLevel). */
  tiles: number;
  /** Records per tile: 2^levels − 1. */
  recordsPerTile: number;
  /** Id (position in the tree, file order) of the tier's first tile. */
  firstTile: number;
  /** Position in the tree of the tier's first record: 2^firstLevel − 1. */
  firstRecord: number;
  tileBytes: number;
}

export interface FffGeometry {
  hidden: number;
  dtype: Dtype;
  trees: number;
  /** D + 1: levels of a tree, nodes visited per token and tree. */
  levels: number;
  /** N = 2^levels − 1. */
  nodesPerTree: number;
  recordBytes: number;
  tileDepth: number;
  tiers: TierGeometry[];
  tilesPerTree: number;
  /** N · recordBytes: trees follow one another in the segment. */
  treeBytes: number;
  /** K · treeBytes: the fff.<layer> segment length. */
  segmentBytes: number;
}

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new UfbError("bad_argument", `${name}: expected an integer in [${min}, ${max}], got ${v}`);
  }
}

/** Geometry of every fff.<layer> segment of a model. `levels` = fffDepth + 1. */
export function fffGeometry(o: { hidden: number; trees: number; levels: number; dtype: Dtype; tileDepth: number }): FffGeometry {
  checkInt("hidden", o.hidden, 1, 1 << 20);
  checkInt("trees", o.trees, 1, 1 << 20);
  checkInt("levels", o.levels, 1, MAX_FFF_LEVELS);
  checkInt("tileDepth", o.tileDepth, 1, MAX_FFF_LEVELS);
  const rb = recordBytes(o.hidden, o.dtype);
  const tiers: TierGeometry[] = [];
  let firstTile = 0;
  for (let k = 0; k * o.tileDepth < o.levels; k++) {
    const firstLevel = k * o.tileDepth;
    const levels = Math.min(o.tileDepth, o.levels - firstLevel);
    const tiles = 2 ** firstLevel;
    const recordsPerTile = nodesInTree(levels);
    tiers.push({ tier: k, firstLevel, levels, tiles, recordsPerTile, firstTile, firstRecord: tiles - 1, tileBytes: recordsPerTile * rb });
    firstTile += tiles;
  }
  const nodesPerTree = nodesInTree(o.levels);
  return {
    hidden: o.hidden,
    dtype: o.dtype,
    trees: o.trees,
    levels: o.levels,
    nodesPerTree,
    recordBytes: rb,
    tileDepth: o.tileDepth,
    tiers,
    tilesPerTree: firstTile,
    treeBytes: nodesPerTree * rb,
    segmentBytes: o.trees * nodesPerTree * rb,
  };
}

/** A subtree tile of one tree: where it sits and which nodes it holds. */
export interface TileRef {
  /** Position of the tile in its tree, in file order (tier 0 first). */
  id: number;
  tier: number;
  /** Position within the tier = rootNode − (2^firstLevel − 1). */
  index: number;
  /** Heap index of the tile's root node in the tree. */
  rootNode: number;
  /** Levels in the tile. */
  levels: number;
  /** Position in the tree of the tile's first record. */
  firstRecord: number;
  records: number;
  /** Byte offset relative to the start of the tree (add treeOffset for the segment, segment offset for the file). */
  offset: number;
  bytes: number;
}

function tierOfTile(g: FffGeometry, id: number): TierGeometry {
  if (!Number.isInteger(id) || id < 0 || id >= g.tilesPerTree) {
    throw new UfbError("bad_argument", `tile ${id}: out of range, a tree has ${g.tilesPerTree} tiles`);
  }
  let t = g.tiers[0];
  for (const tier of g.tiers) if (tier.firstTile <= id) t = tier;
  return t;
}

export function tileRef(g: FffGeometry, id: number): TileRef {
  const t = tierOfTile(g, id);
  const index = id - t.firstTile;
  const firstRecord = t.firstRecord + index * t.recordsPerTile;
  return {
    id,
    tier: t.tier,
    index,
    rootNode: t.firstRecord + index,
    levels: t.levels,
    firstRecord,
    records: t.recordsPerTile,
    offset: firstRecord * g.recordBytes,
    bytes: t.tileBytes,
  };
}

/** Heap index in the tree of the node at `slot` (local heap order) of a tile. */
export function tileNode(tile: TileRef, slot: number): number {
  if (!Number.isInteger(slot) || slot < 0 || slot >= tile.records) {
    throw new UfbError("bad_argument", `slot ${slot}: out of range, tile ${tile.id} has ${tile.records} records`);
  }
  const j = nodeLevel(slot); // local depth
  const within = slot - (2 ** j - 1);
  return (tile.rootNode + 1) * 2 ** j + within - 1;
}

export interface NodeLocation {
  node: number;
  level: number;
  tier: number;
  /** Tile id (file order within the tree). */
  tile: number;
  /** Position within the tile (local heap order). */
  slot: number;
  /** Position of the record in the tree. */
  record: number;
  /** Byte offset of the record relative to the start of the tree. */
  offset: number;
}

export function locateNode(g: FffGeometry, node: number): NodeLocation {
  if (!Number.isInteger(node) || node < 0 || node >= g.nodesPerTree) {
    throw new UfbError("bad_argument", `node ${node}: out of range, a tree has ${g.nodesPerTree} nodes`);
  }
  const level = nodeLevel(node);
  const tier = g.tiers[Math.floor(level / g.tileDepth)];
  const j = level - tier.firstLevel;
  // ancestor of `node` at the tier's first level = the tile root
  const root = Math.floor((node + 1) / 2 ** j) - 1;
  const index = root - tier.firstRecord;
  const slot = 2 ** j - 1 + (node + 1 - (root + 1) * 2 ** j);
  const record = tier.firstRecord + index * tier.recordsPerTile + slot;
  return { node, level, tier: tier.tier, tile: tier.firstTile + index, slot, record, offset: record * g.recordBytes };
}

/** Byte offset of a tree relative to the start of its fff.<layer> segment. */
export function treeOffset(g: FffGeometry, tree: number): number {
  if (!Number.isInteger(tree) || tree < 0 || tree >= g.trees) {
    throw new UfbError("bad_argument", `tree ${tree}: out of range, a layer has ${g.trees} trees`);
  }
  return tree * g.treeBytes;
}

export const DTYPE_CODE: Record<Dtype, number> = { f32: 0, q8: 1 };

export interface WeightsHeader {
  version: number;
  fileBytes: number;
  segmentCount: number;
  dtype: Dtype;
}

/**
 * weights.bin header, 64 bytes: 0 u8[4] "UFBW"; 4 u32 version; 8 u64 file bytes; 16 u32 segment count;
 * 20 u32 dtype (0 f32, 1 q8); 24 … 63 zero.
 */
export function encodeHeader(h: WeightsHeader): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode(WEIGHTS_MAGIC), 0);
  v.setUint32(4, h.version, true);
  v.setUint32(8, h.fileBytes % 2 ** 32, true);
  v.setUint32(12, Math.floor(h.fileBytes / 2 ** 32), true);
  v.setUint32(16, h.segmentCount, true);
  v.setUint32(20, DTYPE_CODE[h.dtype], true);
  return out;
}

export function decodeHeader(bytes: Uint8Array, name = "weights.bin"): WeightsHeader {
  if (bytes.length < HEADER_BYTES) throw new UfbError("bad_package", `${name}: ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== WEIGHTS_MAGIC) throw new UfbError("bad_package", `${name}: magic ${JSON.stringify(magic)}, expected "${WEIGHTS_MAGIC}"`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const version = v.getUint32(4, true);
  if (version > FORMAT_VERSION) throw new UfbError("version", `${name}: package v${version}; reader supports ≤ ${FORMAT_VERSION}`);
  const code = v.getUint32(20, true);
  const dtype = code === 0 ? "f32" : code === 1 ? "q8" : null;
  if (dtype === null) throw new UfbError("bad_package", `${name}: dtype code ${code}, expected 0 (f32) or 1 (q8)`);
  return { version, fileBytes: v.getUint32(8, true) + v.getUint32(12, true) * 2 ** 32, segmentCount: v.getUint32(16, true), dtype };
}
