/**
 * The streaming read path in one place: from one source of weights.bin (R2 in the Worker, a stand-in in
 * bench/cold.ts) to a ready Engine. What wraps every read (timeout → reads-in-flight limit → per-request
 * observer), where pieces are kept (a block cache region in kernel memory, optionally the Cache API under
 * it) and what is read at load (the dense segment, the top FFF tier, the tokenizer) are decided here.
 * Which bytes a request then reads is the streamed stores' business (../streamed.ts, planner.ts below).
 */
import type { Kernel } from "../../kernel/index.ts";
import type { Manifest } from "../../weights/format/manifest.ts";
import { BlockCache } from "../../weights/read/cache.ts";
import { LimitedSource, ObservedSource, TimeoutSource } from "../../weights/read/limiter.ts";
import { WeightPackage } from "../../weights/read/package.ts";
import { withOneRetry } from "../../weights/read/sha256.ts";
import type { WeightSource } from "../../weights/read/sources.ts";
import { Engine, type RunMeter } from "../engine.ts";
import { loadStreamedWeights } from "../streamed.ts";
import { type CacheApiOptions, CacheApiPieces } from "./cache-api.ts";

/** Longest wait for one Cache API call: a second level slower than this is worse than a miss. */
const CACHE_API_TIMEOUT_CAP_MS = 2000;

export interface StreamedOptions {
  /** The package's identity (e.g. name@version): block cache keys start with it. */
  identity: string;
  /** The model's name in messages (default: the manifest's). */
  name?: string;
  /** weights.bin's etag, added to the Cache API identity so that a new upload never meets old entries. */
  etag?: string;
  manifest: Manifest;
  /** tokenizer.json's bytes (verified against the manifest by the package). */
  tokenizer: () => Promise<Uint8Array>;
  /** Bytes of kernel memory for cached tiles and embedding blocks. */
  cacheBytes: number;
  /** Reads in flight at most (Workers: 6 connections per invocation). */
  maxReads: number;
  /** Coalesce reads across gaps up to this many bytes. */
  maxGap: number;
  /** Read a FFF layer whole when it is at most this big. */
  wholeLayerBytes: number;
  /** Fetch every layer's top FFF tier while the dense segment loads (every token's path starts there). */
  prefetchTopTier?: boolean;
  /** Longest wait for one read, body included; then it fails with UfbError("io"). */
  readTimeoutMs: number;
  /**
   * Longest wait of a request for another request's work: a block cache fill it joins, or its turn on the
   * engine (default: 3 × readTimeoutMs). That work's I/O belongs to the other request and dies with it.
   * Also the longest wait for a free read slot.
   */
  joinTimeoutMs?: number;
  /** The Cache API as a second level under the block cache; absent or mode "off": none. */
  cacheApi?: Omit<CacheApiOptions, "timeoutMs">;
}

export interface StreamedModel {
  engine: Engine;
  pkg: WeightPackage;
  /** The L1 block cache (its region lives in the engine's kernel memory). */
  cache: BlockCache;
  /** Where per-request read hooks are attached. */
  source: ObservedSource;
  /** The reads-in-flight limiter under it (tests check that no slot is left held). */
  limiter: LimitedSource;
  /** The Cache API second level, when on. */
  pieces: CacheApiPieces | undefined;
}

/** Opens a package for streaming from `source` (weights.bin) into `kernel`'s memory. */
export async function openStreamed(source: WeightSource, kernel: Kernel, o: StreamedOptions): Promise<StreamedModel> {
  const joinTimeoutMs = o.joinTimeoutMs ?? 3 * o.readTimeoutMs;
  // the limiter sits over the timeout, so a read that never answers gives its slot back when it times out;
  // a read waiting for a slot waits on its own timer too (limiter.ts says why)
  const limiter = new LimitedSource(new TimeoutSource(source, o.readTimeoutMs), o.maxReads, { waitTimeoutMs: joinTimeoutMs });
  const observed = new ObservedSource(limiter);
  const pieces = o.cacheApi && o.cacheApi.mode !== "off"
    ? new CacheApiPieces(o.etag === undefined ? o.identity : `${o.identity}#${o.etag}`, { ...o.cacheApi, timeoutMs: Math.min(o.readTimeoutMs, CACHE_API_TIMEOUT_CAP_MS) })
    : undefined;
  pieces?.beginRun();
  let tokenizer: Uint8Array | undefined;
  const pkg = await WeightPackage.open({
    manifest: JSON.stringify(o.manifest),
    tokenizer: async () => tokenizer ?? o.tokenizer(),
    weights: observed,
    maxGap: o.maxGap,
    pieces,
  });
  // verified here with one re-read on a hash mismatch, like every other piece; Engine.create checks it
  // again (from memory). Read while the dense segment loads.
  const tokenizerRead = withOneRetry(() => pkg.readTokenizer());
  tokenizerRead.catch(() => {}); // awaited below; keeps an early failure from being reported as unhandled
  const region = kernel.alloc(o.cacheBytes, 64);
  const cache = new BlockCache({ base: region, bytes: o.cacheBytes, write: (at, data) => kernel.u8(at, data.length).set(data) }, { joinTimeoutMs });
  let weights;
  try {
    weights = await loadStreamedWeights(pkg, kernel, cache, { keyPrefix: o.identity, wholeLayerBytes: o.wholeLayerBytes, prefetchTopTier: o.prefetchTopTier });
  } finally {
    // settled before the load answers, failed or not: no read of this request outlives it
    await tokenizerRead.catch(() => {});
  }
  tokenizer = await tokenizerRead;
  const engine = await Engine.create(pkg, kernel, { weights, name: o.name, meter: runMeter(pkg, cache, observed, pieces), turnTimeoutMs: joinTimeoutMs });
  await pieces?.drain();
  return { engine, pkg, cache, source: observed, limiter, pieces };
}

/**
 * A run's reads, from the counters of this model's package, block cache and Cache API. Exact because the
 * engine runs one request at a time: nothing else reads through these stores during a run.
 */
function runMeter(pkg: WeightPackage, cache: BlockCache, source: ObservedSource, pieces: CacheApiPieces | undefined): RunMeter {
  let start = { reads: 0, bytes: 0, hits: 0, l2: 0 };
  return {
    begin(timer) {
      start = { ...pkg.stats, hits: cache.stats.hits, l2: pkg.pieceStats.hits };
      source.observer = timer && { start: () => timer.start("fetch"), end: () => timer.end("fetch") };
      cache.beginRun();
      pieces?.beginRun();
    },
    async end() {
      const l2Hits = pkg.pieceStats.hits - start.l2;
      const reads = {
        r2Reads: pkg.stats.reads - start.reads,
        bytesFetched: pkg.stats.bytes - start.bytes,
        // L1 (block cache) hits plus pieces the Cache API served
        cacheHits: cache.stats.hits - start.hits + l2Hits,
        cacheApiHits: l2Hits,
      };
      source.observer = undefined;
      // a run settles every fill it starts; one still in flight now (a bug, or a cancelled request) would
      // never settle, so fail it for any joiner and let the next run load the piece again
      cache.abandonInFlight();
      cache.beginRun();
      // the puts of this run finish inside it (no waitUntil here); each is bounded by the Cache API timeout
      await pieces?.drain();
      return reads;
    },
  };
}
