import { beforeAll, describe, expect, it, vi } from "vitest";
import { LIMITS } from "../../src/http/limits.ts";
import { PROBLEMS } from "../../src/http/problem.ts";
import type { ErrorCode } from "../../src/errors.ts";
import { MLM } from "./fake-service.ts";
import { setup } from "./helpers.ts";
import { allRefs, resolveRef, type Schema, validate } from "./json-schema.ts";

type Doc = Schema & {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Schema> };
};
type Operation = {
  operationId: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  requestBody?: { required: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; headers?: Record<string, Schema>; content?: Record<string, { schema: Schema }> }>;
};

const INFERENCE_ERRORS = ["400", "401", "404", "413", "415", "422", "500", "502", "503"];
const ROUTES: [string, string, string[]][] = [
  ["/v1/classify", "post", INFERENCE_ERRORS],
  ["/v1/embed", "post", INFERENCE_ERRORS],
  ["/v1/fill-mask", "post", INFERENCE_ERRORS],
  ["/v1/models", "get", ["401", "500", "502", "503"]],
  ["/healthz", "get", ["500"]],
];

/** Compatible routes: their API's error body (a schema of its own) at each status. */
const TEI_ERRORS = ["400", "401", "413", "415", "422", "424", "429", "503"];
const COMPAT: [string, string, string[], string][] = [
  ["/models/{model}", "post", INFERENCE_ERRORS, "HfError"],
  ["/embed", "post", TEI_ERRORS, "TeiError"],
  ["/predict", "post", TEI_ERRORS, "TeiError"],
  ["/tokenize", "post", TEI_ERRORS, "TeiError"],
  ["/info", "get", TEI_ERRORS, "TeiError"],
  ["/v1/embeddings", "post", INFERENCE_ERRORS, "OpenAIError"],
  ["/ai/run/@cf/huggingface/distilbert-sst-2-int8", "post", INFERENCE_ERRORS, "WorkersAiError"],
  ["/ai/run/{model}", "post", INFERENCE_ERRORS, "WorkersAiError"],
];

let doc: Doc;
beforeAll(async () => {
  const res = await setup().request("/openapi.json");
  expect(res.status).toBe(200);
  doc = await res.json<Doc>();
});

describe("GET /openapi.json", () => {
  it("should be an OpenAPI 3.1 document with info, paths and components", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Object.keys(doc.paths).sort()).toEqual([...ROUTES, ...COMPAT].map(([p]) => p).sort());
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(["Problem", "ClassifyRequest", "ClassifyResponse", "EmbedResponse", "FillMaskResponse", "ModelsResponse", "Usage"]));
  });

  it("should resolve every $ref", () => {
    const refs = allRefs(doc);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(() => resolveRef(ref, doc)).not.toThrow();
  });

  it("should declare the bearer scheme and require it on /v1/* and the compatible routes only", () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    for (const [path, method] of ROUTES) {
      const op = doc.paths[path][method];
      if (path.startsWith("/v1/")) expect(op.security).toEqual([{ bearerAuth: [] }]);
      else expect(op.security).toBeUndefined();
    }
    for (const [path, method] of COMPAT) expect(doc.paths[path][method].security).toEqual([{ bearerAuth: [] }]);
  });

  it.each(COMPAT)("%s %s should declare 200 JSON and each error in its API's shape", (path, method, errors, errorSchema) => {
    const op = doc.paths[path][method];
    expect(op.operationId).toBeTruthy();
    expect(op.tags).toEqual(["compatible"]);
    expect(Object.keys(op.responses).sort()).toEqual(["200", ...errors].sort());
    expect(op.responses["200"].content?.["application/json"].schema.$ref).toMatch(/^#\/components\/schemas\//);
    for (const status of errors) expect(op.responses[status].content?.["application/json"].schema).toEqual({ $ref: `#/components/schemas/${errorSchema}` });
  });

  it.each(ROUTES)("%s %s should declare 200 JSON and each error as problem+json", (path, method, errors) => {
    const op = doc.paths[path][method];
    expect(op.operationId).toBeTruthy();
    expect(Object.keys(op.responses).sort()).toEqual(["200", ...errors].sort());
    expect(op.responses["200"].content?.["application/json"].schema.$ref).toMatch(/^#\/components\/schemas\//);
    expect(op.responses["200"].headers).toHaveProperty("X-Request-Id");
    for (const status of errors) {
      const r = op.responses[status];
      expect(r.description.length).toBeGreaterThan(10);
      expect(r.content?.["application/problem+json"].schema).toEqual({ $ref: "#/components/schemas/Problem" });
      expect(r.headers).toHaveProperty("X-Request-Id");
    }
    if (errors.includes("401")) expect(op.responses["401"].headers).toHaveProperty("WWW-Authenticate");
    if (errors.includes("503")) expect(op.responses["503"].headers).toHaveProperty("Retry-After");
    if (method === "post") {
      expect(op.requestBody?.required).toBe(true);
      expect(Object.keys(op.requestBody?.content ?? {})).toEqual(["application/json"]);
    }
  });

  it("should list every problem code and document the request limits", () => {
    const s = doc.components.schemas;
    expect((s.Problem.properties as Record<string, Schema>).code.enum).toEqual(Object.keys(PROBLEMS));
    const req = s.ClassifyRequest as { additionalProperties: boolean; properties: Record<string, Schema> };
    expect(req.additionalProperties).toBe(false);
    expect(req.properties.texts).toMatchObject({ type: "array", minItems: 1, maxItems: LIMITS.maxTexts });
    expect((req.properties.texts.items as Schema).maxLength).toBe(LIMITS.maxTextChars);
    expect(req.properties.top_k).toMatchObject({ type: "integer", minimum: 1 });
    expect(req.properties.model.pattern).toBe(LIMITS.modelNamePattern.source);
    const fm = s.FillMaskRequest as { properties: Record<string, Schema> };
    expect(fm.properties.top_k).toMatchObject({ minimum: 1, maximum: LIMITS.fillMaskTopKMax });
  });
});

