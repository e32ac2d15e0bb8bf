/**
 * The model config a package carries (manifest.json `config`) and the FFF sizes derived from it, written
 * once: a tree has levels = D + 1 levels (nodes a token visits) and N = 2^levels − 1 nodes.
 */
import { z } from "zod";
import { MAX_FFF_LEVELS, nodesInTree } from "./spec.ts";

const pos = z.int().min(1);

export const PackageConfigSchema = z.strictObject({
  hiddenSize: pos,
  numLayers: pos,
  numHeads: pos,
  headDim: pos,
  /** K: parallel trees per FFF layer (arch.intermed_size). */
  fffTrees: pos,
  /** D: branching decisions per tree (arch.intermed_depth); levels = D + 1, nodes = 2^(D+1) − 1. */
  fffDepth: z.int().min(0).max(MAX_FFF_LEVELS - 1),
  vocabSize: pos,
  maxSeqLength: pos,
  normEps: z.number().positive(),
  kind: z.enum(["mlm", "classifier"]),
  pooler: z.enum(["avg", "zero_index"]).nullable(),
  /** Classifiers: rows of pooler.dense.weight. */
  classifierDim: pos.nullable(),
  /** Classifiers: rows of head.weight. */
  numLabels: pos.nullable(),
  labels: z.array(z.string()).nullable(),
  /**
   * Classifiers that also fill masks: the MLM decoder is the word embedding (tied, no bias), so it costs no
   * bytes. Absent in packages written before it existed.
   */
  mlmDecoder: z.literal("tied").optional(),
});
export type PackageConfig = z.infer<typeof PackageConfigSchema>;

/** Whether the package can fill masks: every MLM package, and classifiers that kept their tied decoder. */
export const hasMlmDecoder = (c: Pick<PackageConfig, "kind" | "mlmDecoder">): boolean => c.kind === "mlm" || c.mlmDecoder === "tied";

/** Levels of a tree = nodes a token visits per tree (D + 1). */
export const fffLevels = (c: Pick<PackageConfig, "fffDepth">): number => c.fffDepth + 1;
/** Nodes per tree, 2^(D+1) − 1. */
export const fffNodesPerTree = (c: Pick<PackageConfig, "fffDepth">): number => nodesInTree(fffLevels(c));
