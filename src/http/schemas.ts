/**
 * Zod schemas of every request and response body. They validate requests, type the handlers and generate
 * /openapi.json, so the document cannot drift from the code. Wire names are snake_case.
 */
import { z } from "@hono/zod-openapi";
import { LIMITS } from "./limits.ts";
import { PROBLEMS } from "./problem.ts";

// ---------------------------------------------------------------- requests

/** Limits checked by the handler (422) rather than the schema (400) are documented through metadata only. */
const Text = z.string().openapi({ minLength: 1, maxLength: LIMITS.maxTextChars, example: "a gripping, beautifully shot film" });

const ModelName = z
  .string()
  .regex(LIMITS.modelNamePattern, "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit")
  .openapi({ description: "Model name (see GET /v1/models); when absent, the default model of the task (`default_for` in GET /v1/models).", example: "ufb-sst2-2x9" });

const textFields = {
  text: Text.optional().openapi({ description: "One text. Exactly one of `text` and `texts` is required." }),
  texts: z
    .array(Text)
    .optional()
    .openapi({ description: `Up to ${LIMITS.maxTexts} texts, answered in order. Exactly one of \`text\` and \`texts\` is required.`, minItems: 1, maxItems: LIMITS.maxTexts }),
  model: ModelName.optional(),
};

function exactlyOneOfTextAndTexts(value: { text?: string; texts?: string[] }, ctx: z.RefinementCtx): void {
  if ((value.text === undefined) === (value.texts === undefined)) {
    ctx.addIssue({ code: "custom", path: [], message: "exactly one of `text` (a string) or `texts` (an array of strings) is required" });
  }
}

export const ClassifyRequest = z
  .strictObject({
    ...textFields,
    top_k: z.int().min(1).optional().openapi({ description: "Number of entries in `scores`, highest first; default and values above the label count: all labels.", example: 2 }),
    explain: z.boolean().optional().openapi({ description: "Add, per token and layer, the FFF node paths and the fraction of neurons used. Default false.", example: false }),
  })
  .superRefine(exactlyOneOfTextAndTexts)
  .openapi("ClassifyRequest", { example: { text: "a gripping, beautifully shot film", top_k: 2 } });

export const EmbedRequest = z
  .strictObject(textFields)
  .superRefine(exactlyOneOfTextAndTexts)
  .openapi("EmbedRequest", { example: { texts: ["the cat sat on the mat", "a cat was sitting on a mat"] } });

export const FillMaskRequest = z
  .strictObject({
    ...textFields,
    top_k: z
      .int()
      .min(1)
      .max(LIMITS.fillMaskTopKMax)
      .optional()
      .openapi({ description: `Candidates per mask, highest first. Default ${LIMITS.fillMaskTopKDefault}.`, example: 5 }),
  })
  .superRefine(exactlyOneOfTextAndTexts)
  .openapi("FillMaskRequest", { example: { text: "paris is the <mask> of france.", model: "ufb-1x11-long" } });

// ---------------------------------------------------------------- shared response parts

const Count = z.int().min(0);

export const ModelRef = z
  .object({ name: z.string(), version: z.string() })
  .openapi("ModelRef", { description: "The model that answered.", example: { name: "ufb-sst2-2x9", version: "1" } });

export const Usage = z
  .object({
    tokens: Count.openapi({ description: "Tokens encoded, special tokens included, over all texts." }),
    neurons_used: Count.openapi({ description: "FFF neurons evaluated (tokens × layers × trees × (depth + 1))." }),
    neurons_available: Count.openapi({ description: "FFF neurons a dense feed-forward would have evaluated (tokens × layers × neurons per layer)." }),
    r2_reads: Count.openapi({ description: "Ranged reads from R2." }),
    bytes_fetched: Count.openapi({ description: "Bytes read from R2." }),
    cache_hits: Count.openapi({ description: "Weight blocks served from the isolate or Cache API instead of R2." }),
    cache_api_hits: Count.optional().openapi({ description: "Of cache_hits, the pieces the Cache API (second level) served." }),
    phases_ms: z
      .object({
        load: z.number().min(0).optional().openapi({ description: "Opening the model (package open, R2 reads, cache fill); only on the request that paid for it, or waited for it." }),
        tokenize: z.number().min(0).optional(),
        fetch: z.number().min(0).optional().openapi({ description: "Weight reads during the run (R2 and Cache API)." }),
        compute: z.number().min(0).optional().openapi({ description: "The run without its fetches." }),
      })
      .optional()
      .openapi({ description: "Wall time per phase in ms, as in Server-Timing; phases never overlap. In production Workers clocks advance only on I/O, so CPU-only phases read about 0." }),
  })
  .openapi("Usage");

