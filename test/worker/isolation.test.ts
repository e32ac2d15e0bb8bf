/**
 * I/O stays in its request (issue 11, item 1), through the Worker entry: every call below is a real,
 * separate request (`exports.default.fetch` → src/index.ts → the isolate's service), over the test
 * runtime's R2 binding with faults installed in it (test/helpers/faulty-bucket.ts `patchBinding`).
 *
 * A request's I/O (its R2 gets, their bodies, its timers) belongs to that request: once it has answered,
 * nothing it left pending will ever settle. So shared work must never leave a pending read, a held read
 * slot or an unsettled shared fill behind when the request that started it answers, and a request that
 * joins another's work must not wait for it without a deadline.
 *
 * That rule is the runtime's, and this runtime enforces it: "the runtime refuses I/O shared between
 * requests" first runs a deliberately wrong variant (the bucket hands one request's R2 object to the next,
 * as a read layer sharing in-flight objects would) and sees the runtime's own error, then runs the same
 * requests over the same faults through the real read path, which must answer 200. Were the Worker to
 * share a stream or an unsettled read between requests, those 200s would be this error's 503s, or hangs.
 */
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { Engine } from "../../src/model/engine.ts";
import { LimitedSource } from "../../src/weights/read/limiter.ts";
import type { WeightPackage } from "../../src/weights/read/package.ts";
import { synthVocabulary } from "../../src/weights/convert/synth-tokenizer.ts";
import { type FaultyBucket, INJECTED, patchBinding } from "../helpers/faulty-bucket.ts";
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
  for (const name of ["iso-hang", "iso-load", "iso-join", "iso-shared", "iso-own", "iso-slot-a", "iso-slot-b"]) await putPackage(env.WEIGHTS, name, "v1", built);
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
let logged: unknown[][] = [];
beforeEach(() => {
  patched = patchBinding(env.WEIGHTS);
  faulty = patched.faulty;
  // a fresh service for this test (the key of src/service/index.ts includes the timeout), with short reads
  vars.READ_TIMEOUT_MS = String(READ_TIMEOUT_MS + fresh++);
  logged = [];
  // the 503s are logged with their cause: kept, to check what the log says
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void logged.push(args));
});
afterEach(() => {
  patched.restore();
  vars.READ_TIMEOUT_MS = saved.READ_TIMEOUT_MS;
  vi.restoreAllMocks();
});

const WEIGHTS = (name: string) => `models/${name}/v1/weights.bin`;

interface Answer {
  status: number | "hung";
  body: any;
  requestId: string | null;
  retryAfter: string | null;
}

/** One request through the Worker entry; `hung` when it has not answered within HUNG_MS. */
async function classify(model: string, text: string): Promise<Answer> {
  const request = exports.default
    .fetch("https://worker.example/v1/classify", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text, model }) })
    .then(async (res) => ({ status: res.status, body: await res.json().catch(() => null), requestId: res.headers.get("x-request-id"), retryAfter: res.headers.get("retry-after") }));
  const hung = new Promise<Answer>((resolve) => setTimeout(() => resolve({ status: "hung", body: null, requestId: null, retryAfter: null }), HUNG_MS));
  return Promise.race([request, hung]);
}

/** The log line of a request (by its id) with the messages of its cause chain, or undefined. */
function logOf(requestId: string): string | undefined {
  const entry = logged.find((args) => String(args[0]).includes(requestId));
  if (!entry) return undefined;
  const parts = [String(entry[0])];
  for (let e: unknown = entry[1]; e instanceof Error; e = e.cause) parts.push(e.message);
  return parts.join(" | ");
}

/** The documented answer to a storage fault (docs/operations.md): 503 weights_unavailable, Retry-After 5, logged. */
function expectUnavailable(a: Answer, what: string) {
  expect(a.status, `${what}: ${JSON.stringify(a.body)}`).toBe(503);
  expect(a.body.code).toBe("weights_unavailable");
  expect(a.retryAfter).toBe("5");
  expect(a.requestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(logOf(a.requestId!), `${what}: logged as an error`).toBeDefined();
}

/** What workerd says when a request touches an I/O object (a stream, a body) that another request created. */
const CROSS_REQUEST = /Cannot perform I\/O on behalf of a different request/;

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
    for (let i = 0; i < 3; i++) expectUnavailable(await classify(name, spread), `request ${i + 1} with the fault`);
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
    for (const [i, a] of answers.entries()) expectUnavailable(a, `request ${i}`);
    faulty.heal();
    const good = await classify(name, spread);
    expect(good.status).toBe(200);
    expect(good.body.results[0].label).toBe(await expectedLabel(spread));
  });
});

