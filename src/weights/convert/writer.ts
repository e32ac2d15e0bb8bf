/**
 * Writes a package: weights.bin streamed segment by segment into a ByteSink (only one segment is in
 * memory at a time), every sha256 computed on the way, and the manifest returned. The caller stores
 * tokenizer.json and manifest.json (manifest last, so a partial package has no manifest).
 */
import { UfbError } from "../../errors.ts";
import { DEFAULT_ROWS_PER_BLOCK, DEFAULT_TILE_DEPTH, type Dtype, FORMAT, FORMAT_VERSION, HEADER_BYTES, SEGMENT_ALIGN, encodeHeader, tileNode, tileRef } from "../format/spec.ts";
import { KEYS, LAYER_KEYS, type PackageLayout, planLayout } from "../format/layout.ts";
import { type PackageConfig, PackageConfigSchema } from "../format/config.ts";
import { type Manifest, type Segment, type SpecialTokens, formatZodIssues } from "../format/manifest.ts";
import { quantizeMatrixQ8, quantizeQ8, q8MaxError } from "../format/q8.ts";
import { encodeRecord } from "../format/records.ts";
import { sha256Hex } from "../read/sha256.ts";
import type { ByteSink } from "../read/sources.ts";
import { readTokenizerInfo } from "../format/tokenizer-info.ts";

/** Model tensors by checkpoint key name, as f32, row-major. Implemented by the checkpoint loader and synth. */
export interface ModelTensors {
  get(name: string): Promise<Float32Array>;
  /** Rows [start, start + count) of a 2-D tensor. */
  getRows(name: string, start: number, count: number): Promise<Float32Array>;
}

export interface PackageInput {
  /** Model name recorded in the manifest (e.g. the checkpoint folder or the synth preset). */
  name: string;
  config: PackageConfig;
  specialTokens: SpecialTokens;
  /** tokenizer.json bytes, stored as is. */
  tokenizer: Uint8Array;
  tensors: ModelTensors;
  /** Provenance, copied to manifest.created.from. */
  from: Record<string, unknown>;
}

export interface WriteOptions {
  dtype: Dtype;
  tileDepth?: number;
  rowsPerBlock?: number;
  /** manifest.created.by, e.g. "ufb convert 0.1.0". */
  createdBy?: string;
  /** manifest.created.at (ISO 8601); null or absent for reproducible output. */
  createdAt?: string | null;
  onProgress?: (message: string) => void;
}

const nonFinite = (name: string, row: number) =>
  new UfbError("bad_checkpoint", `tensor "${name}": non-finite value (NaN or ±Inf) in row ${row}`);

function expectLength(name: string, values: Float32Array, shape: number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new UfbError("bad_checkpoint", `tensor "${name}": ${values.length} values, expected ${n} for shape [${shape.join(", ")}]`);
}

class Writer {
  at = 0;
  private readonly sink: ByteSink;
  constructor(sink: ByteSink) {
    this.sink = sink;
  }
  async write(bytes: Uint8Array): Promise<void> {
    await this.sink.write(bytes);
    this.at += bytes.length;
  }
  async padTo(offset: number): Promise<void> {
    if (offset < this.at) throw new UfbError("internal", `writer: at ${this.at}, past offset ${offset}`);
    if (offset > this.at) await this.write(new Uint8Array(offset - this.at));
  }
}

