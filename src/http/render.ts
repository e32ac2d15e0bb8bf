/** Service results (camelCase, src/service/types.ts) → response bodies (snake_case, ./schemas.ts). */
import type { ClassifyResult, EmbedResult, FillMaskResult, ModelInfo, Usage } from "../service/types.ts";
import type { ClassifyResponseBody, EmbedResponseBody, FillMaskResponseBody, ModelsResponseBody, UsageBody } from "./schemas.ts";

type ModelBody = ModelsResponseBody["models"][number];

export const renderModelRef = (m: ModelInfo) => ({ name: m.name, version: m.version });

export const renderUsage = (u: Usage): UsageBody => ({
  tokens: u.tokens,
  neurons_used: u.neuronsUsed,
  neurons_available: u.neuronsAvailable,
  r2_reads: u.r2Reads,
  bytes_fetched: u.bytesFetched,
  cache_hits: u.cacheHits,
  ...(u.cacheApiHits === undefined ? {} : { cache_api_hits: u.cacheApiHits }),
});

export const renderModel = (m: ModelInfo): ModelBody => ({
  name: m.name,
  version: m.version,
  kind: m.kind,
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

export const renderClassify = (o: { model: ModelInfo; results: ClassifyResult[]; usage: Usage }): ClassifyResponseBody => ({
  model: renderModelRef(o.model),
  results: o.results.map(renderClassifyResult),
  usage: renderUsage(o.usage),
});

export const renderEmbed = (o: { model: ModelInfo; results: EmbedResult[]; usage: Usage }): EmbedResponseBody => ({
  model: renderModelRef(o.model),
  results: o.results.map((r) => ({ vector: r.vector, tokens: r.tokens, truncated: r.truncated })),
  usage: renderUsage(o.usage),
});

export const renderFillMask = (o: { model: ModelInfo; results: FillMaskResult[]; usage: Usage }): FillMaskResponseBody => ({
  model: renderModelRef(o.model),
  results: o.results.map((r) => ({
    masks: r.masks.map((m) => ({ position: m.position, candidates: m.candidates.map((k) => ({ token: k.token, id: k.id, score: k.score })) })),
    tokens: r.tokens,
    truncated: r.truncated,
  })),
  usage: renderUsage(o.usage),
});
