/**
 * A deterministic InferenceService for the HTTP tests: fixed models, scores derived from the text,
 * every call recorded, and a switch to throw any UfbError code (or a plain Error).
 */
import { UfbError, type ErrorCode } from "../../src/errors.ts";
import {
  type ClassifyResult,
  type EmbedResult,
  type FillMaskResult,
  type InferenceService,
  type MemoryReport,
  type ModelInfo,
  type ServiceOptions,
  type Usage,
} from "../../src/service/types.ts";

export const CLASSIFIER: ModelInfo = {
  name: "sst2-tiny",
  version: "3",
  kind: "classifier",
  tasks: ["classify", "embed"],
  defaultFor: ["classify", "fill-mask"],
  labels: ["negative", "neutral", "positive"],
  config: { hiddenSize: 8, numLayers: 2, numHeads: 2, fffTrees: 1, fffDepth: 2, vocabSize: 100, maxSeqLength: 8, pooler: "avg", normalize: null },
  neurons: { perLayer: 7, perTokenPerLayer: 3 },
  packageBytes: 12345,
  dtype: "q8",
};

export const MLM: ModelInfo = {
  name: "ufb-1x11-long",
  version: "1",
  kind: "mlm",
  tasks: ["embed", "fill-mask"],
  defaultFor: [],
  labels: null,
  config: { hiddenSize: 8, numLayers: 2, numHeads: 2, fffTrees: 1, fffDepth: 2, vocabSize: 100, maxSeqLength: 8, pooler: null, normalize: null },
  neurons: { perLayer: 7, perTokenPerLayer: 3 },
  packageBytes: 6789,
  dtype: "f32",
};

/** The embed default (EMBED_MODEL): a different width than the classifier, so a test sees which one answered. */
export const EMBEDDER: ModelInfo = {
  name: "ufb-embed-tiny",
  version: "2",
  kind: "embedding",
  tasks: ["embed"],
  defaultFor: ["embed"],
  labels: null,
  config: { hiddenSize: 6, numLayers: 2, numHeads: 2, fffTrees: 1, fffDepth: 2, vocabSize: 100, maxSeqLength: 8, pooler: "avg", normalize: "l2" },
  neurons: { perLayer: 7, perTokenPerLayer: 3 },
  packageBytes: 5678,
  dtype: "q8",
};

export interface Call {
  method: "listModels" | "classify" | "embed" | "fillMask" | "modelInfo" | "tokenize";
  texts?: (string | number[])[];
  options?: ServiceOptions & { topK?: number; explain?: boolean };
}

