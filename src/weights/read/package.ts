/**
 * Reading a package: WeightPackage.open() parses and checks manifest.json, then every read goes through
 * one range callback (WeightSource) and is verified against the manifest's sha256 before it is returned.
 * Nothing unverified escapes: a mismatch throws IntegrityError naming the segment, block or tile.
 *
 * An optional second level (`pieces`, e.g. the Workers Cache API) is asked for each piece before the
 * source. Its bytes are verified against the manifest like the source's; a piece that fails is counted
 * and read from the source instead (it never fails a read), and only verified pieces are offered back.
 *
 * The layout summary is at the top of format.ts; the byte-level spec is docs/format.md.
 */
import { UfbError } from "../../errors.ts";
import { type Dtype, type FffGeometry, type TileRef, type WeightsHeader, decodeHeader, HEADER_BYTES } from "../format/spec.ts";
import { type PackageLayout, planLayout } from "../format/layout.ts";
import type { PackageConfig } from "../format/config.ts";
import { type DenseSegment, type EmbeddingsSegment, type FffSegment, type Manifest, type TensorEntry, parseManifest } from "../format/manifest.ts";
import { type PlannedBlock, type PlannedTile, type CoalescedRange, embeddingBlockOf, planBlockReads, planTileReads } from "./planner.ts";
import { sha256Hex, verifySha256 } from "./sha256.ts";
import type { WeightSource } from "./sources.ts";

/**
 * Like Promise.all, but settles only when every promise has: then resolves with the values or throws the
 * first rejection (in order). Work that fans out reads uses it so that a failure never leaves siblings
 * running after the caller has moved on.
 */
export async function settleAll<T>(work: Promise<T>[]): Promise<T[]> {
  const outcomes = await Promise.allSettled(work);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failed) throw failed.reason;
  return outcomes.map((o) => (o as PromiseFulfilledResult<T>).value);
}

export interface OpenOptions {
  /** manifest.json as text or bytes, or a loader. */
  manifest: string | Uint8Array | (() => Promise<string | Uint8Array>);
  /** Loads tokenizer.json (read lazily by readTokenizer()). */
  tokenizer: () => Promise<Uint8Array>;
  weights: WeightSource;
  /** Default for coalescing: read through gaps of up to this many bytes (default 0: only touching pieces). */
  maxGap?: number;
  /** A second level asked before `weights` for each piece (dense, embedding block, tile, whole small layer). */
  pieces?: PieceCache;
}

/** One verifiable piece of weights.bin, as a second-level cache sees it. */
export interface PieceRef {
  kind: "dense" | "embeddings" | "tile" | "layer";
  /** Unique inside the package: `dense`, `emb/<block>`, `fff/<layer>/<tree>/<tile>`, `fff/<layer>`. */
  name: string;
  /** The manifest's sha256 of the piece; for a whole layer, sha256 of its tiles' hashes joined in file order. */
  sha256: string;
  bytes: number;
}

/**
 * A second-level store of verified pieces (the Worker's Cache API). Neither method may throw or reject:
 * a failure is a miss. What `get` returns is verified by the package before anything uses it.
 */
export interface PieceCache {
  get(piece: PieceRef): Promise<Uint8Array | undefined>;
  /** Offers bytes that passed verification; the store may keep them or not. */
  put(piece: PieceRef, bytes: Uint8Array): void;
}

export interface PieceStats {
  /** Pieces served by the second level (verified). */
  hits: number;
  bytes: number;
  /** Pieces the second level returned that failed verification (read from the source instead). */
  rejected: number;
}

/** Per read call: skip the second level (e.g. a bulk scan, or verifyAll checking the source itself). */
export interface ReadOptions {
  secondLevel?: boolean;
}

export interface ReadStats {
  /** Range reads issued to the weight source. */
  reads: number;
  /** Bytes those reads returned (gaps read through included). */
  bytes: number;
  /** sha256 checks passed. */
  verified: number;
}