describe("the runtime refuses I/O shared between requests", () => {
  /**
   * Two waves of four concurrent requests for a model whose first load fails part-way (the dense read
   * throws once, after the tokenizer and the top FFF tier were read): the first wave's requests start or
   * join that load, the second wave's load the model again. With `share`, the bucket answers a repeated
   * read with the R2 object an earlier request fetched.
   */
  async function twoWaves(name: string, share: boolean): Promise<Answer[][]> {
    faulty.inject({ name: "boom", key: WEIGHTS(name), covers: pkg.dense.offset, times: 1, fault: { kind: "throw" } });
    if (share) faulty.inject({ name: "shared", key: new RegExp(`^models/${name}/v1/(tokenizer\\.json|weights\\.bin)$`), fault: { kind: "shared" } });
    const texts = ["a film", spread, "a warm film", spread.split(" ").slice(2, 6).join(" ")];
    const waves: Answer[][] = [];
    for (let w = 0; w < 2; w++) waves.push(await Promise.all(texts.map((t) => classify(name, t))));
    expect(faulty.count({ fault: "boom" })).toBe(1);
    return waves;
  }

  it("wrong on purpose: a request reading an R2 object that another request fetched fails with the runtime's error", async () => {
    const [first, second] = await twoWaves("iso-shared", true);
    expect(faulty.count({ fault: "shared" })).toBeGreaterThan(0);
    // no answer hangs and none is a runtime 500: the read fails, the app answers
    for (const [i, a] of [...first, ...second].entries()) expectUnavailable(a, `request ${i}`);
    // the second wave loads again and meets the first wave's objects: the runtime refuses to read them
    const refused = second.filter((a) => CROSS_REQUEST.test(logOf(a.requestId!) ?? ""));
    expect(refused.length, logged.map((l) => String(l[0])).join("\n")).toBeGreaterThan(0);
  });

  it("the real path: the same requests over the same fault, each reading its own objects, answer 200 once the fault is gone", async () => {
    const [first, second] = await twoWaves("iso-own", false);
    // the request that owned the failed load, and any that joined it, answer 503; a request that came after it
    // loads again and answers 200
    expect(first.filter((a) => a.status === 503).length).toBeGreaterThan(0);
    for (const [i, a] of first.entries()) if (a.status !== 200) expectUnavailable(a, `first wave, request ${i}`);
    for (const [i, a] of [...first, ...second].entries()) {
      if (a.status !== 200) continue;
      expect(a.body.results[0].label, `request ${i}`).toBe(await expectedLabel(i % 4 === 1 ? spread : ["a film", spread, "a warm film", spread.split(" ").slice(2, 6).join(" ")][i % 4]!));
    }
    for (const [i, a] of second.entries()) expect(a.status, `second wave, request ${i}: ${JSON.stringify(a.body)}`).toBe(200);
    expect(logged.filter((args) => CROSS_REQUEST.test(String(args[0]) + String((args[1] as Error | undefined)?.message))).length).toBe(0);
  });
});

/** A limiter with one slot, as the scenario below uses it: run `job` (a read) when a slot is free. */
interface SlotLimiter {
  read(job: () => Promise<Uint8Array>): Promise<Uint8Array>;
}

/** The real LimitedSource (its reads are offset + length: here the offset names the job). */
function limitedSource(limit: number): SlotLimiter & { limiter: LimitedSource } {
  const jobs = new Map<number, () => Promise<Uint8Array>>();
  let next = 0;
  const limiter = new LimitedSource({ name: "one slot", read: (id) => jobs.get(id)!() }, limit, { waitTimeoutMs: 3 * READ_TIMEOUT_MS });
  return {
    limiter,
    async read(job) {
      const id = next++;
      jobs.set(id, job);
      try {
        return await limiter.read(id, 1);
      } finally {
        jobs.delete(id);
      }
    },
  };
}

/**
 * Wrong on purpose: the limiter as it was before, a queue of resolvers. A read that ends resolves the promise
 * its first waiter created, so the waiter resumes in the continuation of the read that ended.
 */
class ResolverQueue implements SlotLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  async read(job: () => Promise<Uint8Array>): Promise<Uint8Array> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await job();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * Puts the ranged reads of the named models' weights.bin under `slot` (in place of the R2 binding's get);
 * `job` reads for the request that called get. Returns the function that takes the patch off.
 */
