/**
 * The Cache API as a second level (src/model/stores/cache-api.ts, docs/streaming.md): a second isolate (a fresh
 * registry) finds the pieces the first one put, bytes from the Cache API are verified before use, only
 * verified pieces are put, the per-run call budget holds, and no Cache API failure fails a request.
 * Locally the test runtime's `caches.default` stores entries; on *.workers.dev in production it does not.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { CacheApiMode } from "../../src/model/stores/cache-api.ts";
import type { RegistryOptions } from "../../src/service/registry.ts";
import { type PieceRef } from "../../src/weights/read/package.ts";
import { sha256Hex } from "../../src/weights/read/sha256.ts";
import { type BuiltPackage } from "../helpers/packages.ts";
import { TINY_CLASSIFIER, putPackage, synthPackage } from "../helpers/r2.ts";
import { testService } from "../helpers/service.ts";
import { planFff } from "../helpers/reads.ts";

const TEXTS = ["a warm, funny and moving film", "dull and lifeless"];
const RUN = crypto.randomUUID().slice(0, 8); // keys carry name@version: fresh names, fresh cache entries
let n = 0;
let built: BuiltPackage;

beforeAll(async () => {
  built = await synthPackage(TINY_CLASSIFIER, { seed: 3, tileDepth: 3, rowsPerBlock: 16 });
});

/** A fresh model name in the bucket, so the Cache API holds nothing for it yet. */
async function freshModel(pkg: Pick<BuiltPackage, "manifest" | "tokenizer" | "weights"> = built): Promise<string> {
  const name = `l2-${RUN}-${n++}`;
  await putPackage(env.WEIGHTS, name, "v1", pkg);
  return name;
}

function isolate(name: string, mode: CacheApiMode, extra: Partial<RegistryOptions> & { maxOps?: number; cache?: Cache | (() => Cache | Promise<Cache>) } = {}) {
  const { maxOps = 1000, cache = () => caches.default, ...rest } = extra;
  return testService(name, { cacheApi: { mode, maxOps, cache }, ...rest });
}

const classify = (s: ReturnType<typeof isolate>) => s.post("/v1/classify", { texts: TEXTS });
const weightGets = (s: ReturnType<typeof isolate>) => s.faulty.count({ op: "get", key: /weights\.bin$/ });

/** The piece of tile 0 (the root tile) of (layer, tree), as the package names it. */
function rootTileRef(layer: number, tree: number): PieceRef {
  const bytes = planFff(built.pkg, layer, tree, [0]).tiles[0].length;
  return { kind: "tile", name: `fff/${layer}/${tree}/0`, sha256: built.pkg.fffSegments[layer].tiles[tree][0], bytes };
}