export async function writePackage(input: PackageInput, sink: ByteSink, options: WriteOptions): Promise<Manifest> {
  const checked = PackageConfigSchema.safeParse(input.config);
  if (!checked.success) throw new UfbError("bad_argument", `config: ${formatZodIssues(checked.error)}`);
  const c = checked.data;
  const dtype = options.dtype;
  const layout = planLayout(c, {
    dtype,
    tileDepth: options.tileDepth ?? DEFAULT_TILE_DEPTH,
    rowsPerBlock: options.rowsPerBlock ?? DEFAULT_ROWS_PER_BLOCK,
  });
  const progress = options.onProgress ?? (() => {});
  const w = new Writer(sink);
  const segments: Segment[] = [];
  await w.write(encodeHeader({ version: FORMAT_VERSION, fileBytes: layout.totalBytes, segmentCount: 2 + c.numLayers, dtype }));

  progress("embeddings");
  const emb = await writeEmbeddings(input, layout, w);
  segments.push(emb.segment);
  progress("dense");
  const dense = await writeDense(input, layout, w, emb.scales);
  segments.push(dense.segment);
  let fffIn = 0;
  let fffOut = 0;
  for (let l = 0; l < c.numLayers; l++) {
    progress(`fff.${l}`);
    const f = await writeFff(input, layout, w, l);
    segments.push(f.segment);
    fffIn = Math.max(fffIn, f.inError);
    fffOut = Math.max(fffOut, f.outError);
  }
  if (w.at !== layout.totalBytes) throw new UfbError("internal", `writer: wrote ${w.at} bytes, layout says ${layout.totalBytes}`);

  const q8 = dtype === "q8";
  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    name: input.name,
    config: c,
    specialTokens: input.specialTokens,
    quantization: {
      dtype,
      scheme: q8 ? "symmetric-int8-per-row" : "none",
      fffRecords: dtype,
      embeddings: dtype,
      denseMatrices: dtype,
      denseVectors: "f32",
      maxAbsError: q8 ? { fffIn, fffOut, embeddings: emb.maxError, dense: dense.maxError } : { fffIn: null, fffOut: null, embeddings: null, dense: null },
    },
    tokenizer: {
      file: "tokenizer.json", bytes: input.tokenizer.length, sha256: await sha256Hex(input.tokenizer),
      // omitted, not null, for plain tokenizers: their manifests stay byte-identical to before
      ...textRulesOf(input.tokenizer),
    },
    weights: { file: "weights.bin", bytes: layout.totalBytes, alignment: SEGMENT_ALIGN, headerBytes: HEADER_BYTES },
    tensors: layout.dense.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, offset: t.offset, bytes: t.bytes, ...(t.scalesOffset === undefined ? {} : { scalesOffset: t.scalesOffset }) })),
    segments,
    created: { by: options.createdBy ?? "ufb", at: options.createdAt ?? null, from: input.from },
  };
}

async function writeEmbeddings(input: PackageInput, layout: PackageLayout, w: Writer) {
  const e = layout.embeddings;
  const h = e.cols;
  const q8 = layout.dtype === "q8";
  const scales = new Float32Array(q8 ? e.rows : 0);
  const blocks: string[] = [];
  let maxError = 0;
  await w.padTo(e.offset);
  for (let b = 0; b < e.blocks; b++) {
    const start = b * e.rowsPerBlock;
    const n = Math.min(e.rowsPerBlock, e.rows - start);
    const rows = await input.tensors.getRows(KEYS.wordEmbedding, start, n);
    expectLength(KEYS.wordEmbedding, rows, [n, h]);
    const block = new Uint8Array(n * e.rowBytes);
    for (let r = 0; r < n; r++) {
      if (q8) {
        const q = new Int8Array(block.buffer, r * e.rowBytes, h);
        const s = quantizeQ8(rows, q, 0, r * h, h);
        if (Number.isNaN(s)) throw nonFinite(KEYS.wordEmbedding, start + r);
        scales[start + r] = s;
        maxError = Math.max(maxError, q8MaxError(rows, q, s, r * h));
      } else {
        const f = new Float32Array(block.buffer, r * e.rowBytes, h);
        f.set(rows.subarray(r * h, (r + 1) * h));
        for (let i = 0; i < h; i++) if (!Number.isFinite(f[i])) throw nonFinite(KEYS.wordEmbedding, start + r);
      }
    }
    blocks.push(await sha256Hex(block));
    await w.write(block);
  }
  const segment: Segment = {
    kind: "embeddings",
    name: "embeddings",
    offset: e.offset,
    length: e.length,
    tensor: KEYS.wordEmbedding,
    dtype: layout.dtype,
    rows: e.rows,
    cols: e.cols,
    rowBytes: e.rowBytes,
    rowsPerBlock: e.rowsPerBlock,
    scalesTensor: q8 ? KEYS.wordEmbeddingScales : null,
    blocks,
  };
  return { segment, scales, maxError };
}

