/**
 * The InferenceService of the Worker: tokenize → run the engine (which streams the weights it needs) →
 * turn logits into answers, with per-request usage (reads, bytes, cache hits, neurons) and phase timing.
 */
import { UfbError } from "../errors.ts";
import { fffNodesPerTree } from "../weights/format/config.ts";
import type { RunRequest, RunResult, Sequence } from "../model/engine.ts";
import type { TokenizedText } from "../model/tokenizer.ts";
import type { LoadedModel, ModelRegistry } from "./registry.ts";
import {
  type ClassifyResult,
  type EmbedResult,
  type FillMaskResult,
  type InferenceService,
  type ModelInfo,
  type PhaseTimer,
  type ServiceOptions,
  type Usage,
} from "./types.ts";

export class WorkerInferenceService implements InferenceService {
  private readonly registry: ModelRegistry;

  constructor(registry: ModelRegistry) {
    this.registry = registry;
  }

  listModels(): Promise<ModelInfo[]> {
    return this.registry.list();
  }

  async classify(texts: string[], options: ServiceOptions & { topK?: number; explain?: boolean }) {
    const model = await this.registry.model(options.model);
    if (model.info.kind !== "classifier") {
      throw new UfbError("unsupported_task", `model "${model.info.name}" is a masked-language model without a classification head; use /v1/fill-mask or /v1/embed`);
    }
    const encoded = tokenize(model, texts, options.timer);
    const { result, usage } = await run(model, options.timer, { sequences: encoded.map((e) => ({ ids: e.ids })), logits: true, paths: options.explain === true });
    const labels = model.info.labels!;
    const results = encoded.map((e, b): ClassifyResult => {
      const probs = softmax(result.logits![b]);
      const scores = labels.map((label, i) => ({ label, score: probs[i] })).sort((x, y) => y.score - x.score);
      const out: ClassifyResult = {
        label: scores[0].label,
        score: scores[0].score,
        scores: options.topK === undefined ? scores : scores.slice(0, Math.min(options.topK, scores.length)),
        tokens: e.ids.length,
        truncated: e.truncated,
      };
      if (options.explain) out.explain = explain(model, e, result.paths!, b);
      return out;
    });
    return { model: model.info, results, usage };
  }

  async embed(texts: string[], options: ServiceOptions) {
    const model = await this.registry.model(options.model);
    const encoded = tokenize(model, texts, options.timer);
    const { result, usage } = await run(model, options.timer, { sequences: encoded.map((e) => ({ ids: e.ids })), pooled: true });
    const results = encoded.map((e, b): EmbedResult => ({ vector: Array.from(result.pooled![b]), tokens: e.ids.length, truncated: e.truncated }));
    return { model: model.info, results, usage };
  }

  async fillMask(texts: string[], options: ServiceOptions & { topK?: number }) {
    const model = await this.registry.model(options.model);
    if (model.info.kind !== "mlm") {
      throw new UfbError("unsupported_task", `model "${model.info.name}" is a classifier without a masked-language head; use /v1/classify`);
    }
    const mask = model.engine.tokenizer.special.mask;
    if (mask === undefined) throw new UfbError("unsupported_task", `model "${model.info.name}" has no <mask> token`);
    const encoded = tokenize(model, texts, options.timer);
    const positions: [number, number][] = [];
    encoded.forEach((e, b) => {
      const before = positions.length;
      e.ids.forEach((id, p) => id === mask && positions.push([b, p]));
      if (positions.length === before) {
        throw new UfbError("invalid_input", `texts[${b}]: no ${model.engine.tokenizer.token(mask)} token${e.truncated ? " (the text was truncated to max_seq_length)" : ""}`);
      }
    });
    const sequences: Sequence[] = encoded.map((e) => ({ ids: e.ids }));
    const { result, usage } = await run(model, options.timer, { sequences, mlmPositions: positions });
    const topK = options.topK ?? 5;
    const results: FillMaskResult[] = encoded.map((e) => ({ masks: [], tokens: e.ids.length, truncated: e.truncated }));
    positions.forEach(([b, p], i) => {
      const probs = softmax(result.mlm![i]);
      const best = topIndices(probs, topK);
      results[b].masks.push({ position: p, candidates: best.map((id) => ({ id, token: model.engine.tokenizer.token(id) ?? `[${id}]`, score: probs[id] })) });
    });
    return { model: model.info, results, usage };
  }
}

function tokenize(model: LoadedModel, texts: string[], timer?: PhaseTimer): TokenizedText[] {
  timer?.start("tokenize");
  try {
    return texts.map((t) => model.engine.tokenizer.encode(t));
  } finally {
    timer?.end("tokenize");
  }
}

/** Runs one request on the model, counting the reads and cache hits it caused. */
async function run(model: LoadedModel, timer: PhaseTimer | undefined, request: RunRequest): Promise<{ result: RunResult; usage: Usage }> {
  return model.lock.run(async () => {
    const reads = model.pkg.stats;
    const hits = model.cache.stats.hits;
    const l2 = model.pkg.pieceStats.hits;
    model.source.observer = timer && { start: () => timer.start("fetch"), end: () => timer.end("fetch") };
    model.pieces?.beginRun();
    timer?.start("compute");
    try {
      const result = await model.engine.run(request);
      const after = model.pkg.stats;
      const l2Hits = model.pkg.pieceStats.hits - l2;
      const c = model.engine.config;
      const tokens = request.sequences.reduce((n, s) => n + s.ids.length, 0);
      const perToken = c.numLayers * model.info.neurons.perTokenPerLayer;
      return {
        result,
        usage: {
          tokens,
          neuronsUsed: tokens * perToken,
          neuronsAvailable: tokens * c.numLayers * model.info.neurons.perLayer,
          r2Reads: after.reads - reads.reads,
          bytesFetched: after.bytes - reads.bytes,
          // L1 (block cache) hits plus pieces the Cache API served
          cacheHits: model.cache.stats.hits - hits + l2Hits,
          cacheApiHits: l2Hits,
        },
      };
    } finally {
      timer?.end("compute");
      model.source.observer = undefined;
      // the puts of this run finish inside it (no waitUntil here); each is bounded by the Cache API timeout
      await model.pieces?.drain();
    }
  });
}

function explain(model: LoadedModel, e: TokenizedText, paths: number[][][][][], b: number): ClassifyResult["explain"] {
  const c = model.engine.config;
  const perLayer = model.info.neurons.perLayer;
  const nodesPerTree = fffNodesPerTree(c);
  return {
    tokens: e.tokens.map((token, p) => ({ token, paths: paths.map((layer) => layer[b][p]) })),
    neuronFractionPerLayer: paths.map((layer) => {
      const used = new Set<number>();
      for (const trees of layer[b]) trees.forEach((path, t) => path.forEach((n) => used.add(t * nodesPerTree + n)));
      return used.size / perLayer;
    }),
  };
}

function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

function topIndices(values: ArrayLike<number>, k: number): number[] {
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