/** A typed view of one dense tensor. */
export interface DenseTensorView {
  entry: TensorEntry;
  /** f32 values, or q8 values (row stride = shape[1]). */
  data: Float32Array | Int8Array;
  /** q8: f32[rows] scales; null for f32. */
  scales: Float32Array | null;
}

/** A verified tile of one tree. */
export interface FffTile {
  layer: number;
  tree: number;
  tile: TileRef;
  /** tile.records records of recordBytes, local heap order. */
  bytes: Uint8Array;
}

export class WeightPackage {
  readonly manifest: Manifest;
  readonly config: PackageConfig;
  readonly dtype: Dtype;
  /** Sizes and offsets recomputed from the config (equal to the manifest's, checked at open). */
  readonly layout: PackageLayout;
  /** Geometry shared by every fff.<layer> segment. */
  readonly fff: FffGeometry;
  readonly dense: DenseSegment;
  readonly embeddings: EmbeddingsSegment;
  readonly fffSegments: readonly FffSegment[];
  /** Dense tensors by name; offsets are relative to the dense segment (the bytes readDense() returns). */
  readonly denseTensors: ReadonlyMap<string, TensorEntry>;
  readonly weights: WeightSource;
  readonly maxGap: number;
  private readonly loadTokenizer: () => Promise<Uint8Array>;
  private readonly counters: ReadStats = { reads: 0, bytes: 0, verified: 0 };
  private readonly pieces: PieceCache | undefined;
  private readonly pieceCounters: PieceStats = { hits: 0, bytes: 0, rejected: 0 };
  private readonly layerDigests = new Map<number, Promise<string>>();

  private constructor(manifest: Manifest, o: OpenOptions) {
    this.manifest = manifest;
    this.config = manifest.config;
    this.dtype = manifest.quantization.dtype;
    this.dense = manifest.segments.find((s): s is DenseSegment => s.kind === "dense")!;
    this.embeddings = manifest.segments.find((s): s is EmbeddingsSegment => s.kind === "embeddings")!;
    this.fffSegments = manifest.segments.filter((s): s is FffSegment => s.kind === "fff");
    this.layout = planLayout(this.config, { dtype: this.dtype, tileDepth: this.fffSegments[0].tileDepth, rowsPerBlock: this.embeddings.rowsPerBlock });
    this.fff = this.layout.fff;
    this.denseTensors = new Map(manifest.tensors.map((t) => [t.name, t]));
    this.weights = o.weights;
    this.maxGap = o.maxGap ?? 0;
    this.loadTokenizer = o.tokenizer;
    this.pieces = o.pieces;
  }

  static async open(o: OpenOptions): Promise<WeightPackage> {
    const raw = typeof o.manifest === "function" ? await o.manifest() : o.manifest;
    const manifest = parseManifest(raw);
    const size = o.weights.size;
    if (size !== undefined && size !== manifest.weights.bytes) {
      throw new UfbError("bad_package", `${o.weights.name}: ${size} bytes, manifest.json says ${manifest.weights.bytes}`);
    }
    return new WeightPackage(manifest, o);
  }

  /** Read counters since open (or the last resetStats()), for usage reporting. */
  get stats(): ReadStats {
    return { ...this.counters };
  }

  /** Second-level counters since open (or the last resetStats()). */
  get pieceStats(): PieceStats {
    return { ...this.pieceCounters };
  }

  resetStats(): void {
    this.counters.reads = this.counters.bytes = this.counters.verified = 0;
    this.pieceCounters.hits = this.pieceCounters.bytes = this.pieceCounters.rejected = 0;
  }

