/**
 * Text Embeddings Inference: POST /embed, POST /predict, POST /tokenize, GET /info. A TEI server serves one
 * model and its requests name none: /embed is answered by the embedding model (EMBED_MODEL), the others by
 * the default model (MODEL). Errors are TEI's `{error, error_type}` with TEI's statuses (src/http/styles.ts:
 * 413 Validation, 422 Tokenizer, 424 Backend, 429 Overloaded).
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  TeiEmbedRequest,
  TeiEmbedResponse,
  TeiError,
  TeiInfo,
  TeiPredictRequest,
  TeiPredictResponse,
  TeiTokenizeRequest,
  TeiTokenizeResponse,
} from "../http/compat-schemas.ts";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { LIMITS } from "../http/limits.ts";
import { ProblemError } from "../http/problem.ts";
import { labelScores, unitLength } from "../http/render.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { phaseTimer } from "../middleware/phase-timer/index.ts";
import { bearerSecurity, checkCount, commonHeaders, compatTexts, serviceFor } from "./common.ts";

/** TEI's error responses: its body shape and the statuses it uses. */
const teiErrors = Object.fromEntries(
  (
    [
      [400, "Malformed JSON (TEI: Empty)."],
      [401, "API_TOKEN is set and the bearer token is missing or wrong."],
      [413, "Validation: body too large, more than 32 inputs, or an input longer than the model takes with `truncate: false`."],
      [415, "Body is not application/json."],
      [422, "Tokenizer: an unknown or wrong field, an empty input, or an input without content tokens."],
      [424, "Backend: the model failed (stored weights corrupt, an internal error)."],
      [429, "Overloaded."],
      [503, "Unhealthy: the weights could not be read; carries Retry-After."],
    ] as const
  ).map(([status, description]) => [status, { description, headers: commonHeaders, content: { "application/json": { schema: TeiError } } }]),
) as Record<400 | 401 | 413 | 415 | 422 | 424 | 429 | 503, { description: string; headers: typeof commonHeaders; content: { "application/json": { schema: typeof TeiError } } }>;

const tags = ["compatible"];

export const teiEmbedRoute = createRoute({
  method: "post",
  path: "/embed",
  operationId: "teiEmbed",
  tags,
  summary: "TEI: embed",
  description: "Sentence vectors of the embedding model (EMBED_MODEL), unit length (the model's own vectors are; `normalize: false` returns them as the model gives them, which for it is the same). Good for semantic similarity, search, deduplication and clustering of English sentences; see docs/api.md.",
  security: bearerSecurity,
  middleware: [jsonBody(), phaseTimer()] as const,
  request: { body: { required: true, content: { "application/json": { schema: TeiEmbedRequest } } } },
  responses: { 200: { description: "One vector per input.", headers: commonHeaders, content: { "application/json": { schema: TeiEmbedResponse } } }, ...teiErrors },
});

export const teiPredictRoute = createRoute({
  method: "post",
  path: "/predict",
  operationId: "teiPredict",
  tags,
  summary: "TEI: predict (sequence classification)",
  description: "Label scores of the default model (a classifier), highest first.",
  security: bearerSecurity,
  middleware: [jsonBody(), phaseTimer()] as const,
  request: { body: { required: true, content: { "application/json": { schema: TeiPredictRequest } } } },
  responses: { 200: { description: "Predictions.", headers: commonHeaders, content: { "application/json": { schema: TeiPredictResponse } } }, ...teiErrors },
});

export const teiTokenizeRoute = createRoute({
  method: "post",
  path: "/tokenize",
  operationId: "teiTokenize",
  tags,
  summary: "TEI: tokenize",
  description: "The tokens the default model sees (truncated to max_seq_length). `start` and `stop` are null.",
  security: bearerSecurity,
  middleware: [jsonBody(), phaseTimer()] as const,
  request: { body: { required: true, content: { "application/json": { schema: TeiTokenizeRequest } } } },
  responses: { 200: { description: "Tokens per input.", headers: commonHeaders, content: { "application/json": { schema: TeiTokenizeResponse } } }, ...teiErrors },
});

export const teiInfoRoute = createRoute({
  method: "get",
  path: "/info",
  operationId: "teiInfo",
  tags,
  summary: "TEI: info",
  description: "The default model (MODEL, which /predict and /tokenize use; /embed uses EMBED_MODEL) and this Worker's limits, in TEI's shape. Reads the manifest only.",
  security: bearerSecurity,
  responses: { 200: { description: "Info.", headers: commonHeaders, content: { "application/json": { schema: TeiInfo } } }, ...teiErrors },
});