async function writeDense(input: PackageInput, layout: PackageLayout, w: Writer, embeddingScales: Float32Array) {
  const d = layout.dense;
  const buf = new Uint8Array(d.length);
  let maxError = 0;
  for (const t of d.tensors) {
    const values = t.name === KEYS.wordEmbeddingScales ? embeddingScales : await input.tensors.get(t.name);
    expectLength(t.name, values, t.shape);
    if (t.dtype === "f32") {
      new Float32Array(buf.buffer, t.offset, values.length).set(values);
      const cols = t.shape.length === 2 ? t.shape[1] : 1;
      for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) throw nonFinite(t.name, Math.floor(i / cols));
    } else {
      const [rows, cols] = t.shape;
      const q = quantizeMatrixQ8(values, rows, cols);
      if (q.badRow >= 0) throw nonFinite(t.name, q.badRow);
      buf.set(new Uint8Array(q.q.buffer), t.offset);
      new Float32Array(buf.buffer, t.scalesOffset!, rows).set(q.scales);
      maxError = Math.max(maxError, q.maxError);
    }
  }
  await w.padTo(d.offset);
  const segment: Segment = { kind: "dense", name: "dense", offset: d.offset, length: d.length, sha256: await sha256Hex(buf) };
  await w.write(buf);
  return { segment, maxError };
}

async function writeFff(input: PackageInput, layout: PackageLayout, w: Writer, l: number) {
  const g = layout.fff;
  const h = g.hidden;
  const kn = g.trees * g.nodesPerTree;
  const key = (s: string) => KEYS.layer(l, s);
  const inW = await input.tensors.get(key(LAYER_KEYS.fffInWeight));
  expectLength(key(LAYER_KEYS.fffInWeight), inW, [kn, h]);
  const inB = await input.tensors.get(key(LAYER_KEYS.fffInBias));
  expectLength(key(LAYER_KEYS.fffInBias), inB, [kn]);
  const outW = await input.tensors.get(key(LAYER_KEYS.fffOutWeight));
  expectLength(key(LAYER_KEYS.fffOutWeight), outW, [h, kn]);
  const seg = layout.fffSegments[l];
  const buf = new Uint8Array(seg.length);
  const tiles: string[][] = [];
  let inError = 0;
  let outError = 0;
  for (let t = 0; t < g.trees; t++) {
    const hashes: string[] = [];
    for (let id = 0; id < g.tilesPerTree; id++) {
      const tile = tileRef(g, id);
      const base = t * g.treeBytes + tile.offset;
      for (let slot = 0; slot < tile.records; slot++) {
        const row = t * g.nodesPerTree + tileNode(tile, slot); // node n of tree t = row/column t·N + n
        const e = encodeRecord(buf, base + slot * g.recordBytes, h, g.dtype, inB[row], inW, row * h, outW, row, kn);
        if (Number.isNaN(e.inError)) throw nonFinite(`${key(LAYER_KEYS.fffInWeight)}" or "${key(LAYER_KEYS.fffInBias)}`, row);
        if (Number.isNaN(e.outError)) throw new UfbError("bad_checkpoint", `tensor "${key(LAYER_KEYS.fffOutWeight)}": non-finite value in column ${row}`);
        inError = Math.max(inError, e.inError);
        outError = Math.max(outError, e.outError);
      }
      hashes.push(await sha256Hex(buf.subarray(base, base + tile.bytes)));
    }
    tiles.push(hashes);
  }
  await w.padTo(seg.offset);
  await w.write(buf);
  const segment: Segment = {
    kind: "fff",
    name: `fff.${l}`,
    offset: seg.offset,
    length: seg.length,
    layer: l,
    dtype: g.dtype,
    hidden: h,
    trees: g.trees,
    levels: g.levels,
    recordBytes: g.recordBytes,
    tileDepth: g.tileDepth,
    tilesPerTree: g.tilesPerTree,
    tiles,
  };
  return { segment, inError, outError };
}

function textRulesOf(tokenizer: Uint8Array): { textRules?: string } {
  const v = readTokenizerInfo(tokenizer).textRules;
  return v === undefined ? {} : { textRules: v };
}
