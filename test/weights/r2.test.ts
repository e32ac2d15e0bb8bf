import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { WeightPackage } from "../../src/weights/read/package.ts";
import { R2Source } from "../../src/weights/read/sources.ts";
import { buildPackage, fixtureFiles } from "./helpers.ts";
import { planFff } from "../helpers/reads.ts";

describe("a package in R2, read by ranges", () => {
  it("should open, plan and read verified tiles through R2 ranged gets", async () => {
    const built = await buildPackage(await fixtureFiles("trees"), "q8");
    const prefix = "models/trees/1/";
    const put = await env.WEIGHTS.put(`${prefix}weights.bin`, built.weights);
    await env.WEIGHTS.put(`${prefix}manifest.json`, built.manifestText);
    await env.WEIGHTS.put(`${prefix}tokenizer.json`, built.tokenizer);
    const pkg = await WeightPackage.open({
      manifest: async () => (await env.WEIGHTS.get(`${prefix}manifest.json`))!.text(),
      tokenizer: async () => new Uint8Array(await (await env.WEIGHTS.get(`${prefix}tokenizer.json`))!.arrayBuffer()),
      weights: new R2Source(env.WEIGHTS, `${prefix}weights.bin`, { size: put!.size, etag: put!.etag }),
    });
    const plan = planFff(pkg, 2, 1, [0, 2, 6, 13, 28, 30]);
    const tiles = await pkg.readFffTiles(2, 1, plan.tiles.map((t) => t.tile.id));
    expect(tiles.size).toBe(plan.tiles.length);
    expect(pkg.stats.reads).toBe(plan.ranges.length);
    expect((await pkg.readTokenizer()).length).toBe(built.tokenizer.length);
    expect((await pkg.readDense()).length).toBe(pkg.dense.length);

    // the object is replaced: reads with the old etag are refused, not mixed
    await env.WEIGHTS.put(`${prefix}weights.bin`, built.weights.slice().reverse());
    await expect(pkg.readFffTiles(2, 1, [0])).rejects.toThrow(/r2:models\/trees\/1\/weights\.bin: object changed/);
  });
});
