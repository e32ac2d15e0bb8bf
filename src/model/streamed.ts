/**
 * Weights streamed from a package on demand (the Worker's R2 path): the dense segment is loaded whole at
 * start, embedding rows and FFF tiles are read only for the tokens and paths a request touches, verified
 * by WeightPackage, and kept in a BlockCache whose slots live in kernel memory (the kernels read them in
 * place). Node tables point at cached records and are cleared when the cache evicts a tile.
 */
import { UfbError } from "../errors.ts";
import type { Kernel } from "../kernel/index.ts";
import { type BlockCache } from "../weights/read/cache.ts";
import { type WeightPackage, settleAll } from "../weights/read/package.ts";
import { locateNode, tileNode, tileRef } from "../weights/format/spec.ts";
import { hasMlmDecoder } from "../weights/format/config.ts";
import { withOneRetry } from "../weights/read/sha256.ts";
import { DenseTensors, denseWeights, embeddingScales } from "./resident.ts";
import type { DenseMatrix, EmbeddingStore, FffStore, ModelWeights } from "./weights.ts";

export interface StreamOptions {
  /** Cache keys start with this (package identity, e.g. name@version), so several packages can share a cache. */
  keyPrefix: string;
  /**
   * Read a layer's whole FFF segment at its first use when it is at most this many bytes (one read instead
   * of one round per tier; small models), else tiles on demand. Default 256 KiB.
   */
  wholeLayerBytes?: number;
  /** Fetch every layer's top tier (the tiles every token passes through) while the dense segment loads. */
  prefetchTopTier?: boolean;
}

/** `read` called at most once, and only when first needed (a batch no caller ends up using is never read). */
function once<T>(read: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= read());
}

export async function loadStreamedWeights(pkg: WeightPackage, kernel: Kernel, cache: BlockCache, options: StreamOptions): Promise<ModelWeights> {
  const fff = new StreamedFff(pkg, kernel, cache, options);
  // every read started here settles before this returns, even when one fails (settleAll)
  const dense = withOneRetry(() => pkg.readDense());
  await settleAll<unknown>([dense, options.prefetchTopTier ? fff.prefetchTopTier() : Promise.resolve()]);
  const denseBytes = await dense;
  const tensors = new DenseTensors(pkg, kernel, denseBytes);
  const scales = embeddingScales(pkg, kernel, tensors);
  return {
    ...denseWeights(pkg, kernel, tensors),
    embeddings: new StreamedEmbeddings(pkg, kernel, cache, tensors, scales, options.keyPrefix),
    fff,
  };
}

class StreamedEmbeddings implements EmbeddingStore {
  readonly dtype;
  private readonly pinned: string[] = [];
  private readonly rowAddress = new Map<number, number>();
  private decoderMatrix: Promise<DenseMatrix> | undefined;
  private readonly pkg: WeightPackage;
  private readonly kernel: Kernel;
  private readonly cache: BlockCache;
  private readonly dense: DenseTensors;
  private readonly scales: Float32Array;
  private readonly prefix: string;
  /**
   * Kernel memory for the tied decoder (MLM packages), reserved here, at load, and filled at first use.
   * It cannot be allocated at first use: that happens inside a run, whose arena mark would free it when
   * the run ends, and the next run's scratch would overwrite the table.
   */
  private decoderBase: number;

  constructor(pkg: WeightPackage, kernel: Kernel, cache: BlockCache, dense: DenseTensors, scales: Float32Array, prefix: string) {
    this.pkg = pkg;
    this.kernel = kernel;
    this.cache = cache;
    this.dense = dense;
    this.scales = scales;
    this.prefix = prefix;
    this.dtype = pkg.embeddings.dtype;
    const e = pkg.embeddings;
    this.decoderBase = 0;
  }

  private key(block: number): string {
    return `${this.prefix}/emb/${block}`;
  }

  async prepare(ids: Iterable<number>): Promise<void> {
    const e = this.pkg.embeddings;
    const blocks = new Set<number>();
    for (const id of ids) blocks.add(Math.floor(id / e.rowsPerBlock));
    const missing = [...blocks].filter((b) => !this.cache.has(this.key(b)));
    if (missing.length > 0) {
      // blocks another caller is already loading are joined (cache.get shares its load), not read again
      const toRead = missing.filter((b) => !this.cache.loading(this.key(b)));
      const batch = once(() => withOneRetry(() => this.pkg.readEmbeddingBlocks(toRead)));
      await settleAll(missing.map((b) => this.cache.get(this.key(b), async () => (await batch()).get(b) ?? (await this.readBlock(b)))));
    }
    for (const b of blocks) {
      const key = this.key(b);
      // a block evicted between its load and here (another request's load) is read again
      const address = this.cache.lookup(key) ?? (await this.cache.get(key, () => this.readBlock(b)));
      this.cache.pin(key);
      this.pinned.push(key);
      this.rowAddress.set(b, address);
    }
  }