/** TEI's `truncate: false`: an input longer than the model takes is refused, not cut. */
function refuseTruncated(c: Context<AppEnv>, results: { truncated: boolean }[], truncate: boolean | null | undefined, maxLength: number): void {
  if (truncate) return;
  const field = c.get("textField") ?? { field: "inputs", single: false };
  const items = results.flatMap((r, i) => (r.truncated ? [{ pointer: field.single ? "#/inputs" : `#/inputs/${i}`, detail: `${field.single ? "inputs" : `inputs[${i}]`} has more than ${maxLength} tokens; send truncate: true to cut it` }] : []));
  if (items.length) throw new ProblemError("text_too_long", `${items[0].detail}${items.length > 1 ? ` (and ${items.length - 1} more)` : ""}.`, { errors: items });
}

/** TEI's predict inputs: a string, [string], [[string], …]; a pair is refused, naming where it is. */
function predictTexts(c: Context<AppEnv>, inputs: string | string[] | string[][]): { texts: string[]; batch: boolean } {
  if (typeof inputs === "string") return { texts: compatTexts(c, inputs, "inputs"), batch: false };
  if (inputs.length > 0 && inputs.every((x) => typeof x === "string")) {
    if (inputs.length > 1) throw new ProblemError("invalid_field", "inputs: a list of two strings is a text pair, which the classifiers here do not take; send a batch as [[\"text\"], [\"text\"]].", { errors: [{ pointer: "#/inputs", detail: "text pairs are not supported" }] });
    return { texts: compatTexts(c, inputs[0] as string, "inputs"), batch: false };
  }
  const batch = inputs as string[][];
  const pair = batch.findIndex((x) => x.length !== 1);
  if (pair >= 0) throw new ProblemError("invalid_field", `inputs[${pair}]: expected [text] (one string); text pairs are not supported.`, { errors: [{ pointer: `#/inputs/${pair}`, detail: "expected a list of one string" }] });
  c.set("textField", { field: "inputs", single: false });
  const texts = compatTexts(c, batch.map((x) => x[0]), "inputs");
  return { texts, batch: true };
}

export function registerTeiCompat(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(teiEmbedRoute, async (c) => {
    const body = c.req.valid("json");
    const texts = compatTexts(c, body.inputs, "inputs");
    const service = await serviceFor(c, deps);
    const out = await service.embed(texts, { timer: c.get("phaseTimer") });
    checkCount("embed", out.results, texts);
    refuseTruncated(c, out.results, body.truncate, out.model.config.maxSeqLength);
    const vectors = out.results.map((r) => {
      const v = body.dimensions ? r.vector.slice(0, body.dimensions) : r.vector;
      return body.normalize === false ? v : unitLength(v);
    });
    return c.json(vectors, 200);
  });

  app.openapi(teiPredictRoute, async (c) => {
    const body = c.req.valid("json");
    const { texts, batch } = predictTexts(c, body.inputs);
    const service = await serviceFor(c, deps);
    const out = await service.classify(texts, { timer: c.get("phaseTimer") });
    checkCount("classify", out.results, texts);
    refuseTruncated(c, out.results, body.truncate, out.model.config.maxSeqLength);
    const labels = out.model.labels ?? [];
    const predictions = out.results.map((r) => labelScores(labels, r.logits, body.raw_scores ? "none" : "softmax").map((s) => ({ score: s.score, label: s.label })));
    return c.json(batch ? predictions : predictions[0], 200);
  });

  app.openapi(teiTokenizeRoute, async (c) => {
    const body = c.req.valid("json");
    const texts = compatTexts(c, body.inputs, "inputs");
    const service = await serviceFor(c, deps);
    const out = await service.tokenize(texts, { timer: c.get("phaseTimer") });
    checkCount("tokenize", out.results, texts);
    const keep = body.add_special_tokens !== false;
    return c.json(out.results.map((r) => r.tokens.filter((t) => keep || !t.special).map((t) => ({ id: t.id, text: t.text, special: t.special, start: null, stop: null }))), 200);
  });

  app.openapi(teiInfoRoute, async (c) => {
    const service = await serviceFor(c, deps);
    const m = await service.modelInfo();
    const modelType = m.kind === "classifier" && m.labels
      ? { classifier: { id2label: Object.fromEntries(m.labels.map((l, i) => [String(i), l])), label2id: Object.fromEntries(m.labels.map((l, i) => [l, i])) } }
      : { embedding: { pooling: m.config.pooler === "zero_index" ? "cls" : "mean" } };
    return c.json(
      {
        model_id: `${m.name}@${m.version}`,
        model_sha: null,
        model_dtype: m.dtype === "q8" ? "int8" : "float32",
        model_type: modelType,
        // one request runs at a time per isolate (the engine's queue); more wait in turn
        max_concurrent_requests: 1,
        max_input_length: m.config.maxSeqLength,
        max_batch_tokens: LIMITS.maxTexts * m.config.maxSeqLength,
        max_batch_requests: null,
        max_client_batch_size: LIMITS.maxTexts,
        tokenization_workers: 1,
        version: "ultrafastbert-edge",
      },
      200,
    );
  });
}