  /**
   * The verified second-level bytes of each item the second level holds; the rest are `misses`, to read
   * from the source. A piece of the wrong size or hash is counted as rejected and treated as a miss.
   */
  private async fromSecondLevel<T>(items: T[], ref: (item: T) => PieceRef, check: (item: T, bytes: Uint8Array) => Promise<void>, o: ReadOptions): Promise<{ hits: Map<T, Uint8Array>; misses: T[] }> {
    const hits = new Map<T, Uint8Array>();
    const l2 = this.pieces;
    if (!l2 || o.secondLevel === false || items.length === 0) return { hits, misses: items };
    await Promise.all(
      items.map(async (item) => {
        const r = ref(item);
        let bytes: Uint8Array | undefined;
        try {
          bytes = await l2.get(r);
        } catch {
          bytes = undefined; // a second level must not fail a read
        }
        if (!bytes) return;
        try {
          if (bytes.length !== r.bytes) throw new UfbError("integrity", `${r.name}: ${bytes.length} bytes, expected ${r.bytes}`);
          await check(item, bytes);
        } catch {
          this.pieceCounters.rejected++;
          return;
        }
        this.pieceCounters.hits++;
        this.pieceCounters.bytes += bytes.length;
        hits.set(item, bytes);
      }),
    );
    return { hits, misses: items.filter((item) => !hits.has(item)) };
  }

  /** Offers verified bytes to the second level; its failures are its own. */
  private offer(r: PieceRef, bytes: Uint8Array, o: ReadOptions): void {
    if (!this.pieces || o.secondLevel === false) return;
    try {
      this.pieces.put(r, bytes);
    } catch {
      // ignored: the second level is an optimisation
    }
  }

  private denseRef(): PieceRef {
    return { kind: "dense", name: "dense", sha256: this.dense.sha256, bytes: this.dense.length };
  }

  private blockRef(b: PlannedBlock): PieceRef {
    return { kind: "embeddings", name: `emb/${b.block}`, sha256: this.embeddings.blocks[b.block], bytes: b.length };
  }

  private tileRef(layer: number, tree: number, p: PlannedTile): PieceRef {
    return { kind: "tile", name: `fff/${layer}/${tree}/${p.tile.id}`, sha256: this.fffSegment(layer).tiles[tree][p.tile.id], bytes: p.length };
  }

  private async layerRef(layer: number): Promise<PieceRef> {
    const seg = this.fffSegment(layer);
    let digest = this.layerDigests.get(layer);
    if (!digest) {
      digest = sha256Hex(new TextEncoder().encode(seg.tiles.flat().join("")));
      this.layerDigests.set(layer, digest);
    }
    return { kind: "layer", name: `fff/${layer}`, sha256: await digest, bytes: seg.length };
  }

  private async read(offset: number, length: number): Promise<Uint8Array> {
    const bytes = await this.weights.read(offset, length);
    if (bytes.length !== length) {
      throw new UfbError("io", `${this.weights.name}: asked ${length} bytes at offset ${offset}, got ${bytes.length}`);
    }
    this.counters.reads++;
    this.counters.bytes += length;
    return bytes;
  }

  private async verify(what: string, bytes: Uint8Array, expected: string): Promise<void> {
    await verifySha256(what, bytes, expected);
    this.counters.verified++;
  }

  /** Reads and checks the 64-byte weights.bin header against the manifest (no hash: it is all in the manifest). */
  async readHeader(): Promise<WeightsHeader> {
    const h = decodeHeader(await this.read(0, HEADER_BYTES), this.weights.name);
    const m = this.manifest;
    const want = { version: m.version, fileBytes: m.weights.bytes, segmentCount: m.segments.length, dtype: this.dtype };
    for (const k of Object.keys(want) as (keyof WeightsHeader)[]) {
      if (h[k] !== want[k]) throw new UfbError("bad_package", `${this.weights.name}: header ${k} is ${h[k]}, manifest.json says ${want[k]}`);
    }
    return h;
  }

