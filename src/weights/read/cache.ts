/**
 * The in-isolate block cache: verified pieces of a package (FFF tiles, embedding blocks) kept in slots of
 * one fixed memory region (the kernels read them in place), under a byte budget, least recently used
 * out first. Concurrent loads of one key share a single load; pinned entries are never evicted (a
 * forward pass pins what its current layer uses).
 *
 * Space is handed out best-fit from a list of free extents that merges neighbours when entries leave; a
 * package has only a few piece sizes (one per FFF tier, one per embedding block), so this stays small.
 * When nothing fits, least recently used unpinned entries are evicted until something does.
 * Only pieces the loader returned (already verified by WeightPackage) are ever stored.
 */
import { CacheFullError, UfbError } from "../../errors.ts";

/** A load in flight: the loading caller's promise of the entry, shared with joiners as plain data. */
interface Fill {
  entry: Promise<Entry>;
  settle: { resolve(e: Entry): void; reject(err: unknown): void };
}

export interface CacheOptions {
  /**
   * Longest wait of a caller that joins another caller's load (default: no limit). The load's I/O belongs
   * to the request that started it; if that request ends first, the load never settles, so a joiner gives
   * up after this long (UfbError "io"), drops the fill, and the next caller loads the key itself.
   */
  joinTimeoutMs?: number;
}

export interface CacheRegion {
  /** First byte of the region (e.g. a kernel address). */
  base: number;
  bytes: number;
  /** Copies `data` to `address` (inside the region). */
  write(address: number, data: Uint8Array): void;
}

interface Entry {
  key: string;
  address: number;
  bytes: number;
  pins: number;
  onEvict?: () => void;
  // doubly linked LRU list: head = most recent
  newer: Entry | null;
  older: Entry | null;
}

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  /** Bytes held by live entries. */
  usedBytes: number;
  /** Bytes not held by any entry, and the largest contiguous free extent. */
  freeBytes: number;
  largestFree: number;
  entries: number;
}

export class BlockCache {
  private readonly region: CacheRegion;
  private readonly entries = new Map<string, Entry>();
  /** Free extents sorted by address, neighbours merged. */
  private readonly free: { address: number; bytes: number }[];
  private readonly inFlight = new Map<string, Fill>();
  private readonly joinTimeoutMs: number;
  private joinClock: Promise<"expired"> | undefined;
  private newest: Entry | null = null;
  private oldest: Entry | null = null;
  private counters = { hits: 0, misses: 0, evictions: 0, usedBytes: 0 };

  constructor(region: CacheRegion, options: CacheOptions = {}) {
    this.region = region;
    this.joinTimeoutMs = options.joinTimeoutMs ?? Infinity;
    const start = Math.ceil(region.base / 16) * 16;
    this.free = [{ address: start, bytes: Math.floor((region.base + region.bytes - start) / 16) * 16 }];
  }

  get stats(): CacheStats {
    let freeBytes = 0;
    let largestFree = 0;
    for (const f of this.free) {
      freeBytes += f.bytes;
      largestFree = Math.max(largestFree, f.bytes);
    }
    return { ...this.counters, freeBytes, largestFree, entries: this.entries.size };
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** A load of `key` is in flight: `get(key, …)` now joins it instead of calling its own loader. */
  loading(key: string): boolean {
    return this.inFlight.has(key);
  }

  /** Address of a cached entry (marking it recently used), or undefined. Counts a hit when found. */
  lookup(key: string): number | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.counters.hits++;
    this.touch(e);
    return e.address;
  }

  /**
   * The entry for `key`, loading it with `load` when absent. Concurrent calls for one key share one load:
   * the first caller runs `load` and awaits it itself; the others (joiners) await only the outcome, a plain
   * address or error, never the loader's I/O, and at most `joinTimeoutMs`. A failed, timed-out or abandoned
   * load is removed, so the next caller loads again. `onEvict` runs when the entry later leaves the cache.
   */
  async get(key: string, load: () => Promise<Uint8Array>, onEvict?: () => void): Promise<number> {
    const hit = this.lookup(key);
    if (hit !== undefined) return hit;
    const joined = this.inFlight.get(key);
    if (joined) return (await this.join(key, joined)).address;
    this.counters.misses++;
    let settle!: Fill["settle"];
    const fill: Fill = { entry: new Promise<Entry>((resolve, reject) => (settle = { resolve, reject })), settle };
    fill.entry.catch(() => {}); // joiners may be none; the loader gets its own error below
    this.inFlight.set(key, fill);
    try {
      const e = this.insert(key, await load(), onEvict);
      settle.resolve(e);
      return e.address;
    } catch (err) {
      settle.reject(err);
      throw err;
    } finally {
      if (this.inFlight.get(key) === fill) this.inFlight.delete(key);
    }
  }

