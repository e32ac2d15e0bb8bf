/**
 * manifest.json: types, zod schema and checks. Order of checks (llama2.c runq.c, ggml gguf.cpp): the
 * format magic, then the version (reporting both values), then the schema, then every size and offset
 * against the layout recomputed from the config (layout.ts).
 */
import { z } from "zod";
import { UfbError } from "../../errors.ts";
import { FORMAT, FORMAT_VERSION, HEADER_BYTES, MAX_FFF_LEVELS, SEGMENT_ALIGN } from "./spec.ts";
import { PackageConfigSchema, fffLevels } from "./config.ts";
import { planLayout } from "./layout.ts";

const uint = z.int().min(0);
const pos = z.int().min(1);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected a sha256 as 64 lowercase hex digits");
const dtype = z.enum(["f32", "q8"]);


/** Special token ids by role, from tokenizer.json added_tokens. */
export const SpecialTokensSchema = z.strictObject({
  pad: uint.optional(),
  unk: uint.optional(),
  cls: uint.optional(),
  sep: uint.optional(),
  mask: uint.optional(),
  bos: uint.optional(),
  eos: uint.optional(),
});
export type SpecialTokens = z.infer<typeof SpecialTokensSchema>;

const maxError = z.number().min(0).nullable();
export const QuantizationSchema = z.strictObject({
  dtype,
  /** The q8 rule in words (docs/format.md §5); "none" for f32 packages. */
  scheme: z.enum(["none", "symmetric-int8-per-row"]),
  fffRecords: dtype,
  embeddings: dtype,
  denseMatrices: dtype,
  /** Vectors and scalars are always f32. */
  denseVectors: z.literal("f32"),
  /** Largest |w − q·scale| seen while writing, per group (null for f32). */
  maxAbsError: z.strictObject({ fffIn: maxError, fffOut: maxError, embeddings: maxError, dense: maxError }),
});
export type Quantization = z.infer<typeof QuantizationSchema>;

export const TensorEntrySchema = z.strictObject({
  name: z.string().min(1),
  dtype,
  shape: z.array(uint),
  /** Relative to the dense segment; multiple of 64. */
  offset: uint,
  bytes: uint,
  /** q8 only: f32[shape[0]] row scales, relative to the dense segment. */
  scalesOffset: uint.optional(),
});
export type TensorEntry = z.infer<typeof TensorEntrySchema>;

const segmentBase = { name: z.string(), offset: uint, length: uint };
export const DenseSegmentSchema = z.strictObject({ kind: z.literal("dense"), ...segmentBase, sha256 });
export const EmbeddingsSegmentSchema = z.strictObject({
  kind: z.literal("embeddings"),
  ...segmentBase,
  tensor: z.string(),
  dtype,
  rows: pos,
  cols: pos,
  rowBytes: pos,
  rowsPerBlock: pos,
  /** q8: name of the dense f32 tensor with one scale per row; null for f32. */
  scalesTensor: z.string().nullable(),
  /** sha256 of block b = rows [b·rowsPerBlock, min((b+1)·rowsPerBlock, rows)). */
  blocks: z.array(sha256),
});
export const FffSegmentSchema = z.strictObject({
  kind: z.literal("fff"),
  ...segmentBase,
  layer: uint,
  dtype,
  hidden: pos,
  trees: pos,
  levels: z.int().min(1).max(MAX_FFF_LEVELS),
  recordBytes: pos,
  tileDepth: z.int().min(1).max(MAX_FFF_LEVELS),
  tilesPerTree: pos,
  /** tiles[tree][tile id]: sha256 of each tile, in file order. */
  tiles: z.array(z.array(sha256)),
});
export const SegmentSchema = z.discriminatedUnion("kind", [DenseSegmentSchema, EmbeddingsSegmentSchema, FffSegmentSchema]);
export type DenseSegment = z.infer<typeof DenseSegmentSchema>;
export type EmbeddingsSegment = z.infer<typeof EmbeddingsSegmentSchema>;
export type FffSegment = z.infer<typeof FffSegmentSchema>;
export type Segment = z.infer<typeof SegmentSchema>;