describe("Cache API as the second level", () => {
  it("mode all: a second isolate reads nothing from R2 for the same request, and answers the same", async () => {
    const name = await freshModel();
    const a = isolate(name, "all");
    const first = await classify(a);
    expect(first.res.status).toBe(200);
    expect(first.body.usage.r2_reads).toBeGreaterThan(0);
    expect(first.body.usage.cache_api_hits).toBe(0);
    const stats = (await a.registry.model()).pieces!.stats;
    expect(stats.puts).toBeGreaterThan(0);
    expect(stats.errors).toBe(0);

    const b = isolate(name, "all");
    const second = await classify(b);
    expect(second.res.status).toBe(200);
    expect(weightGets(b)).toBe(0); // dense at load, blocks and tiles in the request: all from the Cache API
    expect(second.body.usage).toMatchObject({ r2_reads: 0, bytes_fetched: 0 });
    expect(second.body.usage.cache_api_hits).toBeGreaterThan(0);
    expect(second.body.usage.cache_hits).toBeGreaterThanOrEqual(second.body.usage.cache_api_hits);
    expect(second.body.results).toEqual(first.body.results);
    expect((await b.registry.model()).pkg.pieceStats.rejected).toBe(0);
    console.log(`[cache api] mode all: cold isolate ${first.body.usage.r2_reads} R2 reads / ${first.body.usage.bytes_fetched} B, ${stats.matches} matches + ${stats.puts} puts; second isolate 0 R2 reads, ${second.body.usage.cache_api_hits} Cache API hits`);
  });

  it("mode bulk (default): the dense segment and whole small layers come from the Cache API, blocks from R2", async () => {
    const name = await freshModel();
    const opts = { wholeLayerBytes: 256 * 1024 };
    const first = await classify(isolate(name, "bulk", opts));
    const b = isolate(name, "bulk", opts);
    const second = await classify(b);
    expect(second.body.results).toEqual(first.body.results);
    const fffStart = built.pkg.fffSegments[0].offset;
    const ranges = b.faulty.ranges(/weights\.bin$/).map((r) => r!);
    expect(ranges.filter((r) => r.offset >= fffStart || r.offset === built.pkg.dense.offset)).toEqual([]);
    expect(ranges.length).toBeGreaterThan(0); // embedding blocks
    expect(second.body.usage.cache_api_hits).toBe(TINY_CLASSIFIER.numLayers);
    const stats = (await b.registry.model()).pieces!.stats;
    expect(stats.matches).toBe(1 + TINY_CLASSIFIER.numLayers); // dense + one per layer, nothing per block
  });

  it("a corrupt Cache API entry is rejected, read once from R2, and replaced by the verified bytes", async () => {
    const name = await freshModel();
    const a = isolate(name, "all");
    const first = await classify(a);
    const pieces = (await a.registry.model()).pieces!;
    const ref = rootTileRef(1, 0);
    const url = pieces.url(ref);
    const good = new Uint8Array(await (await caches.default.match(url))!.arrayBuffer());
    const bad = good.slice();
    bad[17] ^= 0x01;
    await caches.default.put(url, new Response(bad, { headers: { "Cache-Control": "public, max-age=3600" } }));

    const b = isolate(name, "all");
    const second = await classify(b);
    expect(second.res.status).toBe(200);
    expect(second.body.results).toEqual(first.body.results);
    const model = await b.registry.model();
    expect(model.pkg.pieceStats.rejected).toBe(1);
    const seg = built.pkg.fffSegments[1];
    const tileOffset = planFff(built.pkg, 1, 0, [0]).tiles[0].offset;
    expect(b.faulty.count({ op: "get", key: /weights\.bin$/, covers: tileOffset })).toBe(1);
    expect(weightGets(b)).toBe(1); // that tile and nothing else
    const now = new Uint8Array(await (await caches.default.match(url))!.arrayBuffer());
    expect(await sha256Hex(now)).toBe(seg.tiles[0][0]);
  });

  it("only verified pieces are put: R2 corruption ends in 502 and leaves no Cache API entry for the piece", async () => {
    const name = await freshModel();
    const s = isolate(name, "all");
    await s.registry.model();
    const tile = planFff(built.pkg, 2, 0, [0]).tiles[0];
    const at = tile.offset + 9;
    s.faulty.inject({ name: "f", key: /weights\.bin$/, covers: at, fault: { kind: "corrupt", at } });
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const bad = await classify(s);
    log.mockRestore();
    expect(bad.res.status).toBe(502);
    const url = (await s.registry.model()).pieces!.url(rootTileRef(2, 0));
    expect(await caches.default.match(url)).toBeUndefined();
    s.faulty.heal();
    expect((await classify(s)).res.status).toBe(200);
    expect(await caches.default.match(url)).toBeDefined();
  });

  it("a new version is never served an old version's entries", async () => {
    const name = await freshModel();
    await classify(isolate(name, "all"));
    const other = await synthPackage(TINY_CLASSIFIER, { seed: 4, tileDepth: 3, rowsPerBlock: 16 });
    await putPackage(env.WEIGHTS, name, "v2", other);
    const s = isolate(name, "all");
    const res = await classify(s);
    expect(res.body.model.version).toBe("v2");
    expect(res.body.usage.cache_api_hits).toBe(0);
    expect((await s.registry.model()).pkg.pieceStats).toMatchObject({ hits: 0, rejected: 0 });
  });

  it("keeps to its per-run budget of Cache API calls", async () => {
    const name = await freshModel();
    const s = isolate(name, "all", { maxOps: 5 });
    await s.registry.model();
    const pieces = (await s.registry.model()).pieces!;
    const before = pieces.stats;
    const res = await classify(s);
    expect(res.res.status).toBe(200);
    const after = pieces.stats;
    expect(after.matches + after.puts - (before.matches + before.puts)).toBe(5);
    expect(after.skipped).toBeGreaterThan(before.skipped);
  });
});

describe("Cache API failures never fail a request", () => {
  const broken = {
    throwing: () =>
      ({
        match: async () => {
          throw new Error("cache down");
        },
        put: async () => {
          throw new Error("cache down");
        },
      }) as unknown as Cache,
    hanging: () => ({ match: () => new Promise(() => {}), put: () => new Promise(() => {}) }) as unknown as Cache,
    unavailable: () => {
      throw new Error("no caches here");
    },
    garbage: () =>
      ({
        match: async () => new Response(new Uint8Array(100)),
        put: async () => {},
      }) as unknown as Cache,
  };
  let reference: unknown;
  let name: string;
  beforeAll(async () => {
    name = await freshModel();
    reference = (await classify(isolate(name, "off"))).body.results;
  });
  for (const [kind, cache] of Object.entries(broken)) {
    it(`${kind} cache → 200 from R2`, async () => {
      const s = isolate(name, "all", { cache, readTimeoutMs: 100 });
      const res = await classify(s);
      expect(res.res.status).toBe(200);
      expect(res.body.results).toEqual(reference);
      expect(res.body.usage.r2_reads).toBeGreaterThan(0);
      expect(res.body.usage.cache_api_hits).toBe(0);
      const model = await s.registry.model();
      if (kind === "garbage") expect(model.pkg.pieceStats.rejected).toBeGreaterThan(0);
      else expect(model.pieces!.stats.errors).toBeGreaterThan(0);
      expect(model.limiter.inFlight).toBe(0);
    });
  }
});