  /** tokenizer.json bytes, checked against manifest.tokenizer (size and sha256). */
  async readTokenizer(): Promise<Uint8Array> {
    const bytes = await this.loadTokenizer();
    const t = this.manifest.tokenizer;
    if (bytes.length !== t.bytes) throw new UfbError("integrity", `${t.file}: ${bytes.length} bytes, manifest.json says ${t.bytes}`);
    await this.verify(t.file, bytes, t.sha256);
    return bytes;
  }

  /** The whole dense segment, verified. Tensor offsets in denseTensors are relative to it. */
  async readDense(o: ReadOptions = {}): Promise<Uint8Array> {
    const ref = this.denseRef();
    const { hits } = await this.fromSecondLevel([ref], (r) => r, (_, bytes) => this.verify("dense", bytes, this.dense.sha256), o);
    const cached = hits.get(ref);
    if (cached) return cached;
    const bytes = await this.read(this.dense.offset, this.dense.length);
    await this.verify("dense", bytes, this.dense.sha256);
    this.offer(ref, bytes, o);
    return bytes;
  }

  denseTensor(name: string): TensorEntry {
    const t = this.denseTensors.get(name);
    if (!t) throw new UfbError("bad_argument", `no dense tensor "${name}" in this package`);
    return t;
  }

  /** Typed view of one tensor in the bytes readDense() returned (copied only when misaligned). */
  denseView(dense: Uint8Array, name: string): DenseTensorView {
    const entry = this.denseTensor(name);
    if (dense.length !== this.dense.length) throw new UfbError("bad_argument", `denseView: ${dense.length} bytes, the dense segment has ${this.dense.length}`);
    const elements = entry.shape.reduce((a, b) => a * b, 1);
    const f32 = (offset: number, n: number) =>
      (dense.byteOffset + offset) % 4 === 0
        ? new Float32Array(dense.buffer, dense.byteOffset + offset, n)
        : new Float32Array(dense.slice(offset, offset + 4 * n).buffer);
    if (entry.dtype === "f32") return { entry, data: f32(entry.offset, elements), scales: null };
    return { entry, data: new Int8Array(dense.buffer, dense.byteOffset + entry.offset, elements), scales: f32(entry.scalesOffset!, entry.shape[0]) };
  }

  // ---- embeddings ----

  embeddingBlockOf(id: number): number {
    return embeddingBlockOf(this.embeddings, id);
  }

  /** Reads embedding blocks (adjacent ones in one range), each verified; block index → its rows. */
  async readEmbeddingBlocks(blocks: Iterable<number>, maxGap = this.maxGap, o: ReadOptions = {}): Promise<Map<number, Uint8Array>> {
    const check = (b: PlannedBlock, bytes: Uint8Array) => this.verify(`embeddings block ${b.block} (rows ${b.firstRow}…${b.firstRow + b.rows - 1})`, bytes, this.embeddings.blocks[b.block]);
    const wanted = planBlockReads(this.embeddings, blocks, maxGap).blocks;
    const { hits, misses } = await this.fromSecondLevel(wanted, (b) => this.blockRef(b), check, o);
    const out = new Map<number, Uint8Array>();
    for (const [b, bytes] of hits) out.set(b.block, bytes);
    const plan = planBlockReads(this.embeddings, misses.map((b) => b.block), maxGap);
    await this.readRanges(plan.ranges, async (b: PlannedBlock, bytes) => {
      await check(b, bytes);
      this.offer(this.blockRef(b), bytes, o);
      out.set(b.block, bytes);
    });
    return out;
  }

  // ---- fff ----

  private fffSegment(layer: number): FffSegment {
    const s = this.fffSegments[layer];
    if (!s) throw new UfbError("bad_argument", `layer ${layer}: out of range, the model has ${this.fffSegments.length} layers`);
    return s;
  }

