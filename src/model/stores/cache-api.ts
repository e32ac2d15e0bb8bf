/**
 * The Workers Cache API (`caches.default`, edge-stack.md §5.2) as a second level under each model's block
 * cache: on an L1 miss a piece is looked up here before R2, and pieces read from R2 (verified) are put
 * here for the next isolate in the same data center. WeightPackage verifies whatever comes back.
 *
 * Keys are synthetic URLs carrying the package identity (name@version and the weights.bin etag) and the
 * piece's name and manifest sha256, so a replaced upload can never be served old bytes under a new name.
 * Entries are stored as 200s with a long immutable Cache-Control (the key changes when the bytes do).
 *
 * Every match and put is a subrequest (50 per request on the Free plan): `mode` picks which pieces use it
 * (`bulk`: the dense segment and whole small FFF layers, a handful per cold isolate; `all`: also tiles and
 * embedding blocks, two calls per missed piece), and `maxOps` caps the calls per engine run; past the cap,
 * pieces go straight to R2. No failure here fails a request: a throw, a timeout or a bad entry is a miss.
 * On *.workers.dev the Cache API stores nothing: every match misses (docs/streaming.md).
 */
import { type PieceCache, type PieceRef } from "../../weights/read/package.ts";
import { withTimeout } from "../../weights/read/limiter.ts";

export type CacheApiMode = "off" | "bulk" | "all";

export const CACHE_API_MODES: readonly CacheApiMode[] = ["off", "bulk", "all"];

export interface CacheApiOptions {
  /** The cache (production: `caches.default`); a function is called once, at first use. */
  cache: Cache | (() => Cache | Promise<Cache>);
  mode: CacheApiMode;
  /** Cache API calls (match + put) per engine run; then pieces go to R2 only. */
  maxOps: number;
  /** Longest wait for one match or put (then: a miss, or a put given up). */
  timeoutMs: number;
}

export interface CacheApiStats {
  matches: number;
  hits: number;
  puts: number;
  /** Calls not made because the per-run budget was spent. */
  skipped: number;
  /** Matches or puts that threw or timed out. */
  errors: number;
}

const KINDS: Record<CacheApiMode, ReadonlySet<PieceRef["kind"]>> = {
  off: new Set(),
  bulk: new Set(["dense", "layer"]),
  all: new Set(["dense", "layer", "tile", "embeddings"]),
};

export class CacheApiPieces implements PieceCache {
  readonly identity: string;
  private readonly options: CacheApiOptions;
  private cache: Promise<Cache> | undefined;
  private ops = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly counters: CacheApiStats = { matches: 0, hits: 0, puts: 0, skipped: 0, errors: 0 };

  /** `identity`: e.g. `name@version#etag`. */
  constructor(identity: string, options: CacheApiOptions) {
    this.identity = identity;
    this.options = options;
  }

  get stats(): CacheApiStats {
    return { ...this.counters };
  }

  /** The synthetic URL a piece is stored under. */
  url(piece: PieceRef): string {
    return `https://ufb-weights.internal/${encodeURIComponent(this.identity)}/${piece.name}?sha256=${piece.sha256}`;
  }

  /** A new engine run: its own budget of Cache API calls. */
  beginRun(): void {
    this.ops = 0;
  }

  /** Waits for the puts in flight (each bounded by the timeout); never rejects. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async get(piece: PieceRef): Promise<Uint8Array | undefined> {
    if (!this.take(piece)) return undefined;
    this.counters.matches++;
    try {
      const bytes = await withTimeout(
        (async () => {
          const res = await (await this.open()).match(this.url(piece));
          if (!res || res.status !== 200) return undefined;
          return new Uint8Array(await res.arrayBuffer());
        })(),
        this.options.timeoutMs,
        `cache match ${piece.name}`,
      );
      if (bytes) this.counters.hits++;
      return bytes;
    } catch {
      this.counters.errors++;
      return undefined;
    }
  }

  put(piece: PieceRef, bytes: Uint8Array): void {
    if (!this.take(piece)) return;
    this.counters.puts++;
    const response = new Response(bytes.slice(), {
      status: 200,
      headers: {
        "Content-Type": "application/octet-stream",
        "Cache-Control": "public, max-age=31536000, immutable",
        ETag: `"${piece.sha256}"`,
      },
    });
    const done = withTimeout(
      this.open().then((c) => c.put(this.url(piece), response)),
      this.options.timeoutMs,
      `cache put ${piece.name}`,
    ).then(
      () => {},
      () => {
        this.counters.errors++;
      },
    );
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  /** Whether this piece may use the Cache API now (mode, budget), counting the call. */
  private take(piece: PieceRef): boolean {
    if (!KINDS[this.options.mode].has(piece.kind)) return false;
    if (this.ops >= this.options.maxOps) {
      this.counters.skipped++;
      return false;
    }
    this.ops++;
    return true;
  }

  private open(): Promise<Cache> {
    const c = this.options.cache;
    this.cache ??= (async () => (typeof c === "function" ? c() : c))();
    return this.cache;
  }
}
