import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.restoreAllMocks();
});
import { HealthResponse, ModelsResponse } from "../../src/http/schemas.ts";
import { CLASSIFIER, EMBEDDER, MLM } from "./fake-service.ts";
import { setup } from "./helpers.ts";

describe("GET /v1/models", () => {
  it("should list every model with config, labels, neurons and package size in snake_case", async () => {
    const { request } = setup();
    const res = await request("/v1/models");
    expect(res.status).toBe(200);
    const body = ModelsResponse.parse(await res.json());
    expect(body.models.map((m) => m.name)).toEqual([CLASSIFIER.name, MLM.name, EMBEDDER.name]);
    expect(body.models[0]).toEqual({
      name: "sst2-tiny",
      version: "3",
      kind: "classifier",
      tasks: ["classify", "embed"],
      default_for: ["classify", "fill-mask"],
      labels: ["negative", "neutral", "positive"],
      config: { hidden_size: 8, num_layers: 2, num_heads: 2, fff_trees: 1, fff_depth: 2, vocab_size: 100, max_seq_length: 8, pooler: "avg", normalize: null },
      neurons: { per_layer: 7, per_token_per_layer: 3 },
      package_bytes: 12345,
      dtype: "q8",
    });
    expect(body.models[1].labels).toBeNull();
    expect(body.models[1].config.pooler).toBeNull();
    expect(body.models[1].default_for).toEqual([]);
    expect(body.models[2]).toMatchObject({ kind: "embedding", tasks: ["embed"], default_for: ["embed"], labels: null, config: { pooler: "avg", normalize: "l2" } });
  });

  it("should answer HEAD like GET without a body", async () => {
    const { request } = setup();
    const res = await request("/v1/models", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  it("should answer 503 with Retry-After when the weight store cannot be read", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const { request, service } = setup();
    service.fail = "weights_unavailable";
    const res = await request("/v1/models");
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
    expect(log).toHaveBeenCalledTimes(1);
  });
});

describe("GET /healthz", () => {
  it("should answer ok without calling the service", async () => {
    const { request, service, factoryEnvs } = setup();
    service.fail = "weights_unavailable";
    const res = await request("/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(HealthResponse.parse(await res.json())).toEqual({ status: "ok" });
    expect(service.calls).toHaveLength(0);
    expect(factoryEnvs).toHaveLength(0);
  });

  it("should not require the API token", async () => {
    const { request } = setup({ API_TOKEN: "s3cret" });
    expect((await request("/healthz")).status).toBe(200);
    expect((await request("/openapi.json")).status).toBe(200);
  });
});
