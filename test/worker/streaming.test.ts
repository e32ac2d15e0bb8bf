/**
 * Streaming properties of the Worker path, measured from outside: the bucket wrapper counts every R2 get
 * (independently of the service's usage block), and the bytes a request *should* read are computed here
 * from the FFF paths the engine reports (`explain: true`) and the token ids, with the tile arithmetic of
 * docs/format.md §6.3 written out again (not the planner's). The bounds asserted are the ones
 * docs/streaming.md documents.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../src/model/engine.ts";
import type { WeightPackage } from "../../src/weights/read/package.ts";
import { buildFixturePackage, newKernel } from "../helpers/packages.ts";
import { TINY_CLASSIFIER, putPackage, synthPackage } from "../helpers/r2.ts";
import { type TestService, testService } from "../helpers/service.ts";

const CLS = "stream-cls";
const MLM = "stream-mlm";
const TEXTS = ["a warm, funny and moving film", "dull and lifeless", "it is what it is, no more and no less"];
const MASKED = "hello <mask> world, the <mask> is here";

let cls: { pkg: WeightPackage; engine: Engine };
let mlm: { pkg: WeightPackage; engine: Engine };

beforeAll(async () => {
  const a = await synthPackage(TINY_CLASSIFIER, { seed: 5, tileDepth: 3, rowsPerBlock: 16 });
  await putPackage(env.WEIGHTS, CLS, "v1", a);
  cls = { pkg: a.pkg, engine: await Engine.create(a.pkg, newKernel()) };
  const b = await buildFixturePackage("tiny", "q8", { tileDepth: 2, rowsPerBlock: 16 });
  await putPackage(env.WEIGHTS, MLM, "v1", b);
  mlm = { pkg: b.pkg, engine: await Engine.create(b.pkg, newKernel()) };
});

/** Ranged gets of weights.bin since the last resetCalls: count and bytes, split by segment kind. */
function r2Reads(s: TestService, pkg: WeightPackage) {
  const fffStart = pkg.fffSegments[0].offset;
  const e = pkg.embeddings;
  const ranges = s.faulty.ranges(/weights\.bin$/).map((r) => r!);
  const part = (keep: (r: { offset: number }) => boolean) => {
    const rs = ranges.filter(keep);
    return { reads: rs.length, bytes: rs.reduce((n, r) => n + r.length, 0) };
  };
  return {
    all: part(() => true),
    fff: part((r) => r.offset >= fffStart),
    emb: part((r) => r.offset >= e.offset && r.offset < e.offset + e.length),
  };
}

/** What a request touches, from its paths and ids, per docs/format.md §6 (independent of src/weights/read/planner.ts). */
function touched(pkg: WeightPackage, explained: { paths: number[][][] }[][], ids: number[][]) {
  const g = pkg.fff;
  const levels = pkg.config.fffDepth + 1;
  const td = pkg.fffSegments[0].tileDepth;
  const tiers = Math.ceil(levels / td);
  const records = new Set<string>();
  const tiles = new Map<string, number>(); // key → records per tile (R_k)
  const recordsPerTier = new Array<number>(tiers).fill(0);
  const tilesPerTier = new Array<number>(tiers).fill(0);
  for (const text of explained) {
    for (const token of text) {
      token.paths.forEach((trees, layer) =>
        trees.forEach((path, tree) => {
          expect(path).toHaveLength(levels);
          for (const n of path) {
            const d = 31 - Math.clz32(n + 1);
            const k = Math.floor(d / td);
            const f = k * td;
            const root = Math.floor((n + 1) / 2 ** (d - f)) - 1;
            const dk = Math.min(td, levels - f);
            if (!records.has(`${layer}/${tree}/${n}`)) {
              records.add(`${layer}/${tree}/${n}`);
              recordsPerTier[k]++;
            }
            const tile = `${layer}/${tree}/${k}/${root}`;
            if (!tiles.has(tile)) {
              tiles.set(tile, 2 ** dk - 1);
              tilesPerTier[k]++;
            }
          }
        }),
      );
    }
  }
  const e = pkg.embeddings;
  const rows = new Set(ids.flat());
  const blocks = new Set([...rows].map((id) => Math.floor(id / e.rowsPerBlock)));
  const rowWidth = e.cols * (e.dtype === "q8" ? 1 : 4);
  const tileBytes = [...tiles.values()].reduce((s, r) => s + r * g.recordBytes, 0);
  // documented bound: a touched tile of tier k holds ≥ d_k touched records (a path crosses d_k of its levels)
  const tileBound = recordsPerTier.reduce((s, r, k) => {
    const dk = Math.min(td, levels - k * td);
    return s + (r * (2 ** dk - 1) * g.recordBytes) / dk;
  }, 0);
  return {
    layersTrees: pkg.config.numLayers * g.trees,
    tiers,
    records: records.size,
    recordBytes: records.size * g.recordBytes,
    recordsPerTier,
    tilesPerTier,
    tiles: tiles.size,
    tileBytes,
    tileBound,
    rows: rows.size,
    rowBytes: rows.size * rowWidth,
    blocks: blocks.size,
    blockBytes: [...blocks].reduce((s, b) => s + Math.min(e.rowsPerBlock, e.rows - b * e.rowsPerBlock) * e.rowBytes, 0),
    blockBound: rows.size * e.rowsPerBlock * e.rowBytes,
  };
}