const Truncation = {
  tokens: Count.openapi({ description: "Tokens of this text after truncation, special tokens included." }),
  truncated: z.boolean().openapi({ description: "The text had more tokens than the model's max_seq_length and was cut." }),
};

// ---------------------------------------------------------------- classify

export const LabelScore = z.object({ label: z.string(), score: z.number() }).openapi("LabelScore");

export const TokenExplanation = z
  .object({
    token: z.string(),
    paths: z.array(z.array(z.array(Count))).openapi({ description: "paths[layer][tree]: visited FFF node indices, root first (local to the tree)." }),
  })
  .openapi("TokenExplanation");

export const ClassifyResult = z
  .object({
    label: z.string().openapi({ description: "The most probable label." }),
    score: z.number().openapi({ description: "Its probability." }),
    scores: z.array(LabelScore).openapi({ description: "Label probabilities (softmax), highest first; `top_k` entries when asked." }),
    ...Truncation,
    explain: z
      .object({
        tokens: z.array(TokenExplanation),
        neuron_fraction_per_layer: z.array(z.number().min(0).max(1)).openapi({ description: "Per layer, the fraction of FFF neurons this text evaluated (union over its tokens)." }),
      })
      .optional()
      .openapi({ description: "Present when the request had `explain: true`." }),
  })
  .openapi("ClassifyResult");

export const ClassifyResponse = z.object({ model: ModelRef, results: z.array(ClassifyResult), usage: Usage }).openapi("ClassifyResponse");

// ---------------------------------------------------------------- embed

export const EmbedResult = z
  .object({
    vector: z.array(z.number()).openapi({
      description: "Sentence vector, hidden_size values: unit length from an embedding model (config.normalize \"l2\" in /v1/models; the default), the pooled vector as it is from a classifier or MLM model.",
    }),
    ...Truncation,
  })
  .openapi("EmbedResult");

export const EmbedResponse = z.object({ model: ModelRef, results: z.array(EmbedResult), usage: Usage }).openapi("EmbedResponse");

// ---------------------------------------------------------------- fill-mask

export const FillMaskCandidate = z.object({ token: z.string(), id: Count, score: z.number() }).openapi("FillMaskCandidate");

export const FillMaskResult = z
  .object({
    masks: z
      .array(z.object({ position: Count.openapi({ description: "Token position of the mask." }), candidates: z.array(FillMaskCandidate) }))
      .openapi({ description: "One entry per mask token in the text, in order." }),
    ...Truncation,
  })
  .openapi("FillMaskResult");

export const FillMaskResponse = z.object({ model: ModelRef, results: z.array(FillMaskResult), usage: Usage }).openapi("FillMaskResponse");

// ---------------------------------------------------------------- models, health

const Task = z.enum(["classify", "embed", "fill-mask"]);

