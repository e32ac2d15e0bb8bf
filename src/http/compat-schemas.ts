/**
 * Request and response bodies of the compatible routes (docs/api.md "Compatible APIs"): Hugging Face
 * Inference text-classification, Text Embeddings Inference, OpenAI embeddings and Workers AI text
 * classification. Field names are theirs. Fields their reference API accepts that we do not implement are
 * declared (so they are accepted) and described as ignored; anything else is an unknown field (422).
 * Empty, too many and too long texts are checked by the handler (checkTexts), like on the native routes.
 */
import { z } from "@hono/zod-openapi";
import { LIMITS } from "./limits.ts";

const ignored = (what: string) => ({ description: `Accepted and ignored: ${what}` });

const Text = z.string().openapi({ maxLength: LIMITS.maxTextChars, example: "a gripping, beautifully shot film" });
const Texts = z.array(z.string()).openapi({ minItems: 1, maxItems: LIMITS.maxTexts });

export const ModelParam = z
  .string()
  .regex(LIMITS.modelNamePattern, "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit")
  .openapi({ param: { name: "model", in: "path" }, description: "A model of this Worker (GET /v1/models), or `default` for the Worker's default model.", example: "default" });

export const LabelScoreCompat = z.object({ label: z.string(), score: z.number() }).openapi("CompatLabelScore");

// ---------------------------------------------------------------- Hugging Face Inference

export const HfClassifyRequest = z
  .strictObject({
    inputs: z.union([Text, Texts]).openapi({ description: "One text, or up to 32." }),
    parameters: z
      .strictObject({
        top_k: z.int().min(1).nullable().optional().openapi({ description: "Labels per text, highest first; default all." }),
        function_to_apply: z
          .enum(["softmax", "sigmoid", "none"])
          .nullable()
          .optional()
          .openapi({ description: "softmax (default): probabilities over the labels; sigmoid: each logit on its own; none: the raw logits." }),
      })
      .nullable()
      .optional(),
    options: z
      .strictObject({ use_cache: z.boolean().optional().openapi(ignored("answers are never cached.")), wait_for_model: z.boolean().optional().openapi(ignored("a request always waits for its model.")) })
      .optional()
      .openapi(ignored("the Inference API's request options.")),
  })
  .openapi("HfClassifyRequest", { example: { inputs: "a gripping, beautifully shot film", parameters: { top_k: 2 } } });

export const HfClassifyResponse = z
  .array(z.array(LabelScoreCompat))
  .openapi("HfClassifyResponse", { description: "One list per text (also for a single string, as the Inference API answers), labels by score, highest first." });

// ---------------------------------------------------------------- Text Embeddings Inference

const TruncationDirection = z
  .enum(["Right", "right"])
  .nullable()
  .optional()
  .openapi({ description: "Only Right (the end of the text is cut) is implemented; Left is refused (422)." });

export const TeiEmbedRequest = z
  .strictObject({
    inputs: z.union([Text, Texts]),
    normalize: z.boolean().optional().openapi({ description: "Unit length (L2); default true, as in TEI." }),
    truncate: z.boolean().nullable().optional().openapi({ description: "Cut texts longer than the model's max_seq_length; default false: such a text is a 413." }),
    truncation_direction: TruncationDirection,
    dimensions: z.int().min(1).nullable().optional().openapi({ description: "Keep the first n values (then normalize when asked)." }),
    prompt_name: z.string().nullable().optional().openapi(ignored("the models here have no prompts.")),
  })
  .openapi("TeiEmbedRequest", { example: { inputs: ["the cat sat on the mat"], normalize: true } });

export const TeiEmbedResponse = z.array(z.array(z.number())).openapi("TeiEmbedResponse");

export const TeiPredictRequest = z
  .strictObject({
    inputs: z
      .union([Text, z.array(z.string()), z.array(z.array(z.string()))])
      .openapi({ description: "A string; or [string] (one text); or a batch [[string], [string], …]. Pairs ([a, b]) are refused: the classifiers here take one text." }),
    raw_scores: z.boolean().optional().openapi({ description: "Raw logits instead of probabilities; default false." }),
    truncate: z.boolean().nullable().optional().openapi({ description: "As for /embed; default false." }),
    truncation_direction: TruncationDirection,
  })
  .openapi("TeiPredictRequest", { example: { inputs: "a gripping, beautifully shot film" } });

export const TeiPrediction = z.object({ score: z.number(), label: z.string() }).openapi("TeiPrediction");
export const TeiPredictResponse = z
  .union([z.array(TeiPrediction), z.array(z.array(TeiPrediction))])
  .openapi("TeiPredictResponse", { description: "A list for a single input, a list of lists for a batch; labels by score, highest first." });

