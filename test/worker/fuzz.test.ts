/**
 * The fixed-seed subset of the HTTP fuzzer (scripts/lib/fuzz.ts; `npm run fuzz` runs any seed against a
 * URL): 1,200 generated requests through the Worker's entry point in workerd, over a bucket holding a
 * synthetic classifier under the default model's name, a synthetic embedding model under EMBED_MODEL's (what
 * embed requests without a model reach) and an MLM. The checks are the API's promises, not
 * recorded answers: no 5xx, no stack or path in a body, problem+json errors with a code, no 200 for a text
 * without content.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { checkResponse, defectCount, generateCase, runFuzz, toRequest } from "../../scripts/lib/fuzz.ts";
import { buildFixturePackage } from "../helpers/packages.ts";
import { TINY_CLASSIFIER, TINY_EMBEDDING, putPackage, synthPackage } from "../helpers/r2.ts";

beforeAll(async () => {
  const synth = await synthPackage(TINY_CLASSIFIER, { seed: 5, tileDepth: 3, rowsPerBlock: 16 });
  await putPackage(env.WEIGHTS, env.MODEL, "v1", synth);
  await putPackage(env.WEIGHTS, env.EMBED_MODEL, "v1", await synthPackage(TINY_EMBEDDING, { seed: 6, tileDepth: 3, rowsPerBlock: 16 }));
  await putPackage(env.WEIGHTS, "tiny-mlm", "v1", await buildFixturePackage("tiny", "q8"));
});

const send = (c: Parameters<typeof toRequest>[0]) => exports.default.fetch(toRequest(c, "http://worker"));

describe("HTTP fuzzer, fixed seeds", () => {
  it("generates the same requests for the same seed, different ones for another", () => {
    const a = JSON.stringify(Array.from({ length: 50 }, (_, i) => generateCase(1, i)), (_, v) => (v instanceof Uint8Array ? Array.from(v) : v));
    const b = JSON.stringify(Array.from({ length: 50 }, (_, i) => generateCase(1, i)), (_, v) => (v instanceof Uint8Array ? Array.from(v) : v));
    const c = JSON.stringify(Array.from({ length: 50 }, (_, i) => generateCase(2, i)), (_, v) => (v instanceof Uint8Array ? Array.from(v) : v));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it("the checker finds each defect class in answers that break a promise", () => {
    const c = { index: 0, kind: "no-content", method: "POST", path: "/v1/classify", headers: {}, noContent: true };
    const classes = (status: number, ct: string, body: string) => checkResponse(c, status, new Headers({ "content-type": ct }), body).map((d) => d.class);
    expect(classes(500, "application/problem+json", '{"code":"internal_error","status":500}')).toContain("5xx");
    expect(classes(400, "application/problem+json", '{"code":"x","status":400,"detail":"TypeError: boom\\n    at f (src/app.ts:1:2)"}')).toEqual(
      expect.arrayContaining(['leak: "Error:"', "leak: source path"]),
    );
    expect(classes(400, "text/plain", "Bad Request")).toContain("error body not JSON");
    expect(classes(422, "application/json", '{"status":422}')).toEqual(expect.arrayContaining(["error not problem+json", "problem without code"]));
    expect(classes(200, "application/json", '{"results":[]}')).toEqual(["200 for a text without content"]);
    expect(classes(422, "application/problem+json", '{"code":"no_content","status":422}')).toEqual([]);
  });

  for (const seed of [11, 12, 13]) {
    it(`seed ${seed}: 400 requests keep every promise`, async () => {
      // no bodies that fail mid-stream here: across exports.default.fetch workerd logs each as an uncaught
      // stream error of the test's side; test/http/body.test.ts checks that case (400 incomplete_body)
      const report = await runFuzz(seed, 400, send, { concurrency: 4 });
      expect(report.cases).toBe(400);
      // the mix reaches the classes it is meant to: answers, client errors and no-content texts
      expect(report.byStatus["200"]).toBeGreaterThan(20);
      expect(Object.keys(report.byKind).length).toBeGreaterThanOrEqual(14);
      expect(report.byStatus["422"]).toBeGreaterThan(0);
      expect(report.defects, JSON.stringify(report.defects, null, 1)).toEqual({});
      expect(defectCount(report)).toBe(0);
      expect(report.failures).toEqual({});
    }, 120_000);
  }
});
