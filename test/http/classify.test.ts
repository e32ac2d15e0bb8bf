import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.restoreAllMocks();
});
import { ClassifyResponse } from "../../src/http/schemas.ts";
import { CLASSIFIER, MLM } from "./fake-service.ts";
import { setup } from "./helpers.ts";

describe("POST /v1/classify", () => {
  it("should answer a single text as results[0], with the model echo and usage", async () => {
    const { post, service } = setup();
    const res = await post("/v1/classify", { text: "a fine film" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/json");
    const body = ClassifyResponse.parse(await res.json());
    expect(body.model).toEqual({ name: CLASSIFIER.name, version: CLASSIFIER.version });
    expect(body.results).toHaveLength(1);
    const [r] = body.results;
    expect(r.scores.map((s) => s.label).sort()).toEqual([...(CLASSIFIER.labels as string[])].sort());
    expect(r.label).toBe(r.scores[0].label);
    expect(r.score).toBe(r.scores[0].score);
    expect(r.tokens).toBe(5);
    expect(r.truncated).toBe(false);
    expect(r.explain).toBeUndefined();
    const { phases_ms, ...counts } = body.usage;
    expect(counts).toEqual({ tokens: 5, neurons_used: 30, neurons_available: 70, r2_reads: 2, bytes_fetched: 4096, cache_hits: 5 });
    // the fake service enters tokenize, compute and fetch (no load: the fake has nothing to open)
    expect(Object.keys(phases_ms ?? {}).sort()).toEqual(["compute", "fetch", "tokenize"]);
    expect(service.calls).toHaveLength(1);
    expect(service.calls[0].texts).toEqual(["a fine film"]);
    expect(service.calls[0].options).toMatchObject({ model: undefined, topK: undefined, explain: false });
  });

  it("should answer a batch in order, one result per text", async () => {
    const { post, service } = setup();
    const texts = ["one", "two words", "three little words"];
    const res = await post("/v1/classify", { texts });
    expect(res.status).toBe(200);
    const body = ClassifyResponse.parse(await res.json());
    expect(body.results.map((r) => r.tokens)).toEqual([3, 4, 5]);
    expect(body.usage.tokens).toBe(12);
    expect(service.calls[0].texts).toEqual(texts);
  });

  it("should be deterministic", async () => {
    const { post } = setup();
    // phases_ms are wall-clock times of this run (a busy machine makes tokenize 1 ms once): not part of the answer
    const answer = async () => {
      const body = (await (await post("/v1/classify", { text: "same text" })).json()) as { usage: { phases_ms?: unknown } };
      expect(body.usage.phases_ms).toBeDefined();
      delete body.usage.phases_ms;
      return body;
    };
    expect(await answer()).toEqual(await answer());
  });

  it("should pass model, top_k and explain to the service and echo the chosen model", async () => {
    const { post, service } = setup();
    const res = await post("/v1/classify", { text: "x y", model: "sst2-tiny", top_k: 2, explain: true });
    expect(res.status).toBe(200);
    const body = ClassifyResponse.parse(await res.json());
    expect(service.calls[0].options).toMatchObject({ model: "sst2-tiny", topK: 2, explain: true });
    expect(body.results[0].scores).toHaveLength(2);
    expect(body.results[0].scores[0].score).toBeGreaterThanOrEqual(body.results[0].scores[1].score);
  });

  it("should give the service a phase timer", async () => {
    const { post, service } = setup();
    await post("/v1/classify", { text: "x" });
    const timer = service.calls[0].options?.timer;
    expect(typeof timer?.start).toBe("function");
    expect(typeof timer?.end).toBe("function");
  });

  it("should render explain: per token, per layer, per tree node paths and neuron fractions", async () => {
    const { post } = setup();
    const res = await post("/v1/classify", { text: "hello world", explain: true });
    const body = ClassifyResponse.parse(await res.json());
    const explain = body.results[0].explain;
    expect(explain).toBeDefined();
    expect(explain?.tokens.map((t) => t.token)).toEqual(["[CLS]", "hello", "world", "[SEP]"]);
    for (const t of explain?.tokens ?? []) {
      expect(t.paths).toHaveLength(CLASSIFIER.config.numLayers);
      for (const layer of t.paths) {
        expect(layer).toHaveLength(CLASSIFIER.config.fffTrees);
        for (const path of layer) expect(path).toHaveLength(CLASSIFIER.config.fffDepth + 1);
      }
    }
    expect(explain?.neuron_fraction_per_layer).toHaveLength(CLASSIFIER.config.numLayers);
  });

  it("should report truncated texts", async () => {
    const { post } = setup();
    const res = await post("/v1/classify", { texts: ["short", "a b c d e f g h i j"] });
    const body = ClassifyResponse.parse(await res.json());
    expect(body.results.map((r) => r.truncated)).toEqual([false, true]);
    expect(body.results[1].tokens).toBe(CLASSIFIER.config.maxSeqLength);
  });

  it("should answer 422 unsupported_task for an MLM model", async () => {
    const { post } = setup();
    const res = await post("/v1/classify", { text: "x", model: MLM.name });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: "unsupported_task", status: 422 });
  });

  it("should answer 404 model_not_found for an unknown model", async () => {
    const { post } = setup();
    const res = await post("/v1/classify", { text: "x", model: "nope" });
    expect(res.status).toBe(404);
    const body = await res.json<{ code: string; detail: string }>();
    expect(body.code).toBe("model_not_found");
    expect(body.detail).toContain('"nope"');
  });

  it("should answer 500 when the service returns the wrong number of results", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const { post, service } = setup();
    service.dropOneResult = true;
    const res = await post("/v1/classify", { texts: ["a", "b"] });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ code: "internal_error" });
    expect(String(log.mock.calls[0][1])).toContain("returned 1 results for 2 texts");
  });
});