export const TeiTokenizeRequest = z
  .strictObject({
    inputs: z.union([Text, Texts]),
    add_special_tokens: z.boolean().optional().openapi({ description: "Include the template's special tokens; default true." }),
    prompt_name: z.string().nullable().optional().openapi(ignored("the models here have no prompts.")),
  })
  .openapi("TeiTokenizeRequest", { example: { inputs: "a gripping film" } });

export const TeiToken = z
  .object({
    id: z.int(),
    text: z.string(),
    special: z.boolean(),
    start: z.int().nullable().openapi({ description: "Always null: the tokenizer here does not track offsets." }),
    stop: z.int().nullable().openapi({ description: "Always null." }),
  })
  .openapi("TeiToken");
export const TeiTokenizeResponse = z.array(z.array(TeiToken)).openapi("TeiTokenizeResponse");

export const TeiInfo = z
  .object({
    model_id: z.string().openapi({ description: "name@version of the default model." }),
    model_sha: z.string().nullable(),
    model_dtype: z.string(),
    model_type: z.union([
      z.object({ classifier: z.object({ id2label: z.record(z.string(), z.string()), label2id: z.record(z.string(), z.int()) }) }),
      z.object({ embedding: z.object({ pooling: z.string() }) }),
    ]),
    max_concurrent_requests: z.int(),
    max_input_length: z.int(),
    max_batch_tokens: z.int(),
    max_batch_requests: z.int().nullable(),
    max_client_batch_size: z.int(),
    tokenization_workers: z.int(),
    version: z.string(),
  })
  .openapi("TeiInfo");

export const TeiError = z
  .object({ error: z.string(), error_type: z.enum(["Unhealthy", "Backend", "Overloaded", "Validation", "Tokenizer", "Empty"]) })
  .openapi("TeiError");

// ---------------------------------------------------------------- OpenAI embeddings

export const OpenAIEmbeddingsRequest = z
  .strictObject({
    input: z
      .union([Text, Texts, z.array(z.int().min(0)).min(1), z.array(z.array(z.int().min(0)).min(1)).min(1)])
      .openapi({ description: "A string, up to 32 strings, or token ids of this model's vocabulary (not tiktoken's): one array, or up to 32." }),
    model: ModelParam.openapi({ param: undefined, description: "A model of this Worker (GET /v1/models), or `default` for the default model; other names are 404." }),
    encoding_format: z.enum(["float", "base64"]).optional().openapi({ description: "float (default) or base64 of little-endian float32." }),
    dimensions: z.int().min(1).optional().openapi({ description: "Keep the first n values, then normalize again (as OpenAI's shortened embeddings)." }),
    user: z.string().optional().openapi(ignored("end-user id.")),
  })
  .openapi("OpenAIEmbeddingsRequest", { example: { input: "the cat sat on the mat", model: "default" } });

export const OpenAIEmbeddingsResponse = z
  .object({
    object: z.literal("list"),
    data: z.array(z.object({ object: z.literal("embedding"), index: z.int(), embedding: z.union([z.array(z.number()), z.string()]) })),
    model: z.string(),
    usage: z.object({ prompt_tokens: z.int(), total_tokens: z.int() }),
  })
  .openapi("OpenAIEmbeddingsResponse");

// ---------------------------------------------------------------- Workers AI

export const WorkersAiClassifyRequest = z
  .strictObject({ text: z.string().openapi({ description: "The text to classify." }) })
  .openapi("WorkersAiClassifyRequest", { example: { text: "a gripping, beautifully shot film" } });

export const WorkersAiClassifyResponse = z
  .object({
    result: z.array(LabelScoreCompat).openapi({ description: "What env.AI.run answers: labels in Workers AI's spelling (upper case), highest score first." }),
    success: z.literal(true),
    errors: z.array(z.object({ code: z.int(), message: z.string() })).max(0),
    messages: z.array(z.string()).max(0),
  })
  .openapi("WorkersAiClassifyResponse");

// ---------------------------------------------------------------- error bodies (src/http/styles.ts)

const RequestId = z.string().openapi({ description: "Same as the X-Request-Id response header." });
const ProblemItems = z.array(z.object({ pointer: z.string(), detail: z.string() }));

export const HfError = z
  .object({ error: z.string(), code: z.string().openapi({ description: "The stable code of the native API (Problem.code)." }), errors: ProblemItems.optional(), request_id: RequestId })
  .openapi("HfError");

export const OpenAIError = z
  .object({
    error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().openapi({ description: "The stable code of the native API (Problem.code)." }) }),
    request_id: RequestId,
  })
  .openapi("OpenAIError");

export const WorkersAiError = z
  .object({ result: z.null(), success: z.literal(false), errors: z.array(z.object({ code: z.int().openapi({ description: "The HTTP status." }), message: z.string() })), messages: z.array(z.string()), request_id: RequestId })
  .openapi("WorkersAiError");
