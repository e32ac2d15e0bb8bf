/**
 * The compatible routes end to end, called by the real client libraries where one exists on npm
 * (`@huggingface/inference`, `openai`), pointed at the Worker's own entry point (their `fetch` option
 * routes to exports.default.fetch: the same Worker `npm run dev` serves, without a socket). Answers are
 * checked against the engine run directly on the same package with every weight resident, and the
 * reference APIs' formulas written out here (softmax, sigmoid, unit length, float32 base64).
 */
import { InferenceClient, InferenceClientProviderApiError } from "@huggingface/inference";
import { env, exports } from "cloudflare:workers";
import OpenAI from "openai";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { Engine } from "../../src/model/engine.ts";
import { newKernel } from "../helpers/packages.ts";
import { TINY_CLASSIFIER, TINY_EMBEDDING, putPackage, synthPackage } from "../helpers/r2.ts";

const BASE = "http://worker";
const workerFetch = ((input: RequestInfo | URL, init?: RequestInit) => exports.default.fetch(new Request(input, init))) as typeof fetch;
const post = (path: string, body: unknown) => workerFetch(`${BASE}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/**
 * Texts without content: zero-width characters (no token at all), control characters (this tokenizer
 * maps them to <unk>, yet they are not content), a BOM and a word joiner between spaces.
 */
const NO_CONTENT = ["\u200b\u200b", "\u0001\u0007", " \ufeff \u2060 "];

let engine: Engine;
/** The embedding model (EMBED_MODEL), which answers TEI /embed (its requests name no model). */
let embedder: Engine;
let labels: string[];

beforeAll(async () => {
  const synth = await synthPackage(TINY_CLASSIFIER, { seed: 11, tileDepth: 3, rowsPerBlock: 16 });
  await putPackage(env.WEIGHTS, env.MODEL, "v1", synth);
  engine = await Engine.create(synth.pkg, newKernel());
  labels = TINY_CLASSIFIER.labels!;
  const emb = await synthPackage(TINY_EMBEDDING, { seed: 12, tileDepth: 3, rowsPerBlock: 16 });
  await putPackage(env.WEIGHTS, env.EMBED_MODEL, "v1", emb);
  embedder = await Engine.create(emb.pkg, newKernel());
});

async function logitsOf(text: string): Promise<number[]> {
  const { logits } = await engine.run({ sequences: [{ ids: engine.tokenizer.encode(text).ids }], logits: true });
  return Array.from(logits![0]);
}

async function pooledOf(text: string): Promise<number[]> {
  const { pooled } = await engine.run({ sequences: [{ ids: engine.tokenizer.encode(text).ids }], pooled: true });
  return Array.from(pooled![0]);
}

function softmax(v: number[]): number[] {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

function expectClose(actual: number[], expected: number[], digits = 5): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((x, i) => expect(x).toBeCloseTo(expected[i], digits));
}

describe("Hugging Face Inference: @huggingface/inference with endpointUrl", () => {
  const client = () => new InferenceClient(undefined, { endpointUrl: `${BASE}/models/${env.MODEL}`, fetch: workerFetch });

  it("textClassification answers the engine's softmax, labels highest first", async () => {
    const text = "a warm, funny and moving film";
    const out = await client().textClassification({ inputs: text });
    const probs = softmax(await logitsOf(text));
    const expected = labels.map((label, i) => ({ label, score: probs[i] })).sort((a, b) => b.score - a.score);
    expect(out.map((x) => x.label)).toEqual(expected.map((x) => x.label));
    expectClose(out.map((x) => x.score), expected.map((x) => x.score));
  });

  it("honours top_k and function_to_apply (sigmoid, none)", async () => {
    const text = "dull and lifeless";
    const logits = await logitsOf(text);
    const top = await client().textClassification({ inputs: text, parameters: { top_k: 1 } });
    expect(top).toHaveLength(1);
    const sigmoid = await client().textClassification({ inputs: text, parameters: { function_to_apply: "sigmoid" } });
    for (const { label, score } of sigmoid) expect(score).toBeCloseTo(1 / (1 + Math.exp(-logits[labels.indexOf(label)])), 5);
    const raw = await client().textClassification({ inputs: text, parameters: { function_to_apply: "none" } });
    for (const { label, score } of raw) expect(score).toBeCloseTo(logits[labels.indexOf(label)], 4);
  });

  it("answers a list of texts with one list each (the client takes the first)", async () => {
    const texts = ["one good film", "one bad film"];
    const res = await post(`/models/${env.MODEL}`, { inputs: texts });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { label: string; score: number }[][];
    expect(body).toHaveLength(2);
    for (const [i, text] of texts.entries()) {
      const probs = softmax(await logitsOf(text));
      for (const { label, score } of body[i]) expect(score).toBeCloseTo(probs[labels.indexOf(label)], 5);
    }
  });

  it("surfaces errors through the client's own error class: unknown field, no content", async () => {
    const unknown = await post(`/models/${env.MODEL}`, { inputs: "fine", parameters: { temperature: 0.5 } });
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toMatchObject({ code: "invalid_field", errors: [{ pointer: "#/parameters/temperature" }] });
    const err = await client().textClassification({ inputs: NO_CONTENT[0] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceClientProviderApiError);
    expect((err as InferenceClientProviderApiError).httpResponse.status).toBe(422);
    expect((err as Error).message).toContain("no content token");
  });
});

describe("OpenAI embeddings: the openai SDK with baseURL", () => {
  const client = () => new OpenAI({ apiKey: "unused-without-API_TOKEN", baseURL: `${BASE}/v1`, fetch: workerFetch, maxRetries: 0 });

  it("embeddings.create (the SDK asks for base64 and decodes it) answers unit vectors of the pooled output", async () => {
    const input = ["the cat sat on the mat", "a dog barked"];
    const out = await client().embeddings.create({ model: env.MODEL, input });
    expect(out.object).toBe("list");
    expect(out.model).toBe(`${env.MODEL}@v1`);
    expect(out.data.map((d) => d.index)).toEqual([0, 1]);
    for (const [i, text] of input.entries()) expectClose(out.data[i].embedding, unit(await pooledOf(text)), 5);
    const tokens = input.reduce((n, t) => n + engine.tokenizer.encode(t).ids.length, 0);
    expect(out.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
  });

  it("float format and dimensions (first n values, normalized again), token-id input", async () => {
    const text = "an unexpectedly touching story";
    const out = await client().embeddings.create({ model: env.MODEL, input: text, encoding_format: "float", dimensions: 8 });
    expectClose(out.data[0].embedding, unit((await pooledOf(text)).slice(0, 8)), 5);
    const ids = engine.tokenizer.encodeBatch([text], { addSpecialTokens: false })[0];
    const byIds = await client().embeddings.create({ model: env.MODEL, input: ids, encoding_format: "float" });
    expectClose(byIds.data[0].embedding, unit(await pooledOf(text)), 5);
  });

  it("maps errors to the SDK's classes: unknown model 404, no content 422 with the index, unknown field 422", async () => {
    const missing = await client().embeddings.create({ model: "text-embedding-3-small", input: "hi" }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    const empty = await client().embeddings.create({ model: env.MODEL, input: ["fine", NO_CONTENT[1]], encoding_format: "float" }).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    expect((empty as InstanceType<typeof OpenAI.APIError>).code).toBe("no_content");
    expect((empty as InstanceType<typeof OpenAI.APIError>).param).toBe("input");
    expect((empty as Error).message).toContain("input[1]");
    const res = await post("/v1/embeddings", { model: env.MODEL, input: "hi", temperature: 1 });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_field", param: "temperature", type: "invalid_request_error" } });
  });
});

describe("Text Embeddings Inference routes", () => {
  it("POST /embed: the embedding model's unit vectors, normalize: false as the model gives them, dimensions", async () => {
    const text = "the cat sat on the mat";
    const [{ vector }] = (await embedder.embed([text])).results;
    const res = await post("/embed", { inputs: text });
    expect(res.status).toBe(200);
    const [v] = (await res.json()) as number[][];
    expectClose(v, unit(vector), 5);
    const raw = (await (await post("/embed", { inputs: [text], normalize: false })).json()) as number[][];
    expect(raw[0]).toEqual(vector);
    const cut = (await (await post("/embed", { inputs: [text], dimensions: 8 })).json()) as number[][];
    expectClose(cut[0], unit(vector.slice(0, 8)), 5);
  });

  it("POST /predict: single → list, batch → list of lists, raw_scores gives logits", async () => {
    const text = "a warm film";
    const logits = await logitsOf(text);
    const single = (await (await post("/predict", { inputs: text })).json()) as { label: string; score: number }[];
    expect(single[0].score).toBeGreaterThanOrEqual(single[1].score);
    for (const { label, score } of single) expect(score).toBeCloseTo(softmax(logits)[labels.indexOf(label)], 5);
    const batch = (await (await post("/predict", { inputs: [[text], ["another"]], raw_scores: true })).json()) as { label: string; score: number }[][];
    expect(batch).toHaveLength(2);
    for (const { label, score } of batch[0]) expect(score).toBeCloseTo(logits[labels.indexOf(label)], 4);
    const pair = await post("/predict", { inputs: ["a", "b"] });
    expect(pair.status).toBe(422);
    expect(await pair.json()).toEqual({ error: expect.stringContaining("pair"), error_type: "Tokenizer" });
  });

  it("POST /tokenize: the ids the engine encodes, specials flagged; GET /info describes the default model", async () => {
    const text = "the cat sat";
    const e = engine.tokenizer.encode(text);
    const [tokens] = (await (await post("/tokenize", { inputs: text })).json()) as { id: number; text: string; special: boolean }[][];
    expect(tokens.map((t) => t.id)).toEqual(e.ids);
    const specials = ["<cls>", "<sep>", "<pad>", "<s>", "</s>"];
    expect(tokens.map((t) => t.special)).toEqual(e.tokens.map((t) => specials.includes(t)));
    expect(tokens.some((t) => t.special)).toBe(true);
    const [plain] = (await (await post("/tokenize", { inputs: [text], add_special_tokens: false })).json()) as { id: number }[][];
    expect(plain.map((t) => t.id)).toEqual(e.ids.filter((_, p) => !specials.includes(e.tokens[p])));
    const info = (await (await workerFetch(`${BASE}/info`)).json()) as any;
    expect(info.model_id).toBe(`${env.MODEL}@v1`);
    expect(info.model_type).toEqual({ classifier: { id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])), label2id: Object.fromEntries(labels.map((l, i) => [l, i])) } });
    expect(info.max_input_length).toBe(TINY_CLASSIFIER.maxSeqLength);
  });

  it("TEI's error shape and statuses: 413 too long without truncate, 422 no content, 413 too many inputs", async () => {
    const long = Array.from({ length: TINY_CLASSIFIER.maxSeqLength + 5 }, (_, i) => `w${i}`).join(" ");
    const tooLong = await post("/embed", { inputs: long });
    expect(tooLong.status).toBe(413);
    expect(await tooLong.json()).toMatchObject({ error_type: "Validation" });
    expect((await post("/embed", { inputs: long, truncate: true })).status).toBe(200);
    const empty = await post("/embed", { inputs: ["fine", NO_CONTENT[0]] });
    expect(empty.status).toBe(422);
    expect(await empty.json()).toEqual({ error: expect.stringContaining("inputs[1]"), error_type: "Tokenizer" });
    const many = await post("/predict", { inputs: Array.from({ length: 33 }, () => ["a"]) });
    expect(many.status).toBe(413);
  });
});

describe("Workers AI text classification shape", () => {
  it("answers {result: [{label, score}]} with upper-case labels, highest first, under the Workers AI model path", async () => {
    const text = "a warm, funny and moving film";
    const res = await post("/ai/run/@cf/huggingface/distilbert-sst-2-int8", { text });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { label: string; score: number }[]; success: boolean };
    expect(body.success).toBe(true);
    const probs = softmax(await logitsOf(text));
    const expected = labels.map((l, i) => ({ label: l.toUpperCase(), score: probs[i] })).sort((a, b) => b.score - a.score);
    expect(body.result.map((r) => r.label)).toEqual(expected.map((r) => r.label));
    expectClose(body.result.map((r) => r.score), expected.map((r) => r.score));
    const named = (await (await post(`/ai/run/${env.MODEL}`, { text })).json()) as typeof body;
    expect(named.result).toEqual(body.result);
  });

  it("answers errors in the Cloudflare envelope", async () => {
    const res = await post(`/ai/run/${env.MODEL}`, { text: NO_CONTENT[0] });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ result: null, success: false, errors: [{ code: 422, message: expect.stringContaining("no content") }] });
    const extra = await post(`/ai/run/${env.MODEL}`, { text: "fine", lang: "en" });
    expect(extra.status).toBe(422);
    expect(((await extra.json()) as any).errors[0].message).toContain("lang");
  });
});

describe("no content: 422 no_content with the index on every native route", () => {
  it.each([
    ["/v1/classify", { texts: ["fine", NO_CONTENT[0], "ok", NO_CONTENT[1]] }, ["#/texts/1", "#/texts/3"]],
    ["/v1/embed", { text: NO_CONTENT[1] }, ["#/text"]],
    ["/v1/embed", { texts: [NO_CONTENT[2]] }, ["#/texts/0"]],
  ])("%s", async (path, body, pointers) => {
    const res = await post(path, body);
    expect(res.status).toBe(422);
    const problem = (await res.json()) as any;
    expect(problem.code).toBe("no_content");
    expect(problem.errors.map((e: { pointer: string }) => e.pointer)).toEqual(pointers);
    expect(problem.detail).not.toMatch(/\/work\/|at .*\.ts:/);
  });

  it("a text with no content is the client's: 422 no_content as problem+json, no Retry-After, not logged as an error", async () => {
    const errors = vi.spyOn(console, "error");
    try {
      const res = await post("/v1/classify", { text: NO_CONTENT[0] });
      expect(res.status).toBe(422);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.headers.get("retry-after")).toBeNull();
      expect(((await res.json()) as any).code).toBe("no_content");
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
  });

  it("the engine refuses them itself (NoContentError with the indices), so every caller gets the same rule", async () => {
    const err = await engine.classify(["fine", ...NO_CONTENT]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "no_content", indices: [1, 2, 3] });
    // a character the tokenizer does not know is still content (<unk>): the model is asked, not refused
    expect((await engine.classify(["fine \u200b", "\u0001 fine"])).results).toHaveLength(2);
  });
});
