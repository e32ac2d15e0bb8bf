/**
 * Source wrappers for remote storage: at most `n` reads in flight (Workers allow 6 open connections per
 * invocation; more would queue anyway, but queued reads hold memory and hide the real latency), and a
 * hook around every read (timing spans), and a per-read timeout.
 */
import { UfbError } from "../../errors.ts";
import type { WeightSource } from "./sources.ts";

export interface LimitOptions {
  /**
   * Longest wait for a free slot (default: no limit), on the waiting caller's own timer; then the read fails
   * with UfbError("io"). In workerd a waiter needs a timer of its own (see `read`).
   */
  waitTimeoutMs?: number;
}

/** A read holding a slot: `done` is created and resolved by that read itself, in its own request. */
interface Holder {
  done: Promise<void>;
}

export class LimitedSource implements WeightSource {
  readonly name: string;
  readonly size?: number;
  private readonly inner: WeightSource;
  private readonly limit: number;
  private readonly waitTimeoutMs: number;
  private readonly holders = new Set<Holder>();
  private waiters = 0;

  constructor(inner: WeightSource, limit: number, options: LimitOptions = {}) {
    if (!(limit >= 1)) throw new RangeError(`LimitedSource: limit must be ≥ 1, got ${limit}`);
    this.inner = inner;
    this.limit = limit;
    this.waitTimeoutMs = options.waitTimeoutMs ?? Infinity;
    this.name = inner.name;
    this.size = inner.size;
  }

  /** Reads in flight right now (≤ limit). */
  get inFlight(): number {
    return this.holders.size;
  }

  /** Callers waiting for a slot right now. */
  get queued(): number {
    return this.waiters;
  }

  /*
   * How a slot passes from one caller to the next, when the callers may be different requests. In workerd
   * a promise that one request creates and another resolves runs its continuations in the resolving
   * request: had a read that ends resolved a promise its waiter created (a queue of resolvers), the waiter's
   * own read would run as I/O of the request whose read ended, and die with it ("Promise will never
   * complete", or "Cannot perform I/O on behalf of a different request"). So nothing here is resolved by
   * anyone but its creator: each read holding a slot creates a `done` promise and resolves it itself when
   * it ends; a waiter chains its own continuation onto the holders' `done` promises, which workerd runs in
   * the waiter's request, then checks for a free slot and counts it itself. Only that data-free signal
   * passes between callers, never bytes, a stream or a read promise. test/worker/isolation.test.ts ("a
   * read slot passed between requests") fails with the resolver-queue version.
   *
   * A waiter also waits on a timer of its own (`waitTimeoutMs`): a request whose every pending promise
   * waits on another request's read has no I/O in flight and workerd cancels it as hung. The Worker's own
   * limiter serves one run at a time (the engine's turn), so its waiters wait for reads of their own
   * request; the timer bounds the wait all the same.
   *
   * Every waiter wakes when any holder ends and checks again (at most `limit` promises to race): a waiter
   * whose request has ended never resumes, and a slot is never handed to it, so it cannot take a slot with
   * it. A request cancelled with reads in flight never releases their slots (its code does not resume);
   * its run then holds the engine's turn past the deadline, the engine is marked broken and the model is
   * reloaded with a new limiter (src/model/engine.ts takeTurn).
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const release = await this.acquire();
    try {
      return await this.inner.read(offset, length);
    } finally {
      release();
    }
  }

  /** Waits for a free slot and takes it; the returned function gives it back (and wakes the waiters). */
  private async acquire(): Promise<() => void> {
    if (this.holders.size >= this.limit) {
      const ms = this.waitTimeoutMs;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = ms > 0 && ms < Infinity ? new Promise<"expired">((resolve) => (timer = setTimeout(() => resolve("expired"), ms))) : undefined;
      this.waiters++;
      try {
        while (this.holders.size >= this.limit) {
          const ended = Promise.race([...this.holders].map((h) => h.done));
          if ((await (expired ? Promise.race([ended, expired]) : ended)) === "expired") {
            if (this.holders.size < this.limit) break;
            throw new UfbError("io", `${this.name}: no read slot free within ${ms} ms (${this.holders.size} reads in flight)`);
          }
        }
      } finally {
        this.waiters--;
        if (timer !== undefined) clearTimeout(timer);
      }
    }
    // from the size check to here nothing awaits: no other caller can take the slot in between
    let resolve!: () => void;
    const holder: Holder = { done: new Promise<void>((r) => (resolve = r)) };
    this.holders.add(holder);
    return () => {
      this.holders.delete(holder);
      resolve();
    };
  }
}

export interface ReadObserver {
  start(): void;
  end(): void;
}

/** Calls `observer()`'s start/end around each read; the observer may change between requests. */
export class ObservedSource implements WeightSource {
  readonly name: string;
  readonly size?: number;
  observer: ReadObserver | undefined;
  private readonly inner: WeightSource;

  constructor(inner: WeightSource) {
    this.inner = inner;
    this.name = inner.name;
    this.size = inner.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const o = this.observer;
    o?.start();
    try {
      return await this.inner.read(offset, length);
    } finally {
      o?.end();
    }
  }
}

/**
 * Races `work` against a timer: after `ms` milliseconds the returned promise rejects with
 * UfbError("io", "<what>: no answer after <ms> ms"). The work itself is not cancelled (R2 calls cannot
 * be), its late result or error is dropped. `ms` = Infinity (or ≤ 0) means no timeout.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  if (!(ms > 0 && ms < Infinity)) return work;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UfbError("io", `${what}: no answer after ${ms} ms`)), ms);
  });
  work.catch(() => {}); // a late failure after the timeout is nobody's business
  return Promise.race([work, expired]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

/**
 * One storage call (a get, a head, a list page) under the read timeout: a timeout, and any throw of the
 * binding itself (network, R2 errors, a broken body), is UfbError("io"), so the store's failures have a code
 * wherever they are called from.
 */
export async function storageCall<T>(what: string, ms: number, call: () => Promise<T>): Promise<T> {
  try {
    return await withTimeout(call(), ms, what);
  } catch (e) {
    if (e instanceof UfbError) throw e;
    throw new UfbError("io", `${what} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/**
 * Per-read timeout. Put it under LimitedSource (`new LimitedSource(new TimeoutSource(r2, ms), n)`) so a read
 * that never answers gives its slot back when it times out instead of holding it.
 */
export class TimeoutSource implements WeightSource {
  readonly name: string;
  readonly size?: number;
  private readonly inner: WeightSource;
  private readonly ms: number;

  constructor(inner: WeightSource, ms: number) {
    this.inner = inner;
    this.ms = ms;
    this.name = inner.name;
    this.size = inner.size;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return withTimeout(this.inner.read(offset, length), this.ms, `${this.name} bytes ${offset}+${length}`);
  }
}
