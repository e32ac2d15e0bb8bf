/**
 * Where everything goes in weights.bin, computed from the config and the package options alone. The
 * writer lays the file out with it and the manifest check recomputes it, so the two cannot disagree.
 */
import { UfbError } from "../../errors.ts";
import {
  type Dtype,
  type FffGeometry,
  HEADER_BYTES,
  SEGMENT_ALIGN,
  TENSOR_ALIGN,
  alignUp,
  dtypeBytes,
  embeddingRowBytes,
  fffGeometry,
} from "./spec.ts";
import { type PackageConfig, fffLevels } from "./config.ts";

/** Checkpoint key names (spec §4), kept verbatim in the package. */
export const KEYS = {
  wordEmbedding: "encoder.embedding.word_embedding.weight",
  decoder: "decoder.weight",
  scaleFactor: "encoder.embedding.pos_embedding.scale_factor",
  embeddingNormWeight: "encoder.embedding.norm.weight",
  embeddingNormBias: "encoder.embedding.norm.bias",
  finalNormWeight: "encoder.final_norm.weight",
  finalNormBias: "encoder.final_norm.bias",
  poolerWeight: "pooler.dense.weight",
  poolerBias: "pooler.dense.bias",
  headWeight: "head.weight",
  headBias: "head.bias",
  /** Dense f32 tensor of a q8 package: the dequantization scale of each embedding row. */
  wordEmbeddingScales: "encoder.embedding.word_embedding.weight.scales",
  layer: (l: number, suffix: string) => `encoder.layers.${l}.${suffix}`,
} as const;

export const LAYER_KEYS = {
  norm1Weight: "norm1.weight",
  norm1Bias: "norm1.bias",
  qkv: "attn.self_attention.query_key_value.weight",
  attnOut: "attn.dense.weight",
  norm2Weight: "norm2.weight",
  norm2Bias: "norm2.bias",
  normFactor: "attn.self_attention.norm_factor",
  fffInWeight: "ffn.linear_in.weight",
  fffInBias: "ffn.linear_in.bias",
  fffOutWeight: "ffn.linear_out.weight",
} as const;

export interface DenseTensorSpec {
  name: string;
  shape: number[];
  /** q8 for every matrix (rank 2) of a q8 package; vectors and scalars stay f32. */
  dtype: Dtype;
}

/** The dense segment's tensors, in file order. */
export function denseTensorSpecs(c: PackageConfig, dtype: Dtype): DenseTensorSpec[] {
  const h = c.hiddenSize;
  const vec = (name: string, n: number): DenseTensorSpec => ({ name, shape: [n], dtype: "f32" });
  const mat = (name: string, rows: number, cols: number): DenseTensorSpec => ({ name, shape: [rows, cols], dtype });
  const specs: DenseTensorSpec[] = [
    vec(KEYS.scaleFactor, 1),
    vec(KEYS.embeddingNormWeight, h),
    vec(KEYS.embeddingNormBias, h),
  ];
  if (dtype === "q8") specs.push(vec(KEYS.wordEmbeddingScales, c.vocabSize));
  for (let l = 0; l < c.numLayers; l++) {
    const k = (s: string) => KEYS.layer(l, s);
    specs.push(
      vec(k(LAYER_KEYS.norm1Weight), h),
      vec(k(LAYER_KEYS.norm1Bias), h),
      mat(k(LAYER_KEYS.qkv), 3 * h, h),
      mat(k(LAYER_KEYS.attnOut), h, h),
      vec(k(LAYER_KEYS.norm2Weight), h),
      vec(k(LAYER_KEYS.norm2Bias), h),
    );
  }
  specs.push(vec(KEYS.finalNormWeight, h), vec(KEYS.finalNormBias, h));
  if (c.kind === "classifier") {
    const cd = c.classifierDim!;
    const nl = c.numLabels!;
    specs.push(mat(KEYS.poolerWeight, cd, h), vec(KEYS.poolerBias, cd), mat(KEYS.headWeight, nl, cd), vec(KEYS.headBias, nl));
  }
  return specs;
}

export interface DenseTensorLayout extends DenseTensorSpec {
  /** Relative to the dense segment. */
  offset: number;
  bytes: number;
  /** q8: offset of f32[rows] scales, relative to the dense segment. */
  scalesOffset?: number;
}

export interface PackageLayout {
  dtype: Dtype;
  tileDepth: number;
  rowsPerBlock: number;
  fff: FffGeometry;
  embeddings: { offset: number; length: number; rows: number; cols: number; rowBytes: number; rowsPerBlock: number; blocks: number };
  dense: { offset: number; length: number; tensors: DenseTensorLayout[] };
  fffSegments: { layer: number; offset: number; length: number }[];
  totalBytes: number;
}

export function planLayout(c: PackageConfig, o: { dtype: Dtype; tileDepth: number; rowsPerBlock: number }): PackageLayout {
  if (!Number.isInteger(o.rowsPerBlock) || o.rowsPerBlock < 1) {
    throw new UfbError("bad_argument", `rowsPerBlock: expected a positive integer, got ${o.rowsPerBlock}`);
  }
  const fff = fffGeometry({ hidden: c.hiddenSize, trees: c.fffTrees, levels: fffLevels(c), dtype: o.dtype, tileDepth: o.tileDepth });
  let at = HEADER_BYTES;
  const rowBytes = embeddingRowBytes(c.hiddenSize, o.dtype);
  const embLength = c.vocabSize * rowBytes;
  const embeddings = {
    offset: alignUp(at, SEGMENT_ALIGN),
    length: embLength,
    rows: c.vocabSize,
    cols: c.hiddenSize,
    rowBytes,
    rowsPerBlock: o.rowsPerBlock,
    blocks: Math.ceil(c.vocabSize / o.rowsPerBlock),
  };
  at = embeddings.offset + embLength;

  const tensors: DenseTensorLayout[] = [];
  let rel = 0;
  for (const spec of denseTensorSpecs(c, o.dtype)) {
    const elements = spec.shape.reduce((a, b) => a * b, 1);
    const t: DenseTensorLayout = { ...spec, offset: alignUp(rel, TENSOR_ALIGN), bytes: elements * dtypeBytes(spec.dtype) };
    rel = t.offset + t.bytes;
    if (spec.dtype === "q8") {
      t.scalesOffset = alignUp(rel, TENSOR_ALIGN);
      rel = t.scalesOffset + 4 * spec.shape[0];
    }
    tensors.push(t);
  }
  const dense = { offset: alignUp(at, SEGMENT_ALIGN), length: rel, tensors };
  at = dense.offset + rel;

  const fffSegments = [];
  for (let l = 0; l < c.numLayers; l++) {
    const offset = alignUp(at, SEGMENT_ALIGN);
    fffSegments.push({ layer: l, offset, length: fff.segmentBytes });
    at = offset + fff.segmentBytes;
  }
  return { dtype: o.dtype, tileDepth: o.tileDepth, rowsPerBlock: o.rowsPerBlock, fff, embeddings, dense, fffSegments, totalBytes: at };
}