  /** Reads tiles of one tree (touching ones in one range), each verified; tile id → tile. */
  async readFffTiles(layer: number, tree: number, tiles: Iterable<number>, maxGap = this.maxGap, o: ReadOptions = {}): Promise<Map<number, FffTile>> {
    const seg = this.fffSegment(layer);
    const check = (p: PlannedTile, bytes: Uint8Array) => this.verify(`fff.${layer} tree ${tree} tile ${p.tile.id}`, bytes, seg.tiles[tree][p.tile.id]);
    const wanted = planTileReads(this.fff, seg.offset, layer, tree, tiles, maxGap).tiles;
    const { hits, misses } = await this.fromSecondLevel(wanted, (p) => this.tileRef(layer, tree, p), check, o);
    const out = new Map<number, FffTile>();
    for (const [p, bytes] of hits) out.set(p.tile.id, { layer, tree, tile: p.tile, bytes });
    const plan = planTileReads(this.fff, seg.offset, layer, tree, misses.map((p) => p.tile.id), maxGap);
    await this.readRanges(plan.ranges, async (p: PlannedTile, bytes) => {
      await check(p, bytes);
      this.offer(this.tileRef(layer, tree, p), bytes, o);
      out.set(p.tile.id, { layer, tree, tile: p.tile, bytes });
    });
    return out;
  }

  /** The whole fff.<layer> segment in one read, every tile verified. */
  async readFffLayer(layer: number, o: ReadOptions = {}): Promise<Uint8Array> {
    const seg = this.fffSegment(layer);
    const check = async (bytes: Uint8Array) => {
      const checks: Promise<void>[] = [];
      for (let t = 0; t < this.fff.trees; t++) {
        for (let id = 0; id < this.fff.tilesPerTree; id++) {
          const p = planTileReads(this.fff, 0, layer, t, [id]).tiles[0];
          checks.push(this.verify(`fff.${layer} tree ${t} tile ${id}`, bytes.subarray(p.offset, p.offset + p.length), seg.tiles[t][id]));
        }
      }
      await settleAll(checks);
    };
    const ref = this.pieces && o.secondLevel !== false ? await this.layerRef(layer) : undefined;
    if (ref) {
      const cached = (await this.fromSecondLevel([ref], (r) => r, (_, bytes) => check(bytes), o)).hits.get(ref);
      if (cached) return cached;
    }
    const bytes = await this.read(seg.offset, seg.length);
    await check(bytes);
    if (ref) this.offer(ref, bytes, o);
    return bytes;
  }

  /**
   * Reads ranges concurrently and hands each piece (a subarray) to `each`. Returns (or throws the first
   * failure) only once every read has settled: a read must not outlive the call (and its request) that
   * started it, holding a read slot or a shared fill nobody will settle.
   */
  private async readRanges<T extends { offset: number; length: number }>(
    ranges: CoalescedRange<T>[],
    each: (item: T, bytes: Uint8Array) => Promise<void>,
  ): Promise<void> {
    await settleAll(
      ranges.map(async (r) => {
        const bytes = await this.read(r.offset, r.length);
        await settleAll(r.items.map((it) => each(it, bytes.subarray(it.offset - r.offset, it.offset - r.offset + it.length))));
      }),
    );
  }

  /** sha256 of the whole weights.bin is not in the manifest (crypto.subtle has no streaming digest); this checks every piece. */
  async verifyAll(onProgress?: (what: string) => void): Promise<{ pieces: number }> {
    const before = this.counters.verified;
    const source = { secondLevel: false }; // checks the source itself
    await this.readHeader();
    await this.readTokenizer();
    await this.readDense(source);
    onProgress?.("dense");
    const blocks = this.embeddings.blocks.map((_, i) => i);
    for (let i = 0; i < blocks.length; i += 64) await this.readEmbeddingBlocks(blocks.slice(i, i + 64), Infinity, source);
    onProgress?.("embeddings");
    for (let l = 0; l < this.fffSegments.length; l++) {
      await this.readFffLayer(l, source);
      onProgress?.(`fff.${l}`);
    }
    return { pieces: this.counters.verified - before };
  }
}