async function coldClassify(s: TestService) {
  await s.registry.model(); // the load (manifest, tokenizer, dense) is not part of a request's usage
  s.faulty.resetCalls();
  const { res, body } = await s.post("/v1/classify", { texts: TEXTS, explain: true });
  expect(res.status).toBe(200);
  const ids = TEXTS.map((t) => cls.engine.tokenizer.encode(t).ids);
  const t = touched(cls.pkg, body.results.map((r: any) => r.explain.tokens), ids);
  return { body, t, r2: r2Reads(s, cls.pkg) };
}

describe("a repeated request performs no R2 read", () => {
  const routes: [string, string, () => Record<string, unknown>][] = [
    ["classify", CLS, () => ({ texts: TEXTS })],
    ["embed", CLS, () => ({ texts: TEXTS })],
    ["embed", MLM, () => ({ text: MASKED, model: MLM })],
    ["fill-mask", MLM, () => ({ text: MASKED, model: MLM, top_k: 3 })],
  ];
  for (const [route, model, body] of routes) {
    it(`/v1/${route} on ${model}`, async () => {
      const s = testService(model);
      const first = await s.post(`/v1/${route}`, body());
      expect(first.res.status).toBe(200);
      expect(first.body.usage.r2_reads).toBeGreaterThan(0);
      s.faulty.resetCalls();
      const second = await s.post(`/v1/${route}`, body());
      expect(second.body.usage).toMatchObject({ r2_reads: 0, bytes_fetched: 0 });
      expect(second.body.usage.cache_hits).toBeGreaterThan(0);
      expect(s.faulty.count({ op: "get" })).toBe(0);
      expect(second.body.results).toEqual(first.body.results);
    });
  }
});

describe("concurrent identical requests share their reads", () => {
  it("N requests at once on a fresh model read what one request reads (load included)", async () => {
    const one = testService(CLS);
    const single = await one.post("/v1/classify", { texts: TEXTS });
    const singleGets = one.faulty.count({ op: "get", key: /weights\.bin$/ });

    const many = testService(CLS);
    const N = 5;
    const answers = await Promise.all(Array.from({ length: N }, () => many.post("/v1/classify", { texts: TEXTS })));
    for (const a of answers) {
      expect(a.res.status).toBe(200);
      expect(a.body.results).toEqual(single.body.results);
    }
    expect(many.faulty.count({ op: "get", key: /weights\.bin$/ })).toBe(singleGets);
    expect(many.faulty.count({ op: "head" })).toBe(1);
    expect(many.faulty.count({ op: "get", key: /manifest\.json$/ })).toBe(1);
    expect(many.faulty.count({ op: "get", key: /tokenizer\.json$/ })).toBe(1);
    const reads = answers.map((a) => a.body.usage.r2_reads);
    expect(reads.reduce((x: number, y: number) => x + y, 0)).toBe(single.body.usage.r2_reads);
    expect(reads.filter((r: number) => r > 0)).toHaveLength(1);
  });
});

