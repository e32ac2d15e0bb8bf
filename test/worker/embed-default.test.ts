/**
 * Embed requests that name no model are answered by the embedding model (wrangler.toml EMBED_MODEL), on every
 * embedding route: /v1/embed, OpenAI /v1/embeddings with model "default", TEI /embed. Their vectors are the
 * engine's own `Engine.embed` vectors for the same texts, run here on the same package with every weight
 * resident (no R2, no cache, no streaming), and have unit length; a request naming the classifier still gets
 * the classifier's pooled vector; GET /v1/models says which model does what.
 *
 * The bucket holds synthetic packages (src/weights/convert/synth.ts): the embedding preset under EMBED_MODEL and
 * a classifier under MODEL, so this runs on a clean clone; test/node/default-model.test.ts measures the shipped
 * embedding package when weights/<EMBED_MODEL>/ is there.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../src/model/engine.ts";
import { buildFixturePackage, newKernel } from "../helpers/packages.ts";
import { TINY_CLASSIFIER, TINY_EMBEDDING, putPackage, synthPackage } from "../helpers/r2.ts";
import { testService } from "../helpers/service.ts";

const post = async (path: string, body: unknown) => {
  const res = await exports.default.fetch(new Request(`http://worker${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
  return { res, body: (await res.json()) as any };
};

let embedder: Engine;
let classifier: Engine;

const TEXTS = ["the cat sat on the mat", "a cat was sitting on a mat", "stock markets fell sharply on monday"];

beforeAll(async () => {
  // different seeds: the two models' encoders differ, so a vector shows which one answered
  const emb = await synthPackage(TINY_EMBEDDING, { seed: 21, tileDepth: 3, rowsPerBlock: 16 });
  await putPackage(env.WEIGHTS, env.EMBED_MODEL, "e1", emb);
  embedder = await Engine.create(emb.pkg, newKernel());
  const cls = await synthPackage(TINY_CLASSIFIER, { seed: 22, tileDepth: 3, rowsPerBlock: 16 });
  await putPackage(env.WEIGHTS, env.MODEL, "c1", cls);
  classifier = await Engine.create(cls.pkg, newKernel());
  await putPackage(env.WEIGHTS, "tiny-mlm", "m1", await buildFixturePackage("tiny", "q8"));
});

const norm = (v: number[]) => Math.hypot(...v);

/**
 * Re-normalising a vector that is unit length up to f32 rounding (the compatible routes normalise whatever
 * they get) moves each value by about |v_i| · 2^-24; 1e-6 is ten times that for |v_i| ≤ 1 and far below any
 * difference between two models (the other model's values differ in the first digit).
 */
const RENORMALISED = 1e-6;

