/**
 * Streamed weights (the Worker's path) compute exactly what resident weights compute, read only the
 * pieces a request touches, and survive a cache too small to hold the model (evictions mid-request).
 */
import { describe, expect, it } from "vitest";
import { Engine } from "../../src/model/engine.ts";
import { loadStreamedWeights } from "../../src/model/streamed.ts";
import { BlockCache } from "../../src/weights/read/cache.ts";
import { MemorySource } from "../../src/weights/read/sources.ts";
import { WeightPackage } from "../../src/weights/read/package.ts";
import { fixtureJson } from "../helpers/fixtures.ts";
import { buildFixturePackage, newKernel } from "../helpers/packages.ts";
import { planEmbeddings, planFff } from "../helpers/reads.ts";

interface Case { name: string; input_ids: number[][]; attention_mask: number[][] | null; fff_paths: number[][][][][] }

async function streamedEngine(fixture: string, dtype: "f32" | "q8", cacheBytes: number, wholeLayerBytes = 0, rowsPerBlock = 16) {
  const built = await buildFixturePackage(fixture, dtype, { tileDepth: 2, rowsPerBlock });
  const pkg = await WeightPackage.open({ manifest: built.manifest, tokenizer: async () => built.tokenizer, weights: new MemorySource(built.weights) });
  const kernel = newKernel();
  const region = kernel.alloc(cacheBytes, 64);
  const cache = new BlockCache({ base: region, bytes: cacheBytes, write: (at, data) => kernel.u8(at, data.length).set(data) });
  const weights = await loadStreamedWeights(pkg, kernel, cache, { keyPrefix: `${fixture}`, wholeLayerBytes });
  const engine = await Engine.create(pkg, kernel, { weights });
  const resident = await Engine.create(built.pkg, newKernel());
  return { pkg, cache, engine, resident };
}

describe("streamed weights", () => {
  for (const fixture of ["tiny", "trees"]) {
    it(`give the same hidden states and paths as resident weights (${fixture}, q8, evicting cache)`, async () => {
      const expected = await fixtureJson<{ cases: Case[] }>(`reference/${fixture}/expected.json`);
      // room for one layer's tiles and one request's embedding rows, not the model: requests evict
      const { engine, resident, cache } = await streamedEngine(fixture, "q8", fixture === "tiny" ? 16 * 1024 : 40 * 1024, 0, 4);
      for (const c of expected.cases) {
        const sequences = c.input_ids.map((ids, b) => ({ ids, mask: c.attention_mask?.[b] }));
        const [a, b] = [await engine.run({ sequences, hidden: true, paths: true }), await resident.run({ sequences, hidden: true, paths: true })];
        expect(a.paths).toEqual(b.paths);
        a.hidden!.forEach((h, i) => expect(Array.from(h)).toEqual(Array.from(b.hidden![i])));
      }
      expect(cache.stats.evictions).toBeGreaterThan(0);
    });
  }

  it("reads only the tiles on the paths and the embedding blocks of the tokens, once", async () => {
    const expected = await fixtureJson<{ cases: Case[] }>("reference/trees/expected.json");
    const { pkg, engine } = await streamedEngine("trees", "f32", 4 << 20);
    const c = expected.cases.find((x) => x.name === "len7")!;
    const g = pkg.fff;
    pkg.resetStats();
    await engine.run({ sequences: [{ ids: c.input_ids[0] }] });
    // independent expectation: tiles named by the reference paths, blocks named by the ids
    let tileBytes = 0;
    c.fff_paths.forEach((layer) => {
      for (let t = 0; t < g.trees; t++) {
        const nodes = new Set<number>();
        layer[0].forEach((trees) => trees[t].forEach((n) => nodes.add(n)));
        tileBytes += planFff(pkg, 0, t, nodes).tiles.reduce((s, tile) => s + tile.length, 0);
      }
    });
    const blocks = new Set(c.input_ids[0].map((id) => Math.floor(id / pkg.embeddings.rowsPerBlock)));
    const embBytes = [...blocks].reduce((s, b) => s + Math.min(pkg.embeddings.rowsPerBlock, pkg.embeddings.rows - b * pkg.embeddings.rowsPerBlock) * pkg.embeddings.rowBytes, 0);
    expect(pkg.stats.bytes).toBe(tileBytes + embBytes);

    pkg.resetStats();
    await engine.run({ sequences: [{ ids: c.input_ids[0] }] });
    expect(pkg.stats.reads).toBe(0); // a repeated request is served from the cache
  });

  it("reads a small layer whole, once", async () => {
    const { pkg, engine } = await streamedEngine("tiny", "q8", 4 << 20, 1 << 20);
    pkg.resetStats();
    await engine.run({ sequences: [{ ids: [5, 6, 7] }] });
    const layerReads = pkg.stats.reads - 1; // one embedding block read
    expect(layerReads).toBe(pkg.config.numLayers);
  });
});