describe("a cold request reads within the documented bounds", () => {
  it("tiles on demand, maxGap 0: exactly the touched tiles and embedding blocks", async () => {
    const s = testService(CLS, { maxGap: 0, wholeLayerBytes: 0 });
    const { body, t, r2 } = await coldClassify(s);
    // the usage block agrees with the bucket's own count
    expect(body.usage.r2_reads).toBe(r2.all.reads);
    expect(body.usage.bytes_fetched).toBe(r2.all.bytes);
    // bytes: exactly the tiles and blocks that the paths and ids name
    expect(r2.fff.bytes).toBe(t.tileBytes);
    expect(r2.emb.bytes).toBe(t.blockBytes);
    expect(r2.all.bytes).toBe(t.tileBytes + t.blockBytes);
    // documented amplification bounds: per tier R_k/d_k records read per record used; ≤ rowsPerBlock rows per row used
    expect(t.tileBytes).toBeLessThanOrEqual(t.tileBound);
    expect(t.blockBytes).toBeLessThanOrEqual(t.blockBound);
    // reads: at least one per (layer, tree, tier) (a tier waits for the one above), at most one per piece
    expect(r2.fff.reads).toBeGreaterThanOrEqual(t.layersTrees * t.tiers);
    expect(r2.fff.reads).toBeLessThanOrEqual(t.tiles);
    expect(r2.emb.reads).toBeGreaterThanOrEqual(1);
    expect(r2.emb.reads).toBeLessThanOrEqual(t.blocks);
    console.log(
      `[read bounds] tiles mode, maxGap 0: ${t.records} records (${t.recordBytes} B) in ${t.tiles} tiles (per tier ${t.tilesPerTier.join("/")}) = ${t.tileBytes} B ` +
        `(×${(t.tileBytes / t.recordBytes).toFixed(2)}, bound ${t.tileBound.toFixed(0)} B); ${t.rows} rows (${t.rowBytes} B) in ${t.blocks} blocks = ${t.blockBytes} B ` +
        `(×${(t.blockBytes / t.rowBytes).toFixed(2)}); reads fff ${r2.fff.reads} (bounds ${t.layersTrees * t.tiers}…${t.tiles}), emb ${r2.emb.reads} (≤ ${t.blocks})`,
    );
  });

  it("tiles on demand, maxGap 4096 (the Worker default): touched ≤ bytes ≤ touched + (pieces − reads)·maxGap", async () => {
    const maxGap = 4096;
    const s = testService(CLS, { maxGap, wholeLayerBytes: 0 });
    const { body, t, r2 } = await coldClassify(s);
    expect(body.usage.bytes_fetched).toBe(r2.all.bytes);
    const pieces = t.tiles + t.blocks;
    const touchedBytes = t.tileBytes + t.blockBytes;
    expect(r2.all.bytes).toBeGreaterThanOrEqual(touchedBytes);
    expect(r2.all.bytes).toBeLessThanOrEqual(touchedBytes + (pieces - r2.all.reads) * maxGap);
    expect(r2.all.reads).toBeLessThanOrEqual(pieces);
    expect(r2.fff.reads).toBeGreaterThanOrEqual(t.layersTrees * t.tiers);
    console.log(`[read bounds] tiles mode, maxGap ${maxGap}: ${r2.all.reads} reads for ${pieces} pieces, ${r2.all.bytes} B for ${touchedBytes} B touched (gap bytes read through: ${r2.all.bytes - touchedBytes})`);
  });

  it("small layers read whole: one read per layer of the whole segment, plus the blocks", async () => {
    const s = testService(CLS, { maxGap: 0, wholeLayerBytes: 256 * 1024 });
    const { t, r2 } = await coldClassify(s);
    const L = cls.pkg.config.numLayers;
    expect(r2.fff.reads).toBe(L);
    expect(r2.fff.bytes).toBe(cls.pkg.fffSegments.reduce((n, seg) => n + seg.length, 0));
    expect(r2.emb.bytes).toBe(t.blockBytes);
    console.log(`[read bounds] whole-layer mode: fff ${r2.fff.reads} reads, ${r2.fff.bytes} B (tiles mode would read ${t.tileBytes} B in ≥ ${t.layersTrees * t.tiers} reads)`);
  });

  it("fill-mask adds the whole embedding table once (the tied decoder), in ⌈blocks/64⌉ reads", async () => {
    const s = testService(MLM, { maxGap: 0, wholeLayerBytes: 0 });
    await s.registry.model();
    s.faulty.resetCalls();
    const { res, body } = await s.post("/v1/fill-mask", { text: MASKED, model: MLM });
    expect(res.status).toBe(200);
    // paths of the same text, from a classify-free source: the resident engine (same package)
    const ids = mlm.engine.tokenizer.encode(MASKED).ids;
    const { paths } = await mlm.engine.run({ sequences: [{ ids }], paths: true });
    const explained = [ids.map((_, p) => ({ paths: paths!.map((layer) => layer[0][p]) }))];
    const t = touched(mlm.pkg, explained, [ids]);
    const r2 = r2Reads(s, mlm.pkg);
    const e = mlm.pkg.embeddings;
    expect(body.usage.bytes_fetched).toBe(r2.all.bytes);
    expect(r2.fff.bytes).toBe(t.tileBytes);
    expect(r2.emb.bytes).toBe(t.blockBytes + e.length);
    expect(r2.emb.reads).toBeLessThanOrEqual(t.blocks + Math.ceil(e.blocks.length / 64));
    console.log(`[read bounds] fill-mask: fff ${t.tileBytes} B in ${r2.fff.reads} reads; embeddings ${t.blockBytes} B of blocks + ${e.length} B table in ${r2.emb.reads} reads`);
  });
});