  private async readBlock(b: number): Promise<Uint8Array> {
    return (await withOneRetry(() => this.pkg.readEmbeddingBlocks([b]))).get(b)!;
  }

  release(): void {
    for (const key of this.pinned.splice(0)) this.cache.unpin(key);
    this.rowAddress.clear();
  }

  rowPtr(id: number): number {
    const e = this.pkg.embeddings;
    const block = Math.floor(id / e.rowsPerBlock);
    const address = this.rowAddress.get(block);
    if (address === undefined) throw new UfbError("internal", `embeddings: row ${id} was not prepared`);
    return address + (id - block * e.rowsPerBlock) * e.rowBytes;
  }

  rowScale(id: number): number {
    return this.scales[id];
  }

  /** The whole table in its own (load-time) allocation, not the cache: fill-mask needs every row at once. */
  decoder(): Promise<DenseMatrix> {
    this.decoderMatrix ??= this.loadDecoder().catch((e) => {
      this.decoderMatrix = undefined;
      throw e;
    });
    return this.decoderMatrix;
  }

  private async loadDecoder(): Promise<DenseMatrix> {
    const e = this.pkg.embeddings;
    const width = e.cols * (e.dtype === "q8" ? 1 : 4);
    if (!hasMlmDecoder(this.pkg.config)) throw new UfbError("internal", "embeddings: this package has no MLM decoder");
    // allocated at first use, never inside a run (Engine.run asks for it before it marks its scratch),
    // so that classifiers and MLM packages that never fill masks do not pay for the table
    this.decoderBase ||= this.kernel.alloc(e.rows * width, 64);
    const base = this.decoderBase;
    const all = e.blocks.map((_, i) => i);
    for (let i = 0; i < all.length; i += 64) {
      // a bulk scan: straight from the source (one Cache API call per block would cost more than it saves)
      const read = await withOneRetry(() => this.pkg.readEmbeddingBlocks(all.slice(i, i + 64), Infinity, { secondLevel: false }));
      for (const [block, bytes] of read) {
        const first = block * e.rowsPerBlock;
        const rows = Math.min(e.rowsPerBlock, e.rows - first);
        const target = this.kernel.u8(base + first * width, rows * width);
        for (let r = 0; r < rows; r++) target.set(bytes.subarray(r * e.rowBytes, r * e.rowBytes + width), r * width);
      }
    }
    return { dtype: e.dtype, ptr: base, scales: e.scalesTensor === null ? 0 : this.dense.vector(e.scalesTensor), rows: e.rows, cols: e.cols };
  }
}

class StreamedFff implements FffStore {
  readonly dtype;
  private readonly tables: number[][];
  private readonly pinned: string[][];
  private readonly pkg: WeightPackage;
  private readonly kernel: Kernel;
  private readonly cache: BlockCache;
  private readonly prefix: string;
  private readonly wholeLayer: boolean;
  /** Tile id of every node (the same in every tree and layer), and cache keys by layer, tree, tile. */
  private readonly tileOf: Int32Array;
  private readonly keys: string[][][];
  /** Scratch for de-duplicating tiles in ensure(): seen[tile] === stamp. */
  private readonly seen: Uint32Array;
  private stamp = 0;

  constructor(pkg: WeightPackage, kernel: Kernel, cache: BlockCache, options: StreamOptions) {
    this.pkg = pkg;
    this.kernel = kernel;
    this.cache = cache;
    this.prefix = options.keyPrefix;
    this.dtype = pkg.fff.dtype;
    const g = pkg.fff;
    this.wholeLayer = g.segmentBytes <= (options.wholeLayerBytes ?? 256 * 1024);
    this.tables = Array.from({ length: pkg.config.numLayers }, () =>
      Array.from({ length: g.trees }, () => {
        const table = kernel.alloc(4 * g.nodesPerTree, 16);
        kernel.u32(table, g.nodesPerTree).fill(0);
        return table;
      }),
    );
    this.pinned = Array.from({ length: pkg.config.numLayers }, () => []);
    this.tileOf = Int32Array.from({ length: g.nodesPerTree }, (_, n) => locateNode(g, n).tile);
    this.keys = Array.from({ length: pkg.config.numLayers }, (_, l) =>
      Array.from({ length: g.trees }, (_, t) => Array.from({ length: g.tilesPerTree }, (_, id) => `${this.prefix}/fff/${l}/${t}/${id}`)),
    );
    this.seen = new Uint32Array(g.tilesPerTree);
  }

