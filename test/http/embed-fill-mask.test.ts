import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/http/limits.ts";
import { EmbedResponse, FillMaskResponse } from "../../src/http/schemas.ts";
import { CLASSIFIER, EMBEDDER, MLM } from "./fake-service.ts";
import { setup } from "./helpers.ts";

describe("POST /v1/embed", () => {
  it("should answer one vector per text, asking the service without a model (its embed default)", async () => {
    const { post, service } = setup();
    const res = await post("/v1/embed", { texts: ["the cat", "a dog barks"] });
    expect(res.status).toBe(200);
    const body = EmbedResponse.parse(await res.json());
    expect(body.model).toEqual({ name: EMBEDDER.name, version: EMBEDDER.version });
    expect(body.results).toHaveLength(2);
    for (const r of body.results) expect(r.vector).toHaveLength(EMBEDDER.config.hiddenSize);
    expect(service.calls[0].options?.model).toBeUndefined();
    expect(body.results.map((r) => r.tokens)).toEqual([4, 5]);
    expect(body.usage.tokens).toBe(9);
    expect(service.calls[0]).toMatchObject({ method: "embed", texts: ["the cat", "a dog barks"] });
  });

  it("should accept a single text and a model", async () => {
    const { post, service } = setup();
    const res = await post("/v1/embed", { text: "x", model: MLM.name });
    expect(res.status).toBe(200);
    const body = EmbedResponse.parse(await res.json());
    expect(body.model.name).toBe(MLM.name);
    expect(service.calls[0].options?.model).toBe(MLM.name);
  });

  it("should reject fields of other routes", async () => {
    const { post } = setup();
    const res = await post("/v1/embed", { text: "x", top_k: 3 });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_request", errors: [{ pointer: "#/top_k" }] });
  });
});

describe("POST /v1/fill-mask", () => {
  it("should answer candidates per mask, with the default top_k", async () => {
    const { post, service } = setup();
    const res = await post("/v1/fill-mask", { text: "paris is the [MASK] of [MASK]" });
    expect(res.status).toBe(200);
    const body = FillMaskResponse.parse(await res.json());
    expect(body.model).toEqual({ name: MLM.name, version: MLM.version });
    expect(body.results[0].masks.map((m) => m.position)).toEqual([4, 6]);
    expect(body.results[0].masks[0].candidates).toHaveLength(LIMITS.fillMaskTopKDefault);
    expect(body.results[0].masks[0].candidates[0]).toEqual({ token: "w0", id: 10, score: 0.5 });
    expect(service.calls[0].options?.topK).toBe(LIMITS.fillMaskTopKDefault);
  });

  it("should pass top_k", async () => {
    const { post } = setup();
    const res = await post("/v1/fill-mask", { texts: ["[MASK] b", "a [MASK]"], top_k: 2 });
    const body = FillMaskResponse.parse(await res.json());
    expect(body.results.map((r) => r.masks[0].candidates.length)).toEqual([2, 2]);
  });

  it.each([0, LIMITS.fillMaskTopKMax + 1, 2.5, "3"])("should answer 400 for top_k %j", async (topK) => {
    const { post, service } = setup();
    const res = await post("/v1/fill-mask", { text: "[MASK]", top_k: topK });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_request", errors: [{ pointer: "#/top_k" }] });
    expect(service.calls).toHaveLength(0);
  });

  it("should answer 422 invalid_input when the service finds no mask", async () => {
    const { post } = setup();
    const res = await post("/v1/fill-mask", { text: "no mask here" });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: "invalid_input", detail: "texts[0] has no [MASK] token" });
  });

  it("should answer 422 unsupported_task on a classifier", async () => {
    const { post } = setup();
    const res = await post("/v1/fill-mask", { text: "[MASK]", model: CLASSIFIER.name });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: "unsupported_task" });
  });
});
