/**
 * Storage faults, end to end: the app over a registry whose bucket injects faults (test/helpers/
 * faulty-bucket.ts). Each fault must give its documented status (docs/streaming.md §Faults), leak nothing
 * internal into the problem body, and leave the service able to answer the next good request: no poisoned
 * cache entry, no held lock or read slot, no half-loaded model.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { Engine } from "../../src/model/engine.ts";
import type { RegistryOptions } from "../../src/service/registry.ts";
import type { WeightPackage } from "../../src/weights/read/package.ts";
import { type FaultRule, gate } from "../helpers/faulty-bucket.ts";
import { newKernel } from "../helpers/packages.ts";
import { TINY_CLASSIFIER, putPackage, synthPackage } from "../helpers/r2.ts";
import { testService } from "../helpers/service.ts";
import { planEmbeddings, planFff } from "../helpers/reads.ts";

const NAME = "faults";
const WEIGHTS = `models/${NAME}/v1/weights.bin`;
const TEXT = "a warm, funny and moving film";
const TIMEOUT_MS = 150;

let pkg: WeightPackage;
let reference: Engine;
let expected: { label: string; score: number };

beforeAll(async () => {
  const built = await synthPackage(TINY_CLASSIFIER, { seed: 11, tileDepth: 3, rowsPerBlock: 16 });
  await putPackage(env.WEIGHTS, NAME, "v1", built);
  pkg = built.pkg;
  reference = await Engine.create(built.pkg, newKernel());
  const { logits } = await reference.run({ sequences: [{ ids: reference.tokenizer.encode(TEXT).ids }], logits: true });
  const l = Array.from(logits![0]);
  const best = l.indexOf(Math.max(...l));
  const z = l.reduce((s, v) => s + Math.exp(v - l[best]), 0);
  expected = { label: TINY_CLASSIFIER.labels![best], score: 1 / z };
});

// 5xx are logged with their cause (never sent): keep the log, quietly, to check what it says
let logged: unknown[][] = [];
beforeEach(() => {
  logged = [];
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void logged.push(args));
});
afterEach(() => vi.restoreAllMocks());

function setup(overrides: Partial<RegistryOptions> = {}) {
  // tiles on demand (wholeLayerBytes 0), so that a fault can hit one tile
  const { faulty, registry, post, get } = testService(NAME, { readTimeoutMs: TIMEOUT_MS, ...overrides });
  return { faulty, registry, classify: (body: Record<string, unknown> = { text: TEXT }) => post("/v1/classify", body), models: () => get("/v1/models") };
}

/** Nothing internal in a problem body: no keys, offsets, hashes, stack frames or the injected message. */
function expectSafeProblem(res: Response, body: any, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(body.code).toBe(code);
  expect(Object.keys(body).sort()).toEqual(["code", "detail", "request_id", "status", "title", "type"]);
  const text = JSON.stringify(body);
  for (const leak of [/INJECTED/, /models\//, /r2:/, /weights\.bin/, /tokenizer\.json/, /manifest/, /sha256/i, /[0-9a-f]{64}/, /\bat \S+/, /\.ts\b/, /Error\b/, /offset/, /bytes \d/]) {
    expect(text).not.toMatch(leak);
  }
  // only a 503 asks the client to come back (docs/operations.md)
  expect(res.headers.get("retry-after")).toBe(status === 503 ? "5" : null);
  // …while the log keeps the request id and the cause for whoever debugs it; a 4xx is not logged
  const entry = logged.find((args) => String(args[0]).includes(body.request_id));
  if (status >= 500) expect(entry !== undefined && entry[1] instanceof Error && (entry[1] as Error).cause !== undefined).toBe(true);
  else expect(entry).toBeUndefined();
}

function expectGood(r: { res: Response; body: any }) {
  expect(r.res.status).toBe(200);
  expect(r.body.results[0].label).toBe(expected.label);
  expect(r.body.results[0].score).toBeCloseTo(expected.score, 5);
}

const fffStart = () => pkg.fffSegments[0].offset;
const rootTile = (layer: number) => planFff(pkg, layer, 0, [0]).tiles[0];
const firstBlock = () => planEmbeddings(pkg, [reference.tokenizer.encode(TEXT).ids[0]]).blocks[0];

interface Case {
  fault: string;
  /** Load the model before injecting (the fault then hits a request's reads, not the load). */
  loaded?: boolean;
  rules: () => FaultRule[];
  status: number;
  code: string;
  /** The Worker's default model (MODEL may pin a version; request bodies cannot). */
  defaultModel?: string;
}

const MATRIX: Case[] = [
  { fault: "current pointer missing (unknown model)", rules: () => [{ name: "f", key: `models/${NAME}/current`, fault: { kind: "missing" } }], status: 404, code: "model_not_found" },
  { fault: "pinned version without a manifest (MODEL = name@version)", defaultModel: `${NAME}@v9`, rules: () => [], status: 404, code: "model_not_found" },
  { fault: "manifest missing behind current", rules: () => [{ name: "f", key: /manifest\.json$/, fault: { kind: "missing" } }], status: 503, code: "weights_unavailable" },
  { fault: "tokenizer missing", rules: () => [{ name: "f", key: /tokenizer\.json$/, fault: { kind: "missing" } }], status: 503, code: "weights_unavailable" },
  { fault: "weights.bin missing (head)", rules: () => [{ name: "f", op: "head", key: WEIGHTS, fault: { kind: "missing" } }], status: 503, code: "weights_unavailable" },
  { fault: "weights.bin gone after load (ranged get → null)", loaded: true, rules: () => [{ name: "f", key: WEIGHTS, fault: { kind: "missing" } }], status: 503, code: "weights_unavailable" },
  { fault: "weights.bin replaced after load (etag no longer matches)", loaded: true, rules: () => [{ name: "f", key: WEIGHTS, fault: { kind: "changed" } }], status: 503, code: "weights_unavailable" },
  { fault: "short read: dense segment", rules: () => [{ name: "f", key: WEIGHTS, covers: pkg.dense.offset, fault: { kind: "short" } }], status: 503, code: "weights_unavailable" },
  { fault: "short read: FFF tile", loaded: true, rules: () => [{ name: "f", key: WEIGHTS, from: fffStart(), fault: { kind: "short", drop: 1 } }], status: 503, code: "weights_unavailable" },
  { fault: "short read: embedding block", loaded: true, rules: () => [{ name: "f", key: WEIGHTS, covers: firstBlock().offset, fault: { kind: "short", drop: 16 } }], status: 503, code: "weights_unavailable" },
  { fault: "short body: tokenizer.json", rules: () => [{ name: "f", key: /tokenizer\.json$/, fault: { kind: "short", drop: 3 } }], status: 503, code: "weights_unavailable" },
  { fault: "get throws: current pointer", rules: () => [{ name: "f", key: `models/${NAME}/current`, fault: { kind: "throw" } }], status: 503, code: "weights_unavailable" },
  { fault: "get throws: manifest", rules: () => [{ name: "f", key: /manifest\.json$/, fault: { kind: "throw" } }], status: 503, code: "weights_unavailable" },
  { fault: "head throws: weights.bin", rules: () => [{ name: "f", op: "head", fault: { kind: "throw" } }], status: 503, code: "weights_unavailable" },
  { fault: "get throws: ranged FFF read", loaded: true, rules: () => [{ name: "f", key: WEIGHTS, from: fffStart(), fault: { kind: "throw" } }], status: 503, code: "weights_unavailable" },
  { fault: "corrupt: dense segment", rules: () => [{ name: "f", key: WEIGHTS, covers: pkg.dense.offset + 100, fault: { kind: "corrupt", at: pkg.dense.offset + 100 } }], status: 502, code: "weights_corrupt" },
  { fault: "corrupt: tokenizer.json", rules: () => [{ name: "f", key: /tokenizer\.json$/, fault: { kind: "corrupt", at: 40 } }], status: 502, code: "weights_corrupt" },
  { fault: "corrupt: embedding block", loaded: true, rules: () => [{ name: "f", key: WEIGHTS, covers: firstBlock().offset + 5, fault: { kind: "corrupt", at: firstBlock().offset + 5 } }], status: 502, code: "weights_corrupt" },
  { fault: "corrupt: FFF root tile of layer 2", loaded: true, rules: () => [{ name: "f", key: WEIGHTS, covers: rootTile(2).offset + 20, fault: { kind: "corrupt", at: rootTile(2).offset + 20 } }], status: 502, code: "weights_corrupt" },
];

describe("fault matrix: status, safe problem body, and the next good request", () => {
  for (const c of MATRIX) {
    it(`${c.fault} → ${c.status} ${c.code}`, async () => {
      const { faulty, registry, classify } = setup(c.defaultModel ? { defaultModel: c.defaultModel } : {});
      if (c.loaded) await registry.model();
      faulty.inject(...c.rules());
      const bad = await classify();
      expectSafeProblem(bad.res, bad.body, c.status, c.code);
      if (c.rules().length > 0) expect(faulty.count({ fault: "f" })).toBeGreaterThan(0);
      if (c.code === "weights_corrupt") {
        // exactly one re-read of the corrupt piece: two reads of the flipped byte, then the 502
        const at = (c.rules()[0].fault as { at: number }).at;
        const key = c.rules()[0].key!;
        expect(faulty.count({ op: "get", key, ...(typeof key === "string" ? { covers: at } : {}) })).toBe(2);
      }
      faulty.heal();
      expectGood(await classify({ text: TEXT, model: NAME }));
      const model = await registry.model(NAME);
      expect(model.limiter.inFlight).toBe(0);
      expect(model.cache.stats.usedBytes).toBeGreaterThan(0);
    });
  }

  it("a corrupt read that heals on the re-read answers 200, with exactly two reads of the piece", async () => {
    const { faulty, registry, classify } = setup();
    await registry.model();
    const at = rootTile(1).offset + 33;
    faulty.inject({ name: "f", key: WEIGHTS, covers: at, times: 1, fault: { kind: "corrupt", at } });
    expectGood(await classify());
    expect(faulty.count({ op: "get", key: WEIGHTS, covers: at })).toBe(2);
    expect(faulty.count({ fault: "f" })).toBe(1);
  });

  it("GET /v1/models answers 503 when listing throws, then lists again", async () => {
    const { faulty, models } = setup();
    faulty.inject({ name: "f", op: "list", fault: { kind: "throw" } });
    const bad = await models();
    expectSafeProblem(bad.res, bad.body, 503, "weights_unavailable");
    faulty.heal();
    const good = await models();
    expect(good.res.status).toBe(200);
    expect(good.body.models.map((m: any) => m.name)).toContain(NAME);
  });

  it("a failed load leaves no model behind: the next request loads it again from the start", async () => {
    const { faulty, classify } = setup();
    faulty.inject({ name: "f", key: WEIGHTS, covers: pkg.dense.offset, fault: { kind: "throw" } });
    expect((await classify()).res.status).toBe(503);
    faulty.heal().resetCalls();
    expectGood(await classify());
    expect(faulty.count({ op: "head", key: WEIGHTS })).toBe(1);
    expect(faulty.count({ op: "get", key: WEIGHTS, covers: pkg.dense.offset })).toBe(1);
  });
});

describe("slow storage: the per-read timeout", () => {
  it("a ranged read that never answers ends in 503 after the timeout, releasing its read slot and the model lock", async () => {
    const { faulty, registry, classify } = setup();
    const model = await registry.model();
    const held = gate();
    faulty.inject({ name: "f", key: WEIGHTS, from: fffStart(), fault: { kind: "slow", until: held.until } });
    const t0 = Date.now();
    const bad = await classify();
    const took = Date.now() - t0;
    expectSafeProblem(bad.res, bad.body, 503, "weights_unavailable");
    expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(took).toBeLessThan(TIMEOUT_MS * 10);
    // the stuck get is still pending inside the bucket, yet it holds no slot and no lock
    expect(model.limiter.inFlight).toBe(0);
    faulty.heal();
    const t1 = Date.now();
    expectGood(await classify());
    expect(Date.now() - t1).toBeLessThan(TIMEOUT_MS * 10);
    held.open();
  });

  it("a slow whole-object get (the current pointer, the manifest) ends in 503, then the model loads", async () => {
    for (const key of [`models/${NAME}/current`, /manifest\.json$/]) {
      const { faulty, classify } = setup();
      const held = gate();
      faulty.inject({ name: "f", key, fault: { kind: "slow", until: held.until } });
      const bad = await classify();
      expectSafeProblem(bad.res, bad.body, 503, "weights_unavailable");
      faulty.heal();
      expectGood(await classify());
      held.open();
    }
  });

  it("reads slower than usual but within the timeout still answer 200", async () => {
    const { faulty, classify } = setup({ readTimeoutMs: 2000 });
    faulty.inject({ name: "f", key: WEIGHTS, fault: { kind: "slow", until: new Promise((r) => setTimeout(r, 20)) } });
    expectGood(await classify());
  });
});
