/**
 * What only tests use: an HTTP ranged source (the fixtures are served over a disk service), and read plans
 * and offsets of a package recomputed from its geometry, to name the bytes a test expects to be read.
 */
import { UfbError } from "../../src/errors.ts";
import { locateNode, treeOffset } from "../../src/weights/format/spec.ts";
import type { WeightPackage } from "../../src/weights/read/package.ts";
import { type EmbeddingReadPlan, type FffReadPlan, planEmbeddingReads, planFffReads } from "../../src/weights/read/planner.ts";
import { type WeightSource, checkLength, checkRange } from "../../src/weights/read/sources.ts";

/** Ranged reads over HTTP (`Range: bytes=a-b`), e.g. a service binding or a CDN URL. */
export class HttpSource implements WeightSource {
  readonly name: string;
  readonly size?: number;
  private readonly fetcher: (request: Request) => Promise<Response>;
  private readonly url: string;
  constructor(fetcher: (request: Request) => Promise<Response>, url: string, options: { size?: number } = {}) {
    this.fetcher = fetcher;
    this.url = url;
    this.name = url;
    this.size = options.size;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    if (length === 0) return new Uint8Array(0);
    const res = await this.fetcher(new Request(this.url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } }));
    if (res.status !== 206 && res.status !== 200) throw new UfbError("io", `${this.name}: HTTP ${res.status} for bytes ${offset}-${offset + length - 1}`);
    let bytes = new Uint8Array(await res.arrayBuffer());
    if (res.status === 200) bytes = bytes.subarray(offset, offset + length); // server ignored Range
    checkLength(this, offset, length, bytes.length);
    return bytes;
  }
}

/** Which tiles hold these nodes of (layer, tree), and the coalesced byte ranges that read them. */
export function planFff(pkg: WeightPackage, layer: number, tree: number, nodes: Iterable<number>, maxGap = pkg.maxGap): FffReadPlan {
  return planFffReads(pkg.fff, pkg.fffSegments[layer].offset, layer, tree, nodes, maxGap);
}

/** Which embedding blocks hold these token ids, and the coalesced byte ranges that read them. */
export function planEmbeddings(pkg: WeightPackage, ids: Iterable<number>, maxGap = pkg.maxGap): EmbeddingReadPlan {
  return planEmbeddingReads(pkg.embeddings, ids, maxGap);
}

/** Byte offset of node `node` of tree `tree` relative to its fff.<layer> segment. */
export function recordOffset(pkg: WeightPackage, tree: number, node: number): number {
  return treeOffset(pkg.fff, tree) + locateNode(pkg.fff, node).offset;
}

/** Row `id` (H·e bytes, without padding) inside the verified block that holds it. */
export function embeddingRow(pkg: WeightPackage, blockBytes: Uint8Array, id: number): Uint8Array {
  const e = pkg.embeddings;
  const block = pkg.embeddingBlockOf(id);
  const at = (id - block * e.rowsPerBlock) * e.rowBytes;
  const width = e.cols * (pkg.dtype === "q8" ? 1 : 4);
  if (at + width > blockBytes.length) throw new UfbError("bad_argument", `embeddingRow: token ${id} is not in a block of ${blockBytes.length} bytes`);
  return blockBytes.subarray(at, at + width);
}

/** Tile ids visited by a root-to-leaf path given as heap indices (one tile per tier). */
export function pathTiles(g: Parameters<typeof locateNode>[0], path: ArrayLike<number>): number[] {
  const ids = new Set<number>();
  for (let i = 0; i < path.length; i++) ids.add(locateNode(g, path[i]).tile);
  return [...ids].sort((a, b) => a - b);
}

/** q · scale as f32. */
export function dequantizeQ8(q: ArrayLike<number>, scale: number, out = new Float32Array(q.length)): Float32Array {
  for (let i = 0; i < q.length; i++) out[i] = q[i] * scale;
  return out;
}