describe("streamed stores under concurrent use", () => {
  async function stores(wholeLayerBytes = 0) {
    const built = await buildFixturePackage("trees", "q8", { tileDepth: 2, rowsPerBlock: 16 });
    const pkg = await WeightPackage.open({ manifest: built.manifest, tokenizer: async () => built.tokenizer, weights: new MemorySource(built.weights) });
    const kernel = newKernel();
    const bytes = 4 << 20;
    const cache = new BlockCache({ base: kernel.alloc(bytes, 64), bytes, write: (at, data) => kernel.u8(at, data.length).set(data) });
    const weights = await loadStreamedWeights(pkg, kernel, cache, { keyPrefix: "trees", wholeLayerBytes });
    pkg.resetStats();
    const table = (layer: number, tree: number) => kernel.u32(weights.fff.table(layer, tree), pkg.fff.nodesPerTree);
    return { pkg, weights, table };
  }

  it("two concurrent ensure() of the same tiles cause one read", async () => {
    const { pkg, weights, table } = await stores();
    const nodes = [0, 2, 6, 13, 28];
    await Promise.all([weights.fff.ensure(1, 0, nodes), weights.fff.ensure(1, 0, nodes)]);
    const plan = planFff(pkg, 1, 0, nodes);
    expect(pkg.stats.reads).toBe(plan.ranges.length);
    expect(pkg.stats.bytes).toBe(plan.bytes);
    for (const n of nodes) expect(table(1, 0)[n]).not.toBe(0);
    weights.fff.release(1);
  });

  it("overlapping concurrent ensure() calls read the shared tile once", async () => {
    const { pkg, weights } = await stores();
    // tier-1 tiles rooted at 3, 4, 5 (tileDepth 2): {3, 4} and {4, 5} share tile 4
    await Promise.all([weights.fff.ensure(0, 1, [3, 4]), weights.fff.ensure(0, 1, [4, 5])]);
    expect(pkg.stats.bytes).toBe(planFff(pkg, 0, 1, [3, 4, 5]).bytes);
    weights.fff.release(0);
  });

  it("two concurrent ensure() on a small layer read it whole once", async () => {
    const { pkg, weights } = await stores(1 << 20);
    await Promise.all([weights.fff.ensure(2, 0, [0]), weights.fff.ensure(2, 1, [0, 1])]);
    expect(pkg.stats.reads).toBe(1);
    expect(pkg.stats.bytes).toBe(pkg.fffSegments[2].length);
    weights.fff.release(2);
  });

  it("two concurrent prepare() of the same ids cause one read per block range", async () => {
    const { pkg, weights } = await stores();
    const ids = [1, 2, 40, 41, 300];
    await Promise.all([weights.embeddings.prepare(ids), weights.embeddings.prepare(ids)]);
    const plan = planEmbeddings(pkg, ids);
    expect(pkg.stats.reads).toBe(plan.ranges.length);
    expect(pkg.stats.bytes).toBe(plan.bytes);
    weights.embeddings.release();
  });

  it("a failed load caches nothing: the next ensure() reads again and succeeds", async () => {
    const built = await buildFixturePackage("trees", "q8", { tileDepth: 2, rowsPerBlock: 16 });
    let fail = true;
    const inner = new MemorySource(built.weights);
    const source = { name: "flaky", size: inner.size, read: async (o: number, l: number) => (fail ? Promise.reject(new Error("down")) : inner.read(o, l)) };
    const pkg = await WeightPackage.open({ manifest: built.manifest, tokenizer: async () => built.tokenizer, weights: source });
    const kernel = newKernel();
    const bytes = 1 << 20;
    const cache = new BlockCache({ base: kernel.alloc(bytes, 64), bytes, write: (at, data) => kernel.u8(at, data.length).set(data) });
    fail = false;
    const weights = await loadStreamedWeights(pkg, kernel, cache, { keyPrefix: "t", wholeLayerBytes: 0 });
    fail = true;
    await expect(weights.fff.ensure(0, 0, [0, 1])).rejects.toThrow("down");
    weights.fff.release(0);
    expect(cache.stats.entries).toBe(0);
    fail = false;
    await weights.fff.ensure(0, 0, [0, 1]);
    expect(kernel.u32(weights.fff.table(0, 0), pkg.fff.nodesPerTree)[1]).not.toBe(0);
    weights.fff.release(0);
  });
});

describe("top-tier prefetch", () => {
  it("makes every tree's root tile resident during the load, and leaves it unpinned", async () => {
    const built = await buildFixturePackage("trees", "q8", { tileDepth: 2, rowsPerBlock: 16 });
    const pkg = await WeightPackage.open({ manifest: built.manifest, tokenizer: async () => built.tokenizer, weights: new MemorySource(built.weights) });
    const kernel = newKernel();
    const bytes = 1 << 20;
    const cache = new BlockCache({ base: kernel.alloc(bytes, 64), bytes, write: (at, data) => kernel.u8(at, data.length).set(data) });
    await loadStreamedWeights(pkg, kernel, cache, { keyPrefix: "p", wholeLayerBytes: 0, prefetchTopTier: true });
    for (let l = 0; l < pkg.config.numLayers; l++) for (let t = 0; t < pkg.config.fffTrees; t++) expect(cache.has(`p/fff/${l}/${t}/0`)).toBe(true);
    // unpinned: clear() can drop them all
    cache.clear();
    expect(cache.stats.entries).toBe(0);
  });
});
