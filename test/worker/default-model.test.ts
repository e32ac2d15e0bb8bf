/**
 * The shipped default model (wrangler.toml MODEL, weights/<MODEL>/) served by the Worker: it classifies
 * clearly positive and clearly negative sentences correctly, and a cold request — the model loaded from
 * scratch, nothing cached — stays within the Free plan's 50 subrequests. With the shipped embedding model
 * (EMBED_MODEL, when weights/<EMBED_MODEL>/ is there): a paraphrase is nearer than an unrelated sentence, and
 * both default models, loaded in one isolate, fit its memory with wrangler.toml's CACHE_MB.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { serviceOptions } from "../../src/service/index.ts";
import { parseManifest } from "../../src/weights/format/manifest.ts";
import { putPackage } from "../helpers/r2.ts";
import { testService } from "../helpers/service.ts";

async function shipped(file: string, name: string = env.MODEL): Promise<Uint8Array> {
  const res = await env.PACKAGES.fetch(`http://packages/${name}/${file}`);
  if (!res.ok) throw new Error(`weights/${name}/${file}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The embedding package is trained apart and added to weights/ when it exists (train/README.md). */
const EMBED_SHIPPED = (await env.PACKAGES.fetch(`http://packages/${env.EMBED_MODEL}/manifest.json`)).ok;
const MiB = 1024 * 1024;

const POSITIVE = [
  "a gorgeous, witty, seductive movie.",
  "one of the most moving and beautifully acted films of the year.",
  "an absolute delight from start to finish.",
  "a masterpiece: funny, warm and wise.",
];
const NEGATIVE = [
  "the plot is nothing but boilerplate clichés.",
  "a dull, lifeless and thoroughly boring mess.",
  "the worst film i have seen in years.",
  "painfully unfunny and far too long.",
];

beforeAll(async () => {
  for (const name of [env.MODEL, ...(EMBED_SHIPPED ? [env.EMBED_MODEL] : [])]) {
    const manifest = new TextDecoder().decode(await shipped("manifest.json", name));
    await putPackage(env.WEIGHTS, name, "shipped", { manifest, tokenizer: await shipped("tokenizer.json", name), weights: await shipped("weights.bin", name) });
  }
});

describe(`the shipped default model`, () => {
  it("labels clearly positive and clearly negative sentences correctly", async () => {
    const res = await exports.default.fetch(
      new Request("http://worker/v1/classify", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ texts: [...POSITIVE, ...NEGATIVE] }) }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model: { name: string }; results: { label: string; score: number }[] };
    expect(body.model.name).toBe(env.MODEL);
    expect(body.results.map((r) => r.label)).toEqual([...POSITIVE.map(() => "positive"), ...NEGATIVE.map(() => "negative")]);
  });

  it("fills masks with its tied MLM decoder (the shipped package has no separate MLM head)", async () => {
    const res = await exports.default.fetch(
      new Request("http://worker/v1/fill-mask", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ texts: ["this is one of the best movies i have ever <mask> .", "the acting was great but the <mask> was terrible ."] }) }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { masks: { candidates: { token: string }[] }[] }[] };
    const top = body.results.map((r) => r.masks[0].candidates.map((c) => c.token));
    expect(top[0]).toContain("seen");
    expect(top[1].some((t) => ["plot", "story", "script", "ending", "writing", "dialogue"].includes(t))).toBe(true);
  });

  it("serves a cold request within 50 R2 operations with the Worker's default settings", async () => {
    // the Worker's settings (R2 only: no Cache API), over a bucket wrapper that counts every call
    const { bucket: _, ...defaults } = serviceOptions({ WEIGHTS: env.WEIGHTS, MODEL: env.MODEL, CACHE_API: "off" });
    const { faulty, post } = testService(env.MODEL, defaults);
    const { res, body } = await post("/v1/classify", { text: POSITIVE[0] });
    expect(res.status).toBe(200);
    const operations = faulty.calls.length; // pointer, manifest, head, tokenizer, dense, FFF, embeddings
    expect(operations).toBeLessThanOrEqual(50);
    expect(body.usage.r2_reads).toBeLessThan(operations);
  });
});

describe.skipIf(!EMBED_SHIPPED)("the shipped embedding model (EMBED_MODEL)", () => {
  const post = async (path: string, body: unknown) =>
    (await exports.default.fetch(new Request(`http://worker${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }))).json() as Promise<any>;

  it("answers /v1/embed with unit vectors in which a paraphrase is nearer than an unrelated sentence", async () => {
    const body = await post("/v1/embed", { texts: ["the cat sat on the mat", "a cat was sitting on a mat", "stock markets fell sharply on monday"] });
    expect(body.model.name).toBe(env.EMBED_MODEL);
    const [a, b, c] = body.results.map((r: { vector: number[] }) => r.vector);
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i], 0);
    for (const v of [a, b, c]) expect(Math.abs(Math.sqrt(dot(v, v)) - 1)).toBeLessThan(1e-6);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
  });

  it("fits beside the classifier: each package's streamed part fits CACHE_MB (no eviction), both stay well inside the isolate", async () => {
    const budget = Number(env.CACHE_MB) * MiB;
    for (const name of [env.MODEL, env.EMBED_MODEL]) {
      const m = parseManifest(await shipped("manifest.json", name));
      const streamed = m.segments.filter((x) => x.kind !== "dense").reduce((n, x) => n + x.length, 0);
      expect(streamed, `${name}: embedding rows + FFF layers`).toBeLessThanOrEqual(budget);
    }
    await post("/v1/classify", { texts: ["a gorgeous, witty, seductive movie.", "the plot is nothing but boilerplate clichés."] });
    await post("/v1/embed", { texts: ["the cat sat on the mat", "stock markets fell sharply on monday"] });
    const { memory } = (await (await exports.default.fetch(new Request("http://worker/healthz?verbose=1"))).json()) as any;
    expect(memory.models.map((m: { id: string }) => m.id.split("@")[0]).sort()).toEqual([env.MODEL, env.EMBED_MODEL].sort());
    // two thirds of the isolate's 128 MB for kernel memory leaves the rest to the JS heap and the runtime
    expect(memory.totals.wasmBytes).toBeLessThan((2 / 3) * memory.isolateLimitBytes);
  });
});