export const ManifestSchema = z.strictObject({
  format: z.literal(FORMAT),
  version: z.int().min(1).max(FORMAT_VERSION),
  name: z.string(),
  config: PackageConfigSchema,
  specialTokens: SpecialTokensSchema,
  quantization: QuantizationSchema,
  tokenizer: z.strictObject({
    file: z.string(), bytes: uint, sha256,
    /** Version of the pre-normalization rules inside tokenizer.json ("ufb_text_rules"), when it has them. */
    textRules: z.string().optional(),
  }),
  weights: z.strictObject({ file: z.string(), bytes: uint, alignment: z.literal(SEGMENT_ALIGN), headerBytes: z.literal(HEADER_BYTES) }),
  tensors: z.array(TensorEntrySchema),
  /** In file order. */
  segments: z.array(SegmentSchema),
  created: z.strictObject({
    by: z.string(),
    /** ISO 8601, or null for reproducible output. */
    at: z.string().nullable(),
    from: z.record(z.string(), z.unknown()),
  }),
});
export type Manifest = z.infer<typeof ManifestSchema>;

const bad = (msg: string) => new UfbError("bad_package", `manifest.json: ${msg}`);

/** Renders a zod error as `field.path: message` lines. */
export function formatZodIssues(error: z.ZodError, prefix = ""): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const path = i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
      return `${prefix}${path || "(root)"}: ${i.message}`;
    })
    .join("; ");
}