/** Real responses of the app, checked against the schema the document publishes for their status. */
describe("responses match the published document", () => {
  type Case = { name: string; method: "get" | "post"; path: string; doc?: string; body?: unknown; fail?: ErrorCode | "crash"; headers?: Record<string, string>; bindings?: Record<string, string>; status: number };
  const cases: Case[] = [
    { name: "classify", method: "post", path: "/v1/classify", body: { texts: ["a b", "c"], top_k: 2 }, status: 200 },
    { name: "classify explain", method: "post", path: "/v1/classify", body: { text: "a b", explain: true }, status: 200 },
    { name: "embed", method: "post", path: "/v1/embed", body: { texts: ["a", "b c"] }, status: 200 },
    { name: "fill-mask", method: "post", path: "/v1/fill-mask", body: { text: "a [MASK] b", top_k: 3 }, status: 200 },
    { name: "models", method: "get", path: "/v1/models", status: 200 },
    { name: "healthz", method: "get", path: "/healthz", status: 200 },
    { name: "malformed", method: "post", path: "/v1/classify", body: "{", status: 400 },
    { name: "schema", method: "post", path: "/v1/embed", body: { texts: [1] }, status: 400 },
    { name: "no token", method: "post", path: "/v1/fill-mask", body: { text: "[MASK]" }, bindings: { API_TOKEN: "t" }, status: 401 },
    { name: "models no token", method: "get", path: "/v1/models", bindings: { API_TOKEN: "t" }, status: 401 },
    { name: "unknown model", method: "post", path: "/v1/classify", body: { text: "a", model: "nope" }, status: 404 },
    { name: "too large", method: "post", path: "/v1/embed", body: { text: "a".repeat(LIMITS.maxBodyBytes) }, status: 413 },
    { name: "form body", method: "post", path: "/v1/classify", body: "text=a", headers: { "Content-Type": "application/x-www-form-urlencoded" }, status: 415 },
    { name: "empty text", method: "post", path: "/v1/fill-mask", body: { texts: ["[MASK]", ""] }, status: 422 },
    { name: "wrong task", method: "post", path: "/v1/classify", body: { text: "a", model: MLM.name }, status: 422 },
    { name: "crash", method: "post", path: "/v1/embed", body: { text: "a" }, fail: "crash", status: 500 },
    { name: "models crash", method: "get", path: "/v1/models", fail: "crash", status: 500 },
    { name: "corrupt", method: "post", path: "/v1/classify", body: { text: "a" }, fail: "weights_corrupt", status: 502 },
    { name: "models corrupt", method: "get", path: "/v1/models", fail: "weights_corrupt", status: 502 },
    { name: "unavailable", method: "post", path: "/v1/fill-mask", body: { text: "[MASK]" }, fail: "weights_unavailable", status: 503 },
    { name: "models unavailable", method: "get", path: "/v1/models", fail: "weights_unavailable", status: 503 },
    { name: "hf", method: "post", path: "/models/sst2-tiny", doc: "/models/{model}", body: { inputs: ["a b", "c"], parameters: { top_k: 1 } }, status: 200 },
    { name: "hf unknown field", method: "post", path: "/models/sst2-tiny", doc: "/models/{model}", body: { inputs: "a", temperature: 1 }, status: 422 },
    { name: "hf crash", method: "post", path: "/models/sst2-tiny", doc: "/models/{model}", body: { inputs: "a" }, fail: "crash", status: 500 },
    { name: "tei embed", method: "post", path: "/embed", body: { inputs: "a b" }, status: 200 },
    { name: "tei predict", method: "post", path: "/predict", body: { inputs: [["a"], ["b"]] }, status: 200 },
    { name: "tei predict single", method: "post", path: "/predict", body: { inputs: "a" }, status: 200 },
    { name: "tei tokenize", method: "post", path: "/tokenize", body: { inputs: ["a b"] }, status: 200 },
    { name: "tei info", method: "get", path: "/info", status: 200 },
    { name: "tei too many", method: "post", path: "/embed", body: { inputs: Array(LIMITS.maxTexts + 1).fill("a") }, status: 413 },
    { name: "tei empty", method: "post", path: "/embed", body: { inputs: [" "] }, status: 422 },
    { name: "tei backend", method: "post", path: "/predict", body: { inputs: "a" }, fail: "weights_corrupt", status: 424 },
    { name: "tei unhealthy", method: "post", path: "/embed", body: { inputs: "a" }, fail: "weights_unavailable", status: 503 },
    { name: "openai", method: "post", path: "/v1/embeddings", body: { input: ["a", "b c"], model: "sst2-tiny" }, status: 200 },
    { name: "openai base64", method: "post", path: "/v1/embeddings", body: { input: "a", model: "sst2-tiny", encoding_format: "base64" }, status: 200 },
    { name: "openai unknown model", method: "post", path: "/v1/embeddings", body: { input: "a", model: "text-embedding-3-small" }, status: 404 },
    { name: "openai no token", method: "post", path: "/v1/embeddings", body: { input: "a", model: "sst2-tiny" }, bindings: { API_TOKEN: "t" }, status: 401 },
    { name: "workers ai", method: "post", path: "/ai/run/@cf/huggingface/distilbert-sst-2-int8", body: { text: "a b" }, status: 200 },
    { name: "workers ai named", method: "post", path: "/ai/run/sst2-tiny", doc: "/ai/run/{model}", body: { text: "a b" }, status: 200 },
    { name: "workers ai too large", method: "post", path: "/ai/run/sst2-tiny", doc: "/ai/run/{model}", body: { text: "a".repeat(LIMITS.maxBodyBytes) }, status: 413 },
  ];

  it.each(cases)("$name: $method $path → $status", async (c) => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { request, post, service } = setup(c.bindings);
    service.fail = c.fail ?? null;
    const res = c.method === "post" ? await post(c.path, c.body, c.headers) : await request(c.path);
    vi.restoreAllMocks();
    expect(res.status).toBe(c.status);
    const declared = doc.paths[c.doc ?? c.path][c.method].responses[String(res.status)];
    expect(declared, `status ${res.status} is not declared for ${c.method} ${c.path}`).toBeDefined();
    const type = res.headers.get("Content-Type") ?? "";
    const media = declared.content?.[type];
    expect(media, `${type} is not declared for ${res.status}`).toBeDefined();
    for (const name of Object.keys(declared.headers ?? {})) expect(res.headers.has(name), `header ${name}`).toBe(true);
    expect(validate(await res.json(), media!.schema, doc)).toEqual([]);
  });

  it("should be able to fail: the validator rejects bodies that break the document", () => {
    const schema = { $ref: "#/components/schemas/ClassifyResponse" };
    const good = { model: { name: "m", version: "1" }, results: [], usage: { tokens: 0, neurons_used: 0, neurons_available: 0, r2_reads: 0, bytes_fetched: 0, cache_hits: 0 } };
    expect(validate(good, schema, doc)).toEqual([]);
    expect(validate({ ...good, usage: { ...good.usage, r2_reads: 1.5 } }, schema, doc)).toEqual(["#/usage/r2_reads: expected integer, got 1.5"]);
    expect(validate({ model: good.model, results: [] }, schema, doc)).toEqual(['#: missing required "usage"']);
    expect(validate({ ...good, results: [{ label: "x" }] }, schema, doc).length).toBeGreaterThan(0);
    expect(validate({ code: "nope" }, { $ref: "#/components/schemas/Problem" }, doc)).toContain('#/code: not one of ' + JSON.stringify(Object.keys(PROBLEMS)));
  });
});