  private async join(key: string, fill: Fill): Promise<Entry> {
    if (!(this.joinTimeoutMs > 0 && this.joinTimeoutMs < Infinity)) return fill.entry;
    // one timer for all the joins of a run (a whole-layer load joins thousands of fills at once, and an
    // isolate may hold at most 10,000 timers); beginRun() starts a new clock, so the timer always belongs
    // to the request that waits on it
    this.joinClock ??= new Promise<"expired">((resolve) => setTimeout(() => resolve("expired"), this.joinTimeoutMs));
    const outcome = await Promise.race([fill.entry, this.joinClock]);
    if (outcome !== "expired") return outcome;
    if (this.inFlight.get(key) === fill) this.inFlight.delete(key);
    throw new UfbError("io", `cache: the load of ${key} joined from another caller did not settle within ${this.joinTimeoutMs} ms`);
  }

  /** A new run (request) begins: joins from now on wait on a deadline of their own request. */
  beginRun(): void {
    this.joinClock = undefined;
  }

  /** Loads in flight right now (0 between runs: a run settles every load it starts). */
  get loadsInFlight(): number {
    return this.inFlight.size;
  }

  /**
   * Fails and forgets every load still in flight. Called when the run that started them ends: whatever it
   * left unsettled can no longer settle (its request's I/O is gone), and joiners must not wait for it.
   */
  abandonInFlight(reason = "the run that started it ended"): number {
    const n = this.inFlight.size;
    for (const [key, fill] of this.inFlight) fill.settle.reject(new UfbError("io", `cache: load of ${key} abandoned: ${reason}`));
    this.inFlight.clear();
    return n;
  }

  pin(key: string): void {
    const e = this.entries.get(key);
    if (!e) throw new UfbError("internal", `cache: pin of absent key ${key}`);
    e.pins++;
  }

  unpin(key: string): void {
    const e = this.entries.get(key);
    if (e && e.pins > 0) e.pins--;
  }

  /** Drops every unpinned entry (tests; a package version switch). */
  clear(): void {
    for (let e = this.oldest; e; ) {
      const next = e.newer;
      if (e.pins === 0) this.evict(e);
      e = next;
    }
  }

  private insert(key: string, data: Uint8Array, onEvict?: () => void): Entry {
    const existing = this.entries.get(key);
    if (existing) return existing;
    const address = this.slot(data.length, key);
    this.region.write(address, data);
    const e: Entry = { key, address, bytes: data.length, pins: 0, onEvict, newer: null, older: null };
    this.entries.set(key, e);
    this.linkNewest(e);
    this.counters.usedBytes += e.bytes;
    return e;
  }

  /** Space for `size` bytes: the smallest free extent that fits, evicting least recently used entries until one does. */
  private slot(size: number, key: string): number {
    const aligned = Math.ceil(size / 16) * 16;
    for (;;) {
      const at = this.bestFit(aligned);
      if (at >= 0) {
        const f = this.free[at];
        const address = f.address;
        if (f.bytes === aligned) this.free.splice(at, 1);
        else {
          f.address += aligned;
          f.bytes -= aligned;
        }
        return address;
      }
      let victim = this.oldest;
      while (victim && victim.pins > 0) victim = victim.newer;
      if (!victim) {
        throw new CacheFullError(`cache: no room for ${key} (${size} B): every entry is pinned (${this.counters.usedBytes} of ${this.region.bytes} B in use); raise the cache budget`);
      }
      this.evict(victim);
    }
  }

  private bestFit(bytes: number): number {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      if (this.free[i].bytes >= bytes && (best < 0 || this.free[i].bytes < this.free[best].bytes)) best = i;
    }
    return best;
  }

  /** Returns an extent to the free list, merged with the free neighbours it touches. */
  private release(address: number, bytes: number): void {
    let i = 0;
    while (i < this.free.length && this.free[i].address < address) i++;
    this.free.splice(i, 0, { address, bytes });
    const next = this.free[i + 1];
    if (next && address + bytes === next.address) {
      this.free[i].bytes += next.bytes;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.address + prev.bytes === address) {
      prev.bytes += this.free[i].bytes;
      this.free.splice(i, 1);
    }
  }

  private evict(e: Entry): void {
    this.unlink(e);
    this.entries.delete(e.key);
    this.counters.usedBytes -= e.bytes;
    this.counters.evictions++;
    this.release(e.address, Math.ceil(e.bytes / 16) * 16);
    e.onEvict?.();
  }

  private touch(e: Entry): void {
    if (this.newest === e) return;
    this.unlink(e);
    this.linkNewest(e);
  }

  private linkNewest(e: Entry): void {
    e.older = this.newest;
    e.newer = null;
    if (this.newest) this.newest.newer = e;
    this.newest = e;
    if (!this.oldest) this.oldest = e;
  }

  private unlink(e: Entry): void {
    if (e.newer) e.newer.older = e.older;
    else this.newest = e.older;
    if (e.older) e.older.newer = e.newer;
    else this.oldest = e.newer;
    e.newer = e.older = null;
  }
}