/** Parses, version-checks, schema-checks and layout-checks a manifest. */
export function parseManifest(input: string | Uint8Array): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(typeof input === "string" ? input : new TextDecoder().decode(input));
  } catch (e) {
    throw bad(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null) throw bad("not a JSON object");
  const head = json as { format?: unknown; version?: unknown };
  if (head.format !== FORMAT) throw bad(`format is ${JSON.stringify(head.format)}, expected "${FORMAT}" (not a ufb package?)`);
  if (!Number.isInteger(head.version) || (head.version as number) < 1) throw bad(`version is ${JSON.stringify(head.version)}, expected a positive integer`);
  if ((head.version as number) > FORMAT_VERSION) {
    throw new UfbError("version", `package v${head.version}; reader supports ≤ ${FORMAT_VERSION} (upgrade ufb)`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) throw bad(formatZodIssues(parsed.error));
  validateManifest(parsed.data);
  return parsed.data;
}

/** Checks a schema-valid manifest against the layout its config implies. Throws bad_package. */
export function validateManifest(m: Manifest): void {
  const c = m.config;
  if (c.numHeads * c.headDim !== c.hiddenSize) throw bad(`config: numHeads ${c.numHeads} × headDim ${c.headDim} ≠ hiddenSize ${c.hiddenSize}`);
  if (c.kind === "classifier") {
    if (c.pooler === null || c.classifierDim === null || c.numLabels === null || c.labels === null) {
      throw bad("config: a classifier needs pooler, classifierDim, numLabels and labels");
    }
    if (c.labels.length !== c.numLabels) throw bad(`config.labels: ${c.labels.length} labels, numLabels is ${c.numLabels}`);
  } else if (c.classifierDim !== null || c.numLabels !== null || c.labels !== null) {
    throw bad(`config: an ${c.kind} package has classifierDim, numLabels and labels null`);
  }
  if (c.kind === "embedding") {
    // the pooler's vector is the model's whole output: it must say which one
    if (c.pooler === null) throw bad("config: an embedding package needs a pooler (\"avg\" or \"zero_index\")");
    if (c.mlmDecoder !== undefined) throw bad("config: an embedding package has no mlmDecoder (contrastive training leaves the tied decoder meaningless)");
  } else if (c.normalize !== undefined) {
    throw bad(`config.normalize: only embedding packages normalise their vectors, this one is ${c.kind}`);
  }
  for (const [role, id] of Object.entries(m.specialTokens)) {
    if (id !== undefined && id >= c.vocabSize) throw bad(`specialTokens.${role}: id ${id} ≥ vocabSize ${c.vocabSize}`);
  }
  const segs = m.segments;
  const dense = segs.filter((s) => s.kind === "dense");
  const emb = segs.filter((s) => s.kind === "embeddings");
  const fff = segs.filter((s) => s.kind === "fff");
  if (dense.length !== 1 || emb.length !== 1) throw bad(`segments: ${dense.length} dense and ${emb.length} embeddings segments, expected 1 each`);
  if (fff.length !== c.numLayers) throw bad(`segments: ${fff.length} fff segments, config.numLayers is ${c.numLayers}`);
  const tileDepth = fff[0].tileDepth;
  const layout = planLayout(c, { dtype: m.quantization.dtype, tileDepth, rowsPerBlock: emb[0].rowsPerBlock });
  const q = m.quantization;
  const expectQ = q.dtype === "q8" ? "q8" : "f32";
  if (q.fffRecords !== expectQ || q.embeddings !== expectQ || q.denseMatrices !== expectQ || q.scheme !== (q.dtype === "q8" ? "symmetric-int8-per-row" : "none")) {
    throw bad(`quantization: a ${q.dtype} package has fffRecords, embeddings and denseMatrices ${expectQ}`);
  }
  const same = (what: string, got: unknown, want: unknown) => {
    if (got !== want) throw bad(`${what} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  };
  same("weights.bytes", m.weights.bytes, layout.totalBytes);

  const e = emb[0];
  const le = layout.embeddings;
  same("segments[embeddings].offset", e.offset, le.offset);
  same("segments[embeddings].length", e.length, le.length);
  same("segments[embeddings].rows", e.rows, le.rows);
  same("segments[embeddings].cols", e.cols, le.cols);
  same("segments[embeddings].rowBytes", e.rowBytes, le.rowBytes);
  same("segments[embeddings].dtype", e.dtype, q.dtype);
  same("segments[embeddings].blocks.length", e.blocks.length, le.blocks);

  const d = dense[0];
  same("segments[dense].offset", d.offset, layout.dense.offset);
  same("segments[dense].length", d.length, layout.dense.length);
  same("tensors.length", m.tensors.length, layout.dense.tensors.length);
  layout.dense.tensors.forEach((want, i) => {
    const got = m.tensors[i];
    same(`tensors[${i}].name`, got.name, want.name);
    same(`tensors[${want.name}].dtype`, got.dtype, want.dtype);
    same(`tensors[${want.name}].shape`, got.shape.join(","), want.shape.join(","));
    same(`tensors[${want.name}].offset`, got.offset, want.offset);
    same(`tensors[${want.name}].bytes`, got.bytes, want.bytes);
    same(`tensors[${want.name}].scalesOffset`, got.scalesOffset, want.scalesOffset);
  });
  same("segments[embeddings].scalesTensor", e.scalesTensor, q.dtype === "q8" ? layout.dense.tensors.find((t) => t.name.endsWith(".scales"))?.name : null);

  const g = layout.fff;
  fff.forEach((s, l) => {
    const want = layout.fffSegments[l];
    const w = `segments[fff.${l}]`;
    same(`${w}.name`, s.name, `fff.${l}`);
    same(`${w}.layer`, s.layer, l);
    same(`${w}.offset`, s.offset, want.offset);
    same(`${w}.length`, s.length, want.length);
    same(`${w}.dtype`, s.dtype, q.dtype);
    same(`${w}.hidden`, s.hidden, c.hiddenSize);
    same(`${w}.trees`, s.trees, c.fffTrees);
    same(`${w}.levels`, s.levels, fffLevels(c));
    same(`${w}.recordBytes`, s.recordBytes, g.recordBytes);
    same(`${w}.tileDepth`, s.tileDepth, tileDepth);
    same(`${w}.tilesPerTree`, s.tilesPerTree, g.tilesPerTree);
    same(`${w}.tiles.length`, s.tiles.length, c.fffTrees);
    s.tiles.forEach((t, i) => same(`${w}.tiles[${i}].length`, t.length, g.tilesPerTree));
  });
  // file order = offset order, no overlap (implied by the layout, kept as a guard)
  let end = HEADER_BYTES;
  for (const s of segs) {
    if (s.offset % SEGMENT_ALIGN !== 0) throw bad(`segments[${s.name}].offset ${s.offset} is not a multiple of ${SEGMENT_ALIGN}`);
    if (s.offset < end) throw bad(`segments[${s.name}] starts at ${s.offset}, before the end of the previous segment (${end})`);
    end = s.offset + s.length;
  }
}

/** manifest.json text: one top-level field per line, one tensor / segment per line (diffable, compact). */
export function manifestJson(m: Manifest): string {
  const lines = Object.entries(m).map(([k, v]) => {
    const key = JSON.stringify(k);
    if (Array.isArray(v) && v.length > 0) return ` ${key}: [\n${v.map((x) => `  ${JSON.stringify(x)}`).join(",\n")}\n ]`;
    return ` ${key}: ${JSON.stringify(v)}`;
  });
  return `{\n${lines.join(",\n")}\n}\n`;
}
