/**
 * I/O stays in its request (issue 11, item 1), through the Worker entry: every call below is a real,
 * separate request (`exports.default.fetch` → src/index.ts → the isolate's service), over the test
 * runtime's R2 binding with faults installed in it (test/helpers/faulty-bucket.ts `patchBinding`).
 *
 * A request's I/O (its R2 gets, their bodies, its timers) belongs to that request: once it has answered,
 * nothing it left pending will ever settle. So shared work must never leave a pending read, a held read
 * slot or an unsettled shared fill behind when the request that started it answers, and a request that
 * joins another's work must not wait for it without a deadline.
 */
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { Engine } from "../../src/model/engine.ts";
import type { WeightPackage } from "../../src/weights/read/package.ts";
import { synthVocabulary } from "../../src/weights/convert/synth-tokenizer.ts";
import { type FaultyBucket, patchBinding } from "../helpers/faulty-bucket.ts";
import { newKernel } from "../helpers/packages.ts";
import { TINY_CLASSIFIER, putPackage, synthPackage } from "../helpers/r2.ts";
import { planEmbeddings } from "../helpers/reads.ts";

const SEED = 23;
const READ_TIMEOUT_MS = 250;
/** A request that has not answered after this long is hung (every read is bounded by READ_TIMEOUT_MS). */
const HUNG_MS = 6000;

let pkg: WeightPackage;
let reference: Engine;
/** Words whose embedding rows lie in many blocks far apart: one request, many separate ranged reads. */
let spread: string;
const vars = env as unknown as Record<string, string | undefined>;
const saved = { READ_TIMEOUT_MS: vars.READ_TIMEOUT_MS };

beforeAll(async () => {
  const built = await synthPackage(TINY_CLASSIFIER, { seed: SEED, tileDepth: 3, rowsPerBlock: 16 });
  pkg = built.pkg;
  reference = await Engine.create(built.pkg, newKernel());
  for (const name of ["iso-hang", "iso-load", "iso-join"]) await putPackage(env.WEIGHTS, name, "v1", built);
  const words = synthVocabulary(TINY_CLASSIFIER.vocabSize, SEED)
    .map((w, id) => ({ w, id }))
    .filter(({ w, id }) => /^[a-z]{2,}$/.test(w) && reference.tokenizer.encode(w).ids.includes(id));
  const picked: typeof words = [];
  for (const x of words) if (picked.every((p) => Math.abs(p.id - x.id) >= 320)) picked.push(x);
  spread = picked.slice(0, 10).map((x) => x.w).join(" ");
});

let fresh = 0;
let patched: ReturnType<typeof patchBinding>;
let faulty: FaultyBucket;
beforeEach(() => {
  patched = patchBinding(env.WEIGHTS);
  faulty = patched.faulty;
  // a fresh service for this test (the key of src/service/index.ts includes the timeout), with short reads
  vars.READ_TIMEOUT_MS = String(READ_TIMEOUT_MS + fresh++);
  vi.spyOn(console, "error").mockImplementation(() => {}); // the 503s are logged with their cause
});
afterEach(() => {
  patched.restore();
  vars.READ_TIMEOUT_MS = saved.READ_TIMEOUT_MS;
  vi.restoreAllMocks();
});

const WEIGHTS = (name: string) => `models/${name}/v1/weights.bin`;

/** One request through the Worker entry; `hung` when it has not answered within HUNG_MS. */
async function classify(model: string, text: string): Promise<{ status: number | "hung"; body: any; requestId: string | null }> {
  const request = exports.default
    .fetch("https://worker.example/v1/classify", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text, model }) })
    .then(async (res) => ({ status: res.status as number | "hung", body: await res.json().catch(() => null), requestId: res.headers.get("x-request-id") }));
  const hung = new Promise<{ status: "hung"; body: null; requestId: null }>((resolve) => setTimeout(() => resolve({ status: "hung", body: null, requestId: null }), HUNG_MS));
  return Promise.race([request, hung]);
}

async function expectedLabel(text: string): Promise<string> {
  const { logits } = await reference.run({ sequences: [{ ids: reference.tokenizer.encode(text).ids }], logits: true });
  const l = Array.from(logits![0]);
  return TINY_CLASSIFIER.labels![l.indexOf(Math.max(...l))];
}

describe("a read that fails while others stall part-way (a truncated weights.bin)", () => {
  it("answers 503 every time, never hangs, and recovers once the bucket is repaired", async () => {
    const name = "iso-hang";
    expect((await classify(name, "a film")).status).toBe(200); // loaded: the next reads are a request's own
    const ids = reference.tokenizer.encode(spread).ids;
    const plan = planEmbeddings(pkg, ids, 4096);
    expect(plan.ranges.length).toBeGreaterThanOrEqual(8); // more separate reads than the 6 read slots
    const from = pkg.embeddings.offset;
    faulty.inject(
      { name: "boom", key: WEIGHTS(name), from, times: 1, fault: { kind: "throw" } },
      { name: "stall", key: WEIGHTS(name), from, fault: { kind: "stall" } },
    );
    for (let i = 0; i < 3; i++) {
      const r = await classify(name, spread);
      expect(r.status, `request ${i + 1} with the fault`).toBe(503);
      expect(r.body.code).toBe("weights_unavailable");
    }
    expect(faulty.count({ fault: "stall" })).toBeGreaterThan(0);
    faulty.heal();
    const good = await classify(name, spread);
    expect(good.status).toBe(200);
    expect(good.body.results[0].label).toBe(await expectedLabel(spread));
  });
});

describe("concurrent requests share work, not I/O", () => {
  it("requests that join a model load started by another request all answer 200 with their own request id", async () => {
    const name = "iso-load";
    faulty.inject({ name: "slow", key: WEIGHTS(name), fault: { kind: "delay", ms: 30 } });
    const texts = Array.from({ length: 8 }, (_, i) => `${spread.split(" ").slice(i, i + 3).join(" ")} film ${i}`);
    const answers = await Promise.all(texts.map((t) => classify(name, t)));
    for (const [i, a] of answers.entries()) {
      expect(a.status, `request ${i}: ${JSON.stringify(a.body)}`).toBe(200);
      expect(a.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(a.body.results[0].label).toBe(await expectedLabel(texts[i]));
    }
  });

  it("a request that owned a shared read and failed does not leave joiners waiting: they answer, and the next request reads again", async () => {
    const name = "iso-join";
    expect((await classify(name, "a film")).status).toBe(200);
    const from = pkg.embeddings.offset;
    // every embedding read stalls: the first request owns the fills, the others join them
    faulty.inject({ name: "stall", key: WEIGHTS(name), from, fault: { kind: "stall" } });
    const answers = await Promise.all([0, 1, 2, 3].map(() => classify(name, spread)));
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(a.body.code).toBe("weights_unavailable");
    }
    faulty.heal();
    const good = await classify(name, spread);
    expect(good.status).toBe(200);
    expect(good.body.results[0].label).toBe(await expectedLabel(spread));
  });
});