/** Whitespace tokens, capped at maxSeqLength minus the two special tokens. */
function words(text: string, model: ModelInfo): { tokens: string[]; truncated: boolean } {
  const all = text.trim().split(/\s+/);
  const max = model.config.maxSeqLength - 2;
  return { tokens: all.slice(0, max), truncated: all.length > max };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export class FakeService implements InferenceService {
  readonly calls: Call[] = [];
  models: ModelInfo[] = [CLASSIFIER, MLM, EMBEDDER];
  /** When set, every method throws this (a UfbError code, or "crash" for a plain Error). */
  fail: ErrorCode | "crash" | null = null;
  /** Return one result fewer than texts (a service bug the HTTP layer must catch). */
  dropOneResult = false;

  #throwIfFailing(): void {
    if (this.fail === "crash") throw new Error("kernel exploded at 0xdeadbeef");
    if (this.fail) throw new UfbError(this.fail, `fake ${this.fail}`, { cause: new Error("underlying cause") });
  }

  #model(name: string | undefined, fallback: ModelInfo): ModelInfo {
    if (name === undefined) return fallback;
    const m = this.models.find((x) => x.name === name);
    if (!m) throw new UfbError("model_not_found", `no model named "${name}"; available: ${this.models.map((x) => x.name).join(", ")}`);
    return m;
  }

  #usage(model: ModelInfo, tokens: number): Usage {
    const layers = model.config.numLayers;
    return { tokens, neuronsUsed: tokens * layers * model.neurons.perTokenPerLayer, neuronsAvailable: tokens * layers * model.neurons.perLayer, r2Reads: 2, bytesFetched: 4096, cacheHits: 5 };
  }

  #phases(options: ServiceOptions): void {
    const t = options.timer;
    t?.start("tokenize");
    t?.end("tokenize");
    // fetch entered twice (as between layers), compute once around both
    t?.start("compute");
    t?.start("fetch");
    t?.end("fetch");
    t?.start("fetch");
    t?.end("fetch");
    t?.end("compute");
  }

  /** What memory() reports (a test sets it). */
  memoryReport: MemoryReport = { models: [], totals: { wasmBytes: 0, cacheBudgetBytes: 0, cacheUsedBytes: 0 } };

  memory(): MemoryReport {
    this.#throwIfFailing();
    return this.memoryReport;
  }

  async listModels(): Promise<ModelInfo[]> {
    this.calls.push({ method: "listModels" });
    this.#throwIfFailing();
    return this.models;
  }

  async classify(texts: string[], options: ServiceOptions & { topK?: number; explain?: boolean }) {
    this.calls.push({ method: "classify", texts, options });
    this.#throwIfFailing();
    const model = this.#model(options.model, CLASSIFIER);
    if (model.kind !== "classifier") throw new UfbError("unsupported_task", `model "${model.name}" is an ${model.kind} package; classify needs a classifier`);
    this.#phases(options);
    const labels = model.labels as string[];
    let total = 0;
    const results: ClassifyResult[] = texts.map((text) => {
      const { tokens, truncated } = words(text, model);
      const n = tokens.length + 2;
      total += n;
      const raw = labels.map((_, i) => 1 + ((hash(text + i) % 1000) / 1000));
      const sum = raw.reduce((a, b) => a + b, 0);
      const scores = labels.map((label, i) => ({ label, score: raw[i] / sum })).sort((a, b) => b.score - a.score);
      // logits whose softmax is raw / sum
      const logits = raw.map((x) => Math.log(x));
      const r: ClassifyResult = { label: scores[0].label, score: scores[0].score, scores: scores.slice(0, options.topK ?? scores.length), logits, tokens: n, truncated };
      if (options.explain) {
        const toks = ["[CLS]", ...tokens, "[SEP]"];
        r.explain = {
          tokens: toks.map((token, t) => ({ token, paths: Array.from({ length: model.config.numLayers }, (_, l) => [[0, 1 + ((t + l) % 2), 3 + ((t + l) % 4)]]) })),
          neuronFractionPerLayer: Array.from({ length: model.config.numLayers }, () => Math.min(1, (3 * toks.length) / model.neurons.perLayer)),
        };
      }
      return r;
    });
    if (this.dropOneResult) results.pop();
    return { model, results, usage: this.#usage(model, total) };
  }

  async modelInfo(name?: string): Promise<ModelInfo> {
    this.calls.push({ method: "modelInfo", options: { model: name } });
    this.#throwIfFailing();
    return this.#model(name, CLASSIFIER);
  }

  async tokenize(texts: string[], options: ServiceOptions) {
    this.calls.push({ method: "tokenize", texts, options });
    this.#throwIfFailing();
    const model = this.#model(options.model, CLASSIFIER);
    this.#phases(options);
    const results = texts.map((text) => {
      const { tokens, truncated } = words(text, model);
      const all = ["[CLS]", ...tokens, "[SEP]"];
      return { tokens: all.map((t, p) => ({ id: p === 0 ? 1 : p === all.length - 1 ? 2 : 10 + (hash(t) % 90), text: t, special: p === 0 || p === all.length - 1 })), truncated };
    });
    return { model, results };
  }

  async embed(texts: (string | number[])[], options: ServiceOptions) {
    this.calls.push({ method: "embed", texts, options });
    this.#throwIfFailing();
    const model = this.#model(options.model, EMBEDDER);
    this.#phases(options);
    let total = 0;
    const results: EmbedResult[] = texts.map((input) => {
      const text = typeof input === "string" ? input : input.join(" ");
      const { tokens, truncated } = words(text, model);
      total += tokens.length + 2;
      const raw = Array.from({ length: model.config.hiddenSize }, (_, i) => ((hash(text + i) % 2000) - 1000) / 1000);
      const norm = model.config.normalize === "l2" ? Math.hypot(...raw) : 1;
      return { vector: raw.map((x) => x / norm), tokens: tokens.length + 2, truncated };
    });
    return { model, results, usage: this.#usage(model, total) };
  }

  async fillMask(texts: string[], options: ServiceOptions & { topK?: number }) {
    this.calls.push({ method: "fillMask", texts, options });
    this.#throwIfFailing();
    const model = this.#model(options.model, MLM);
    if (model.kind !== "mlm") throw new UfbError("unsupported_task", `model "${model.name}" is a classifier; fill-mask needs an MLM package`);
    this.#phases(options);
    let total = 0;
    const results: FillMaskResult[] = texts.map((text, i) => {
      const { tokens, truncated } = words(text, model);
      total += tokens.length + 2;
      const masks = tokens.flatMap((tok, p) => (tok === "[MASK]" ? [p + 1] : []));
      if (masks.length === 0) throw new UfbError("invalid_input", `texts[${i}] has no [MASK] token`);
      const k = options.topK ?? 5;
      return {
        masks: masks.map((position) => ({ position, candidates: Array.from({ length: k }, (_, j) => ({ token: `w${j}`, id: 10 + j, score: 1 / (j + 2) })) })),
        tokens: tokens.length + 2,
        truncated,
      };
    });
    return { model, results, usage: this.#usage(model, total) };
  }
}