export const ModelInfo = z
  .object({
    name: z.string(),
    version: z.string(),
    kind: z.enum(["classifier", "mlm", "embedding"]).openapi({
      description: "classifier: label scores (and its pooled vector); mlm: fill-mask (and its pooled vector); embedding: sentence vectors trained for similarity, nothing else.",
    }),
    tasks: z.array(Task).openapi({ description: "What a request may ask of this model: classify (/v1/classify), embed (/v1/embed), fill-mask (/v1/fill-mask)." }),
    default_for: z.array(Task).openapi({
      description: "The tasks this model answers when a request names no model: the Worker's MODEL for classify and fill-mask, EMBED_MODEL for embed. Empty: answers only when named.",
    }),
    labels: z.array(z.string()).nullable().openapi({ description: "Classifier labels in logit order; null for MLM and embedding packages." }),
    config: z.object({
      hidden_size: Count,
      num_layers: Count,
      num_heads: Count,
      fff_trees: Count,
      fff_depth: Count,
      vocab_size: Count,
      max_seq_length: Count,
      pooler: z.enum(["avg", "zero_index"]).nullable(),
      normalize: z.enum(["l2"]).nullable().openapi({ description: "l2: the model's vectors are unit length (cosine = dot product); null: the pooled vector as it is." }),
    }),
    neurons: z.object({
      per_layer: Count.openapi({ description: "FFF neurons per layer (all trees)." }),
      per_token_per_layer: Count.openapi({ description: "FFF neurons a token evaluates per layer: trees × (depth + 1)." }),
    }),
    package_bytes: Count,
    dtype: z.enum(["q8", "f32"]),
    kernel: z
      .enum(["simd128", "relaxed-simd"])
      .optional()
      .openapi({ description: "The wasm kernel build this instance runs (same results bit for bit; relaxed-simd only where the engine validates relaxed SIMD)." }),
  })
  .openapi("ModelInfo");

export const ModelsResponse = z.object({ models: z.array(ModelInfo) }).openapi("ModelsResponse");

const CacheMemory = z.object({ budgetBytes: z.int(), usedBytes: z.int(), entries: z.int(), evictions: z.int(), loadsInFlight: z.int() });
export const MemoryBlock = z
  .object({
    models: z.array(z.object({ id: z.string(), wasmBytes: z.int(), cache: CacheMemory })),
    totals: z.object({ wasmBytes: z.int(), cacheBudgetBytes: z.int(), cacheUsedBytes: z.int() }),
    isolateLimitBytes: z.int().openapi({ description: "A deployed isolate's memory limit (128 MB), to compare wasmBytes with." }),
  })
  .openapi("MemoryBlock", { description: "Kernel (wasm) memory and block caches of the models this isolate holds; nothing is loaded to answer." });
export const HealthResponse = z
  .object({ status: z.literal("ok"), memory: MemoryBlock.optional().openapi({ description: "Only with ?verbose=1." }) })
  .openapi("HealthResponse", { example: { status: "ok" } });

// ---------------------------------------------------------------- errors

export const Problem = z
  .object({
    type: z.string().openapi({ description: "Problem type URI (a tag URI per code).", example: "tag:ultrafastbert-edge,2026:problem/empty_text" }),
    title: z.string(),
    status: z.int(),
    detail: z.string().openapi({ description: "What went wrong, naming the field and the expectation." }),
    code: z.enum(Object.keys(PROBLEMS) as [keyof typeof PROBLEMS, ...(keyof typeof PROBLEMS)[]]).openapi({ description: "Stable machine-readable code." }),
    request_id: z.string().openapi({ description: "Same as the X-Request-Id response header." }),
    errors: z
      .array(z.object({ pointer: z.string().openapi({ description: "JSON Pointer (URI fragment) into the request body.", example: "#/texts/3" }), detail: z.string() }))
      .optional()
      .openapi({ description: "Field-level errors (400 invalid_request, 422)." }),
  })
  .openapi("Problem", {
    description: "RFC 9457 problem details, sent as application/problem+json.",
    example: {
      type: "tag:ultrafastbert-edge,2026:problem/empty_text",
      title: "Empty text",
      status: 422,
      detail: "texts[1] is empty or only whitespace; every text must contain non-whitespace characters.",
      code: "empty_text",
      request_id: "6f1c2a8e-2f1d-4a57-9c43-0c1f8d7e2b10",
      errors: [{ pointer: "#/texts/1", detail: "texts[1] is empty or only whitespace" }],
    },
  });

export type ClassifyResponseBody = z.infer<typeof ClassifyResponse>;
export type EmbedResponseBody = z.infer<typeof EmbedResponse>;
export type FillMaskResponseBody = z.infer<typeof FillMaskResponse>;
export type ModelsResponseBody = z.infer<typeof ModelsResponse>;
export type UsageBody = z.infer<typeof Usage>;
