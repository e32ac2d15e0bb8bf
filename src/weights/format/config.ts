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
  /**
   * What the package's output is: logits over labels (classifier), token distributions at masks (mlm), or one
   * sentence vector per text (embedding: the pooler's vector is the answer; no head, and no fill-mask, since
   * contrastive training leaves the tied decoder meaningless).
   */
  kind: z.enum(["mlm", "classifier", "embedding"]),
  pooler: z.enum(["avg", "zero_index"]).nullable(),
  /**
   * Embedding packages: "l2" when the model was trained on cosine similarity of L2-normalised vectors, so the
   * served vector is normalised too (a dot product is then the cosine). Absent: the pooled vector as it is.
   */
  normalize: z.literal("l2").optional(),
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

/** What a request may ask of a package, in the order the API lists them. */
export type Task = "classify" | "embed" | "fill-mask";

/** The tasks a package can do: every package pools a sentence vector; a head or decoder adds its task. */
export function packageTasks(c: Pick<PackageConfig, "kind" | "mlmDecoder">): Task[] {
  return [...(c.kind === "classifier" ? (["classify"] as const) : []), "embed", ...(hasMlmDecoder(c) ? (["fill-mask"] as const) : [])];
}

/** Levels of a tree = nodes a token visits per tree (D + 1). */
export const fffLevels = (c: Pick<PackageConfig, "fffDepth">): number => c.fffDepth + 1;
/** Nodes per tree, 2^(D+1) − 1. */
export const fffNodesPerTree = (c: Pick<PackageConfig, "fffDepth">): number => nodesInTree(fffLevels(c));