function routeThrough(slot: SlotLimiter, owners: Record<string, string>, job: (owner: string, read: () => Promise<Uint8Array>) => Promise<Uint8Array>, queued?: (owner: string) => void): () => void {
  const original = env.WEIGHTS.get.bind(env.WEIGHTS);
  const target = env.WEIGHTS as unknown as Record<string, unknown>;
  const own = Object.prototype.hasOwnProperty.call(target, "get") ? target.get : undefined;
  target.get = async (key: string, options?: R2GetOptions) => {
    const owner = owners[key];
    if (owner === undefined || !options?.range) return original(key, options);
    const read = async () => new Uint8Array(await ((await original(key, options)) as R2ObjectBody).arrayBuffer());
    const reading = slot.read(() => job(owner, read));
    queued?.(owner);
    const bytes = await reading;
    const { offset } = options.range as { offset: number };
    return { key, size: bytes.length, etag: "", httpEtag: "", range: { offset, length: bytes.length }, arrayBuffer: async () => bytes.slice().buffer } as unknown as R2ObjectBody;
  };
  return () => {
    if (own === undefined) delete target.get;
    else target.get = own;
  };
}

describe("a read slot passed between requests", () => {
  /**
   * The Worker's own limiter serves one run at a time (the engine's turn), so here the reads of two models
   * (two engines, two requests running at once) go through one limiter with a single slot, put under the
   * R2 binding: request A's first read holds the slot until request B's read waits for it, then fails, so
   * A answers 503 while B's reads still wait. Each read is the real R2 get and its body, read in whichever
   * request the limiter resumes.
   */
  async function twoRequests(slot: SlotLimiter): Promise<{ a: Answer; b: Answer | "cancelled"; order: string }> {
    const owners = { [WEIGHTS("iso-slot-a")]: "A", [WEIGHTS("iso-slot-b")]: "B" };
    for (const name of ["iso-slot-a", "iso-slot-b"]) expect((await classify(name, "a film")).status).toBe(200);
    const order: string[] = [];
    let failed = false;
    let bWaiting = false;
    let inside = 0;
    let most = 0;
    const restore = routeThrough(
      slot,
      owners,
      async (owner, read) => {
        inside++;
        most = Math.max(most, inside);
        order.push(owner);
        try {
          if (owner === "A" && !failed) {
            failed = true;
            // hold the slot until B queues behind it; A's own timer keeps A from looking hung meanwhile
            while (!bWaiting) await new Promise((resolve) => setTimeout(resolve, 1));
            throw new Error(`${INJECTED}: read failed part-way`);
          }
          return await read();
        } finally {
          inside--;
        }
      },
      (owner) => void (owner === "B" && (bWaiting = true)),
    );
    try {
      const [a, b] = await Promise.all([classify("iso-slot-a", spread), classify("iso-slot-b", spread).catch(() => "cancelled" as const)]);
      expect(most).toBe(1);
      return { a, b, order: order.join("") };
    } finally {
      restore();
    }
  }

  it("wrong on purpose: a waiter resumed by the request whose read ended reads as that request, and B never completes", async () => {
    const { a, b, order } = await twoRequests(new ResolverQueue(1));
    expectUnavailable(a, "A");
    expect(order).toMatch(/^A+B/); // A handed the slot to B, and B's read began…
    // …as A's I/O, which ended with A: the runtime cancels B as hung
    expect(b === "cancelled" || b.status === "hung", JSON.stringify(b)).toBe(true);
  });

  it("the real LimitedSource: A fails part-way, B completes, and the slot is free for C", async () => {
    const slot = limitedSource(1);
    const { a, b, order } = await twoRequests(slot);
    expectUnavailable(a, "A");
    expect(b).not.toBe("cancelled");
    const answer = b as Answer;
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.results[0].label).toBe(await expectedLabel(spread));
    expect(order).toMatch(/^A+B/); // B's reads waited for A's slot: it passed from request A to request B
    expect(slot.limiter.inFlight).toBe(0);
    expect(slot.limiter.queued).toBe(0);
    // nothing leaked: with one slot, a leaked slot would leave every later read waiting
    const text = spread.split(" ").reverse().join(" ");
    const restore = routeThrough(slot, { [WEIGHTS("iso-slot-a")]: "C" }, (_, read) => read());
    try {
      const c = await classify("iso-slot-a", text);
      expect(c.status, JSON.stringify(c.body)).toBe(200);
      expect(c.body.results[0].label).toBe(await expectedLabel(text));
    } finally {
      restore();
    }
    expect(slot.limiter.inFlight).toBe(0);
  });
});