  table(layer: number, tree: number): number {
    return this.tables[layer][tree];
  }

  /** Makes the root tile of every tree resident (the whole layer for small layers), unpinned. */
  async prefetchTopTier(): Promise<void> {
    const layers = Array.from({ length: this.tables.length }, (_, l) => l);
    await settleAll(
      layers.map(async (l) => {
        try {
          await settleAll(this.tables[l].map((_, tree) => this.ensure(l, tree, [0])));
        } finally {
          this.release(l);
        }
      }),
    );
  }

  private key(layer: number, tree: number, tile: number): string {
    return this.keys[layer][tree][tile];
  }

  /** The distinct tiles holding these nodes; runs for every tree of every layer of every request. */
  private tilesOf(nodes: Iterable<number>): number[] {
    const stamp = ++this.stamp;
    const tiles: number[] = [];
    for (const n of nodes) {
      const tile = this.tileOf[n];
      if (tile === undefined || !Number.isInteger(n)) throw new UfbError("internal", `fff: node ${n} is outside a tree of ${this.tileOf.length} nodes`);
      if (this.seen[tile] !== stamp) {
        this.seen[tile] = stamp;
        tiles.push(tile);
      }
    }
    return tiles;
  }

  async ensure(layer: number, tree: number, nodes: Iterable<number>): Promise<void> {
    const wanted = this.tilesOf(nodes);
    const missing = wanted.filter((id) => !this.cache.has(this.key(layer, tree, id)));
    if (missing.length > 0) await this.load(layer, tree, missing);
    for (const id of wanted) {
      const key = this.key(layer, tree, id);
      if (!this.cache.has(key)) await this.load(layer, tree, [id]);
      this.cache.lookup(key); // counts the use and marks it recent
      this.cache.pin(key);
      this.pinned[layer].push(key);
    }
  }

  release(layer: number): void {
    for (const key of this.pinned[layer].splice(0)) this.cache.unpin(key);
  }

  /** Reads tiles (the whole layer for small segments), caches them and points the node table at them. */
  private async load(layer: number, tree: number, tiles: number[]): Promise<void> {
    const g = this.pkg.fff;
    if (this.wholeLayer) {
      // read only if some tile is neither cached nor being loaded by another caller
      const bytes = once(() => withOneRetry(() => this.pkg.readFffLayer(layer)));
      const loads: Promise<unknown>[] = [];
      for (let t = 0; t < g.trees; t++) {
        for (let id = 0; id < g.tilesPerTree; id++) {
          if (this.cache.has(this.key(layer, t, id))) continue;
          const ref = tileRef(g, id);
          const offset = t * g.treeBytes + ref.offset;
          loads.push(this.store(layer, t, id, async () => (await bytes()).subarray(offset, offset + ref.bytes)));
        }
      }
      await settleAll(loads);
      return;
    }
    // tiles another caller is already loading are joined (cache.get shares its load), not read again
    const toRead = tiles.filter((id) => !this.cache.loading(this.key(layer, tree, id)));
    const batch = once(() => withOneRetry(() => this.pkg.readFffTiles(layer, tree, toRead)));
    const one = (id: number) => withOneRetry(() => this.pkg.readFffTiles(layer, tree, [id]));
    await settleAll(tiles.map((id) => this.store(layer, tree, id, async () => ((await batch()).get(id) ?? (await one(id)).get(id)!).bytes)));
  }

  private async store(layer: number, tree: number, id: number, bytes: () => Promise<Uint8Array>): Promise<void> {
    const g = this.pkg.fff;
    const ref = tileRef(g, id);
    const table = this.tables[layer][tree];
    const address = await this.cache.get(this.key(layer, tree, id), bytes, () => {
      const view = this.kernel.u32(table, g.nodesPerTree);
      for (let s = 0; s < ref.records; s++) view[tileNode(ref, s)] = 0;
    });
    const view = this.kernel.u32(table, g.nodesPerTree);
    for (let s = 0; s < ref.records; s++) view[tileNode(ref, s)] = address + s * g.recordBytes;
  }
}