function expectWithin(actual: number[], expected: number[], tolerance: number): void {
  expect(actual).toHaveLength(expected.length);
  const worst = Math.max(...actual.map((x, i) => Math.abs(x - expected[i])));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

describe("embed requests without a model", () => {
  it("POST /v1/embed answers with EMBED_MODEL: exactly Engine.embed's vectors, unit length", async () => {
    const { res, body } = await post("/v1/embed", { texts: TEXTS });
    expect(res.status).toBe(200);
    expect(body.model).toEqual({ name: env.EMBED_MODEL, version: "e1" });
    const { results } = await embedder.embed(TEXTS);
    // the Worker streams the same bytes through the same kernels (streamed == resident bit for bit,
    // test/model/streamed.test.ts) and JSON carries f32 values exactly: no tolerance is needed
    expect(body.results.map((r: any) => r.vector)).toEqual(results.map((r) => r.vector));
    for (const r of body.results) {
      expect(r.vector).toHaveLength(TINY_EMBEDDING.hiddenSize);
      expect(Math.abs(norm(r.vector) - 1)).toBeLessThan(1e-6);
    }
    expect(body.results.map((r: any) => r.tokens)).toEqual(results.map((r) => r.tokens));
  });

  it("OpenAI /v1/embeddings with model \"default\" answers with EMBED_MODEL, float and base64", async () => {
    const { results } = await embedder.embed(TEXTS);
    const float = await post("/v1/embeddings", { model: "default", input: TEXTS, encoding_format: "float" });
    expect(float.res.status).toBe(200);
    expect(float.body.model).toBe(`${env.EMBED_MODEL}@e1`);
    float.body.data.forEach((d: any, i: number) => {
      expectWithin(d.embedding, results[i].vector, RENORMALISED);
      expect(Math.abs(norm(d.embedding) - 1)).toBeLessThan(1e-6);
    });
    const b64 = await post("/v1/embeddings", { model: "default", input: TEXTS[0], encoding_format: "base64" });
    const bytes = Uint8Array.from(atob(b64.body.data[0].embedding), (c) => c.charCodeAt(0));
    expectWithin(Array.from(new Float32Array(bytes.buffer)), results[0].vector, RENORMALISED);
  });

  it("TEI /embed answers with EMBED_MODEL, normalised or not (the model's vectors already are)", async () => {
    const { results } = await embedder.embed(TEXTS);
    const { res, body } = await post("/embed", { inputs: TEXTS });
    expect(res.status).toBe(200);
    body.forEach((v: number[], i: number) => expectWithin(v, results[i].vector, RENORMALISED));
    const raw = await post("/embed", { inputs: TEXTS, normalize: false });
    expect(raw.body).toEqual(results.map((r) => r.vector));
  });
});

describe("embed requests naming a model", () => {
  it("the classifier still gives its own pooled vector, not normalised", async () => {
    const { res, body } = await post("/v1/embed", { texts: TEXTS, model: env.MODEL });
    expect(res.status).toBe(200);
    expect(body.model).toEqual({ name: env.MODEL, version: "c1" });
    const { results } = await classifier.embed(TEXTS);
    expect(body.results.map((r: any) => r.vector)).toEqual(results.map((r) => r.vector));
    // after the final LayerNorm the mean of unit-variance rows is far from unit length
    for (const r of body.results) expect(Math.abs(norm(r.vector) - 1)).toBeGreaterThan(0.1);
    const { results: fromEmbedder } = await embedder.embed(TEXTS);
    expect(body.results[0].vector).not.toEqual(fromEmbedder[0].vector);
  });

  it("OpenAI /v1/embeddings naming the classifier gets its vector, unit length as OpenAI's are", async () => {
    const { body } = await post("/v1/embeddings", { model: env.MODEL, input: TEXTS[0], encoding_format: "float" });
    expect(body.model).toBe(`${env.MODEL}@c1`);
    const [{ vector }] = (await classifier.embed([TEXTS[0]])).results;
    const n = norm(vector);
    expectWithin(body.data[0].embedding, vector.map((x) => x / n), RENORMALISED);
  });

  it("an unknown model is the usual 404 model_not_found problem", async () => {
    const { res, body } = await post("/v1/embed", { text: "hi", model: "no-such-model" });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(body).toMatchObject({ status: 404, code: "model_not_found", type: expect.stringContaining("model_not_found") });
    expect(body.detail).toContain("no-such-model");
  });

  it("the embedding model refuses classify and fill-mask with 422 unsupported_task, naming what it is", async () => {
    for (const [path, text] of [["/v1/classify", "a fine film"], ["/v1/fill-mask", "a <mask> film"]] as const) {
      const { res, body } = await post(path, { text, model: env.EMBED_MODEL });
      expect(res.status).toBe(422);
      expect(body).toMatchObject({ code: "unsupported_task" });
      expect(body.detail).toContain("sentence-embedding model");
    }
  });
});

describe("GET /v1/models", () => {
  it("says which model does what and which one answers each task by default", async () => {
    const res = await exports.default.fetch("http://worker/v1/models");
    expect(res.status).toBe(200);
    const { models } = (await res.json()) as { models: any[] };
    const byName = Object.fromEntries(models.map((m) => [m.name, m]));
    expect(byName[env.EMBED_MODEL]).toMatchObject({
      kind: "embedding", tasks: ["embed"], default_for: ["embed"], labels: null, config: { pooler: "avg", normalize: "l2" },
    });
    // the synthetic classifier has no MLM decoder: it is MODEL, yet fill-mask is not one of its tasks
    expect(byName[env.MODEL]).toMatchObject({ kind: "classifier", tasks: ["classify", "embed"], default_for: ["classify"], config: { normalize: null } });
    expect(byName["tiny-mlm"]).toMatchObject({ kind: "mlm", tasks: ["embed", "fill-mask"], default_for: [] });
  });
});

describe("the embed default is the Worker's setting", () => {
  it("without EMBED_MODEL embed requests go to MODEL, as before", async () => {
    const { post: send } = testService(env.MODEL);
    const { res, body } = await send("/v1/embed", { text: TEXTS[0] });
    expect(res.status).toBe(200);
    expect(body.model.name).toBe(env.MODEL);
  });

  it("an EMBED_MODEL missing from the bucket answers 404 model_not_found for embed only", async () => {
    const { post: send } = testService(env.MODEL, { embedModel: "ufb-embed-missing" });
    const embed = await send("/v1/embed", { text: TEXTS[0] });
    expect(embed.res.status).toBe(404);
    expect(embed.body).toMatchObject({ code: "model_not_found" });
    expect(embed.body.detail).toContain("ufb-embed-missing");
    expect((await send("/v1/classify", { text: TEXTS[0] })).res.status).toBe(200);
  });
});
