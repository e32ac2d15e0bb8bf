/**
 * The contract between the HTTP layer (src/app.ts, src/routes, src/middleware) and inference
 * (src/service/*.ts over src/model and src/weights). Routes validate requests, call an
 * `InferenceService`, and render what it returns; they never see kernels, packages or R2.
 */

/** What GET /v1/models lists for each model. */
export interface ModelInfo {
  name: string;
  version: string;
  kind: "classifier" | "mlm" | "embedding";
  /** What requests may ask of it (src/weights/format/config.ts packageTasks). */
  tasks: Task[];
  /**
   * The tasks it answers when a request names no model: MODEL's for classify and fill-mask (and the token
   * routes), EMBED_MODEL's for embed. Empty for a model that only answers when named.
   */
  defaultFor: Task[];
  /** Labels of a classifier, in logit order; null for MLM and embedding packages. */
  labels: string[] | null;
  config: {
    hiddenSize: number;
    numLayers: number;
    numHeads: number;
    fffTrees: number;
    fffDepth: number;
    vocabSize: number;
    maxSeqLength: number;
    pooler: "avg" | "zero_index" | null;
    /** "l2": the served vectors are unit length (embedding packages that say so); null: as pooled. */
    normalize: "l2" | null;
  };
  neurons: {
    /** FFF neurons per layer (all trees). */
    perLayer: number;
    /** FFF neurons a token evaluates per layer (trees × (depth + 1)). */
    perTokenPerLayer: number;
  };
  packageBytes: number;
  dtype: "q8" | "f32";
  /** The kernel build this isolate runs (src/kernel/build.ts); absent where not known. */
  kernel?: "simd128" | "relaxed-simd";
}

// What a task returns is defined with the tasks, in the model room.
export type {
  ClassifyResult,
  EmbedResult,
  FillMaskCandidate,
  FillMaskResult,
  LabelScore,
  Phase,
  PhaseTimer,
  TokenExplanation,
  TokenizeResult,
  Usage,
} from "../model/tasks.ts";
import type { ClassifyResult, EmbedResult, FillMaskResult, PhaseTimer, TokenizeResult, Usage } from "../model/tasks.ts";

export type { Task } from "../weights/format/config.ts";
import type { Task } from "../weights/format/config.ts";

export interface ServiceOptions {
  /** Model name; when absent, the default model of the task (wrangler vars MODEL, EMBED_MODEL). */
  model?: string;
  timer?: PhaseTimer;
}

/** Memory this isolate holds for its loaded models (GET /healthz?verbose=1); nothing is loaded to answer it. */
export interface MemoryReport {
  /** Each loaded model: its kernel (wasm) memory and its block cache, whose budget is CACHE_MB. */
  models: { id: string; wasmBytes: number; cache: { budgetBytes: number; usedBytes: number; entries: number; evictions: number; loadsInFlight: number } }[];
  /** Sums over the models; `wasmBytes` already holds each cache's whole budget (its region is allocated in kernel memory when the model loads). */
  totals: { wasmBytes: number; cacheBudgetBytes: number; cacheUsedBytes: number };
}

export interface InferenceService {
  listModels(): Promise<ModelInfo[]>;
  memory(): MemoryReport;
  classify(texts: string[], options: ServiceOptions & { topK?: number; explain?: boolean }): Promise<{ model: ModelInfo; results: ClassifyResult[]; usage: Usage }>;
  /** A text may be token ids of the model's vocabulary (OpenAI's token-array input). */
  embed(texts: (string | number[])[], options: ServiceOptions): Promise<{ model: ModelInfo; results: EmbedResult[]; usage: Usage }>;
  /** What a model is (its manifest), without loading its weights: the default model (MODEL) when `model` is absent. */
  modelInfo(model?: string): Promise<ModelInfo>;
  /** The tokens of each text as the model sees them; loads the model (its tokenizer) but runs nothing. */
  tokenize(texts: string[], options: ServiceOptions): Promise<{ model: ModelInfo; results: TokenizeResult[] }>;
  fillMask(texts: string[], options: ServiceOptions & { topK?: number }): Promise<{ model: ModelInfo; results: FillMaskResult[]; usage: Usage }>;
}
