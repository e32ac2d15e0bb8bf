/**
 * Source wrappers for remote storage: at most `n` reads in flight (Workers allow 6 open connections per
 * invocation; more would queue anyway, but queued reads hold memory and hide the real latency), and a
 * hook around every read (timing spans), and a per-read timeout.
 */
import { UfbError } from "../../errors.ts";
import type { WeightSource } from "./sources.ts";

export class LimitedSource implements WeightSource {
  readonly name: string;
  readonly size?: number;
  private readonly inner: WeightSource;
  private readonly limit: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(inner: WeightSource, limit: number) {
    if (!(limit >= 1)) throw new RangeError(`LimitedSource: limit must be ≥ 1, got ${limit}`);
    this.inner = inner;
    this.limit = limit;
    this.name = inner.name;
    this.size = inner.size;
  }

  /** Reads in flight right now (≤ limit). */
  get inFlight(): number {
    return this.active;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await this.inner.read(offset, length);
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
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
