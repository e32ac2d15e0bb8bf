/**
 * The shipped default model (wrangler.toml MODEL, weights/<MODEL>/) served by the Worker: it classifies
 * clearly positive and clearly negative sentences correctly, and a cold request — the model loaded from
 * scratch, nothing cached — stays within the Free plan's 50 subrequests.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { serviceOptions } from "../../src/service/index.ts";
import { putPackage } from "../helpers/r2.ts";
import { testService } from "../helpers/service.ts";

async function shipped(file: string): Promise<Uint8Array> {
  const res = await env.PACKAGES.fetch(`http://packages/${env.MODEL}/${file}`);
  if (!res.ok) throw new Error(`weights/${env.MODEL}/${file}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

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
  const manifest = new TextDecoder().decode(await shipped("manifest.json"));
  await putPackage(env.WEIGHTS, env.MODEL, "shipped", { manifest, tokenizer: await shipped("tokenizer.json"), weights: await shipped("weights.bin") });
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
