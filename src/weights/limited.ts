/**
 * Source wrappers for remote storage: at most `n` reads in flight (Workers allow 6 open connections per
 * invocation; more would queue anyway, but queued reads hold memory and hide the real latency), and a
 * hook around every read (timing spans).
 */
import type { WeightSource } from "./source.ts";

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
