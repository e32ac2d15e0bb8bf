/**
 * Model weights as the forward pass sees them: pointers into kernel memory, plus two stores that make
 * weights resident on demand — embedding rows (per token id) and FFF node records (per tree node).
 * A store backed by a fully loaded package answers at once; one backed by R2 fetches tiles first.
 */

import type { Dtype } from "../weights/format/spec.ts";

/** A [rows][cols] matrix in kernel memory, row-major (PyTorch Linear.weight layout: rows = outputs). */
export interface DenseMatrix {
  dtype: Dtype;
  ptr: number;
  /** q8: f32[rows] per-row dequantization scales; 0 for f32. */
  scales: number;
  rows: number;
  cols: number;
}

export interface Norm {
  weight: number; // f32[H]
  bias: number; // f32[H]
}

export interface LayerWeights {
  norm1: Norm;
  qkv: DenseMatrix; // (3H, H), per-head interleaved Q,K,V
  attnOut: DenseMatrix; // (H, H)
  norm2: Norm;
}

export interface Linear {
  matrix: DenseMatrix;
  bias: number; // f32[rows] or 0
}

export interface EmbeddingStore {
  readonly dtype: Dtype;
  /** Makes the rows of these token ids resident and keeps them until release(); rowPtr is valid meanwhile. */
  prepare(ids: Iterable<number>): Promise<void>;
  release(): void;
  rowPtr(id: number): number;
  /** q8 dequantization scale of the row (1 for f32). */
  rowScale(id: number): number;
  /** The whole table as a matrix (the tied MLM decoder needs every row). */
  decoder(): Promise<DenseMatrix>;
}

export interface FffStore {
  readonly dtype: Dtype;
  /** Kernel address of the u32[N] node table of (layer, tree): record address or 0 when not resident. */
  table(layer: number, tree: number): number;
  /**
   * Makes the records of these nodes resident and keeps them until release(layer). The forward pass calls
   * it for the nodes its descent waits on, then once for every node on the layer's paths before it reads
   * their output vectors (records found resident during the descent are not pinned until then).
   */
  ensure(layer: number, tree: number, nodes: Iterable<number>): Promise<void>;
  release(layer: number): void;
}

export interface ModelWeights {
  scaleFactor: number;
  positions: number; // f32[maxSeqLength][H], the unscaled sinusoid table
  embeddingNorm: Norm;
  layers: LayerWeights[];
  finalNorm: Norm;
  pooler: Linear | null; // (C, H) + bias, classifiers only
  head: Linear | null; // (L, C) + bias, classifiers only
  embeddings: EmbeddingStore;
  fff: FffStore;
}
