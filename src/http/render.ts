/** Service results (camelCase, src/service/types.ts) → response bodies (snake_case, ./schemas.ts). */
import type { ClassifyResult, EmbedResult, FillMaskResult, ModelInfo, Phase, Usage } from "../service/types.ts";
import type { ClassifyResponseBody, EmbedResponseBody, FillMaskResponseBody, ModelsResponseBody, UsageBody } from "./schemas.ts";

type ModelBody = ModelsResponseBody["models"][number];

export const renderModelRef = (m: ModelInfo) => ({ name: m.name, version: m.version });

/** Phase times of a request; the map holds only the phases it entered (load only when it paid for one). */
export type PhaseTotals = ReadonlyMap<Phase, number>;

export const renderUsage = (u: Usage, phases?: PhaseTotals): UsageBody => ({
  tokens: u.tokens,
  neurons_used: u.neuronsUsed,
  neurons_available: u.neuronsAvailable,
  r2_reads: u.r2Reads,
  bytes_fetched: u.bytesFetched,
  cache_hits: u.cacheHits,
  ...(u.cacheApiHits === undefined ? {} : { cache_api_hits: u.cacheApiHits }),
  ...(phases ? { phases_ms: Object.fromEntries([...phases].map(([p, ms]) => [p, Math.round(ms * 1000) / 1000])) } : {}),
});

export const renderModel = (m: ModelInfo): ModelBody => ({
  name: m.name,
  version: m.version,
  kind: m.kind,
  tasks: m.tasks,
  default_for: m.defaultFor,
  labels: m.labels,
  config: {
    hidden_size: m.config.hiddenSize,
    num_layers: m.config.numLayers,
    num_heads: m.config.numHeads,
    fff_trees: m.config.fffTrees,
    fff_depth: m.config.fffDepth,
    vocab_size: m.config.vocabSize,
    max_seq_length: m.config.maxSeqLength,
    pooler: m.config.pooler,
    normalize: m.config.normalize,
  },
  neurons: { per_layer: m.neurons.perLayer, per_token_per_layer: m.neurons.perTokenPerLayer },
  package_bytes: m.packageBytes,
  dtype: m.dtype,
  ...(m.kernel ? { kernel: m.kernel } : {}),
});

function renderClassifyResult(r: ClassifyResult): ClassifyResponseBody["results"][number] {
  const out: ClassifyResponseBody["results"][number] = {
    label: r.label,
    score: r.score,
    scores: r.scores.map((s) => ({ label: s.label, score: s.score })),
    tokens: r.tokens,
    truncated: r.truncated,
  };
  if (r.explain) {
    out.explain = {
      tokens: r.explain.tokens.map((t) => ({ token: t.token, paths: t.paths })),
      neuron_fraction_per_layer: r.explain.neuronFractionPerLayer,
    };
  }
  return out;
}

export const renderClassify = (o: { model: ModelInfo; results: ClassifyResult[]; usage: Usage }, phases?: PhaseTotals): ClassifyResponseBody => ({
  model: renderModelRef(o.model),
  results: o.results.map(renderClassifyResult),
  usage: renderUsage(o.usage, phases),
});

export const renderEmbed = (o: { model: ModelInfo; results: EmbedResult[]; usage: Usage }, phases?: PhaseTotals): EmbedResponseBody => ({
  model: renderModelRef(o.model),
  results: o.results.map((r) => ({ vector: r.vector, tokens: r.tokens, truncated: r.truncated })),
  usage: renderUsage(o.usage, phases),
});

export const renderFillMask = (o: { model: ModelInfo; results: FillMaskResult[]; usage: Usage }, phases?: PhaseTotals): FillMaskResponseBody => ({
  model: renderModelRef(o.model),
  results: o.results.map((r) => ({
    masks: r.masks.map((m) => ({ position: m.position, candidates: m.candidates.map((k) => ({ token: k.token, id: k.id, score: k.score })) })),
    tokens: r.tokens,
    truncated: r.truncated,
  })),
  usage: renderUsage(o.usage, phases),
});

/** `v` scaled to unit length (L2); a zero vector stays zero. */
export function unitLength(v: readonly number[]): number[] {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  return n === 0 ? [...v] : v.map((x) => x / n);
}

/** The values as little-endian float32, base64 (OpenAI's `encoding_format: "base64"`). */
export function float32Base64(v: readonly number[]): string {
  const bytes = new Uint8Array(v.length * 4);
  const view = new DataView(bytes.buffer);
  v.forEach((x, i) => view.setFloat32(4 * i, x, true));
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Label scores by a function of the logits (softmax over labels, sigmoid per label, or the logits), highest first. */
export function labelScores(labels: readonly string[], logits: readonly number[], fn: "softmax" | "sigmoid" | "none", topK?: number | null): { label: string; score: number }[] {
  let scores: number[];
  if (fn === "sigmoid") scores = logits.map((x) => 1 / (1 + Math.exp(-x)));
  else if (fn === "none") scores = [...logits];
  else {
    const max = Math.max(...logits);
    const e = logits.map((x) => Math.exp(x - max));
    const sum = e.reduce((a, b) => a + b, 0);
    scores = e.map((x) => x / sum);
  }
  const out = labels.map((label, i) => ({ label, score: scores[i] })).sort((a, b) => b.score - a.score);
  return topK ? out.slice(0, topK) : out;
}
