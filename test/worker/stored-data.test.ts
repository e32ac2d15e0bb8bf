/**
 * Stored data is checked, not trusted (issue 11, item 2): the manifest of a content version must hash to
 * its version, a bad one is answered 502 and cached nowhere, and a repaired or replaced object is served
 * correctly by the same service (no restart).
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { Engine } from "../../src/model/engine.ts";
import { sha256Hex } from "../../src/weights/read/sha256.ts";
import { newKernel } from "../helpers/packages.ts";
import { TINY_CLASSIFIER, putPackage, synthPackage } from "../helpers/r2.ts";
import { testService } from "../helpers/service.ts";

const TEXT = "a warm, funny and moving film";
let built: Awaited<ReturnType<typeof synthPackage>>;
let version: string;
let expected: string;

beforeAll(async () => {
  built = await synthPackage(TINY_CLASSIFIER, { seed: 5, tileDepth: 3, rowsPerBlock: 16 });
  version = (await sha256Hex(new TextEncoder().encode(built.manifest))).slice(0, 12);
  const reference = await Engine.create(built.pkg, newKernel());
  const { logits } = await reference.run({ sequences: [{ ids: reference.tokenizer.encode(TEXT).ids }], logits: true });
  const l = Array.from(logits![0]);
  expected = TINY_CLASSIFIER.labels![l.indexOf(Math.max(...l))];
});

let logged: unknown[][] = [];
beforeEach(() => {
  logged = [];
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void logged.push(args));
});
/** Whether the request was logged as an error (console.error with its id). */
const isLogged = (requestId: string) => logged.some((args) => String(args[0]).includes(requestId));
afterEach(() => vi.restoreAllMocks());

describe("the manifest of a content version is verified against the version", () => {
  it("labels swapped in the stored manifest (valid JSON, same size) → 502 weights_corrupt, then 200 with the right label once restored", async () => {
    const name = "checked-manifest";
    await putPackage(env.WEIGHTS, name, version, built);
    const [a, b] = TINY_CLASSIFIER.labels!;
    const swapped = built.manifest.replace(`"${a}","${b}"`, `"${b}","${a}"`);
    expect(swapped).not.toBe(built.manifest);
    expect(swapped.length).toBe(built.manifest.length);
    const key = `models/${name}/${version}/manifest.json`;
    await env.WEIGHTS.put(key, swapped);
    const { post, get, faulty } = testService(name);
    const bad = await post("/v1/classify", { text: TEXT });
    expect(bad.res.status).toBe(502);
    expect(bad.body.code).toBe("weights_corrupt");
    expect(bad.res.headers.get("retry-after")).toBeNull(); // not transient: retrying will not help
    expect(isLogged(bad.body.request_id)).toBe(true);
    expect(faulty.count({ op: "get", key })).toBe(2); // one re-read, like every other piece
    expect((await get("/v1/models")).res.status).toBe(502); // the listing reads the same verified manifest
    await env.WEIGHTS.put(key, built.manifest);
    const good = await post("/v1/classify", { text: TEXT });
    expect(good.res.status).toBe(200);
    expect(good.body.results[0].label).toBe(expected);
  });
});

describe("an object replaced under a loaded model", () => {
  it("weights.bin replaced (its etag no longer matches): one 503, then the model is reloaded from the bucket and answers 200", async () => {
    const name = "replaced-weights";
    await putPackage(env.WEIGHTS, name, "v1", built);
    const { post, faulty } = testService(name);
    expect((await post("/v1/classify", { text: "a film" })).res.status).toBe(200);
    // what R2 answers a conditional get once the object was replaced (a new upload has a new etag)
    faulty.inject({ name: "replaced", key: `models/${name}/v1/weights.bin`, op: "get", times: 1, fault: { kind: "changed" } });
    const stale = await post("/v1/classify", { text: TEXT });
    expect(stale.res.status).toBe(503);
    expect(stale.body.code).toBe("weights_unavailable");
    expect(stale.res.headers.get("retry-after")).toBe("5");
    expect(isLogged(stale.body.request_id)).toBe(true);
    faulty.resetCalls();
    const good = await post("/v1/classify", { text: TEXT });
    expect(good.res.status).toBe(200);
    expect(good.body.results[0].label).toBe(expected);
    expect(faulty.count({ op: "head", key: `models/${name}/v1/weights.bin` })).toBe(1); // loaded again
  });
});
