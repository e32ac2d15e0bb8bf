/**
 * The contract between the HTTP layer (src/app.ts, src/routes, src/middleware) and inference
 * (src/service/*.ts over src/model and src/weights). Routes validate requests, call an
 * `InferenceService`, and render what it returns; they never see kernels, packages or R2.
 */

/** What GET /v1/models lists for each model. */
export interface ModelInfo {
  name: string;
  version: string;
  kind: "classifier" | "mlm";
  /** Labels of a classifier, in logit order; null for MLM packages. */
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
  };
  neurons: {
    /** FFF neurons per layer (all trees). */
    perLayer: number;
    /** FFF neurons a token evaluates per layer (trees × (depth + 1)). */
    perTokenPerLayer: number;
  };
  packageBytes: number;
  dtype: "q8" | "f32";
}

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

/** Spans reported in the Server-Timing header. The service calls these around its phases. */
export interface PhaseTimer {
  start(phase: "tokenize" | "fetch" | "compute"): void;
  end(phase: "tokenize" | "fetch" | "compute"): void;
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
  tokens: number;
  truncated: boolean;
  explain?: {
    tokens: TokenExplanation[];
    /** Fraction of each layer's FFF neurons this text evaluated (union over its tokens). */
    neuronFractionPerLayer: number[];
  };
}

export interface EmbedResult {
  /** Pooled sentence vector (the model's pooler: avg over real tokens, or the first token). */
  vector: number[];
  tokens: number;
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

export interface ServiceOptions {
  /** Model name; the default model (wrangler var MODEL) when absent. */
  model?: string;
  timer?: PhaseTimer;
}

export interface InferenceService {
  listModels(): Promise<ModelInfo[]>;
  classify(texts: string[], options: ServiceOptions & { topK?: number; explain?: boolean }): Promise<{ model: ModelInfo; results: ClassifyResult[]; usage: Usage }>;
  embed(texts: string[], options: ServiceOptions): Promise<{ model: ModelInfo; results: EmbedResult[]; usage: Usage }>;
  fillMask(texts: string[], options: ServiceOptions & { topK?: number }): Promise<{ model: ModelInfo; results: FillMaskResult[]; usage: Usage }>;
}
