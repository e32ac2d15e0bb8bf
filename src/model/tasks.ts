/**
 * The head's last step, per task: softmax and top-k for classification (with the FFF paths a text took,
 * when asked), pooled vectors for embeddings, mask positions and candidates for fill-mask. The Engine
 * runs these on its own outputs (Engine.classify / embed / fillMask); the types are the answers the
 * service hands to the HTTP layer.
 */
import type { PackageConfig } from "../weights/format/config.ts";
import { fffNodesPerTree } from "../weights/format/config.ts";
import { UfbError } from "../errors.ts";
import type { TextTokenizer, TokenizedText } from "./tokenizer.ts";

/** Per-request accounting, returned as the response's `usage` block. */
export interface Usage {
  tokens: number;
  neuronsUsed: number;
  neuronsAvailable: number;
  r2Reads: number;
  bytesFetched: number;
  /** Pieces served from the block cache (L1) or the Cache API (L2) instead of R2. */
  cacheHits: number;
  /** Of those, pieces served by the Cache API (absent where there is none, e.g. test fakes). */
  cacheApiHits?: number;
}

/**
 * Phases of a request, reported in `usage.phases_ms` and the Server-Timing header:
 * `load` (opening a model: pointer, manifest, tokenizer, dense segment and top tier from R2, cache fill),
 * `tokenize`, `fetch` (weight reads during the run) and `compute` (the rest of the run).
 */
export type Phase = "load" | "tokenize" | "fetch" | "compute";

/**
 * The service and engine call these around their phases. Spans may nest (a fetch inside the compute of a
 * run); the timer counts each moment once, for the innermost kind (see PhaseClock), so phases never overlap.
 */
export interface PhaseTimer {
  start(phase: Phase): void;
  end(phase: Phase): void;
}

export interface LabelScore {
  label: string;
  score: number;
}

export interface TokenExplanation {
  token: string;
  /** paths[layer][tree] = visited node indices, root first (local to the tree). */
  paths: number[][][];
}

export interface ClassifyResult {
  label: string;
  score: number;
  /** Every label's probability (softmax of the logits), highest first; the first `topK` when asked. */
  scores: LabelScore[];
  /** The head's raw logits in label order (what `raw_scores` / `function_to_apply` of compatible APIs need). */
  logits: number[];
  tokens: number;
  truncated: boolean;
  explain?: {
    tokens: TokenExplanation[];
    /** Fraction of each layer's FFF neurons this text evaluated (union over its tokens). */
    neuronFractionPerLayer: number[];
  };
}

export interface EmbedResult {
  /**
   * Pooled sentence vector (the model's pooler: avg over real tokens, or the first token), L2-normalised when
   * the package says so (`normalize: "l2"`, embedding packages).
   */
  vector: number[];
  tokens: number;
  truncated: boolean;
}

export interface TokenizeResult {
  /** The tokens with the template's special tokens, after truncation. */
  tokens: { id: number; text: string; special: boolean }[];
  truncated: boolean;
}

export interface FillMaskCandidate {
  token: string;
  id: number;
  score: number;
}

export interface FillMaskResult {
  /** One entry per <mask> in the text, in order. */
  masks: { position: number; candidates: FillMaskCandidate[] }[];
  tokens: number;
  truncated: boolean;
}

/** Softmax in f64 (max subtracted first). */
/**
 * The vector divided by its L2 norm, summed in f64 and rounded to f32 like every vector the engine returns; a
 * zero vector stays zero (no direction to keep).
 */
export function l2Normalized(v: ArrayLike<number>): number[] {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  return Array.from(v, (x) => Math.fround(x * inv));
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** Indices of the k largest values, largest first (earlier index first on ties). */
export function topIndices(values: ArrayLike<number>, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (best.length < k || values[i] > values[best[best.length - 1]]) {
      let at = best.length < k ? best.length : best.length - 1;
      if (best.length < k) best.push(i);
      while (at > 0 && values[best[at - 1]] < values[i]) {
        best[at] = best[at - 1];
        at--;
      }
      best[at] = i;
    }
  }
  return best;
}

/** One text's answer from its classification logits (and, with `paths`, the FFF nodes it visited). */
export function classifyResult(
  c: PackageConfig,
  e: TokenizedText,
  logits: ArrayLike<number>,
  options: { topK?: number; paths?: number[][][][][]; sequence: number },
): ClassifyResult {
  const probs = softmax(logits);
  const scores = c.labels!.map((label, i) => ({ label, score: probs[i] })).sort((x, y) => y.score - x.score);
  const out: ClassifyResult = {
    label: scores[0].label,
    score: scores[0].score,
    scores: options.topK === undefined ? scores : scores.slice(0, Math.min(options.topK, scores.length)),
    logits: Array.from(logits),
    tokens: e.ids.length,
    truncated: e.truncated,
  };
  if (options.paths) out.explain = explain(c, e, options.paths, options.sequence);
  return out;
}

/** The nodes each token of sequence `b` visited, and the fraction of each layer's neurons the text used. */
function explain(c: PackageConfig, e: TokenizedText, paths: number[][][][][], b: number): ClassifyResult["explain"] {
  const nodesPerTree = fffNodesPerTree(c);
  const perLayer = c.fffTrees * nodesPerTree;
  return {
    tokens: e.tokens.map((token, p) => ({ token, paths: paths.map((layer) => layer[b][p]) })),
    neuronFractionPerLayer: paths.map((layer) => {
      const used = new Set<number>();
      for (const trees of layer[b]) trees.forEach((path, t) => path.forEach((n) => used.add(t * nodesPerTree + n)));
      return used.size / perLayer;
    }),
  };
}

/** [sequence, position] of every mask token; a text without one is the client's error. */
export function maskPositions(tokenizer: TextTokenizer, encoded: TokenizedText[], model: string): [number, number][] {
  const mask = tokenizer.special.mask;
  if (mask === undefined) throw new UfbError("unsupported_task", `model "${model}" has no <mask> token`);
  const positions: [number, number][] = [];
  encoded.forEach((e, b) => {
    const before = positions.length;
    e.ids.forEach((id, p) => id === mask && positions.push([b, p]));
    if (positions.length === before) {
      throw new UfbError("invalid_input", `texts[${b}]: no ${tokenizer.token(mask)} token${e.truncated ? " (the text was truncated to max_seq_length)" : ""}`);
    }
  });
  return positions;
}

/** Each text's masks with their `topK` candidates, from the MLM logits at `positions`. */
export function fillMaskResults(tokenizer: TextTokenizer, encoded: TokenizedText[], positions: [number, number][], mlm: ArrayLike<number>[], topK = 5): FillMaskResult[] {
  const results: FillMaskResult[] = encoded.map((e) => ({ masks: [], tokens: e.ids.length, truncated: e.truncated }));
  positions.forEach(([b, p], i) => {
    const probs = softmax(mlm[i]);
    const best = topIndices(probs, topK);
    results[b].masks.push({ position: p, candidates: best.map((id) => ({ id, token: tokenizer.token(id) ?? `[${id}]`, score: probs[id] })) });
  });
  return results;
}
