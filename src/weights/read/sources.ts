/**
 * Where package bytes come from. Every reader in this room (safetensors, package) is built on one range
 * callback, `read(offset, length)`, so the same code reads a Uint8Array in tests, a file in the CLI
 * (src/cli/files.ts) and an R2 object or an HTTP URL in the Worker.
 * see: ggml-org/ggml include/gguf.h gguf_init_from_callback.
 */
import { StaleObjectError, UfbError } from "../../errors.ts";

export interface WeightSource {
  /** Exactly `length` bytes at `offset`; throws UfbError("io") otherwise. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Total bytes, when known without a read. */
  readonly size?: number;
  /** For messages: a file path, an R2 key, a URL. */
  readonly name: string;
}

/** Where a writer puts bytes, in order. */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
}

export function checkRange(source: { name: string; size?: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new UfbError("bad_argument", `${source.name}: bad range offset ${offset} length ${length}`);
  }
  if (source.size !== undefined && offset + length > source.size) {
    throw new UfbError("io", `${source.name}: range [${offset}, ${offset + length}) is past the end (${source.size} bytes)`);
  }
}

export function checkLength(source: { name: string }, offset: number, length: number, got: number): void {
  if (got !== length) {
    throw new UfbError("io", `${source.name}: asked ${length} bytes at offset ${offset}, got ${got} (truncated file?)`);
  }
}

/** A source over bytes in memory. Reads return views (no copy). */
export class MemorySource implements WeightSource {
  readonly name: string;
  readonly size: number;
  private readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array, name = "memory") {
    this.bytes = bytes;
    this.size = bytes.length;
    this.name = name;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    return this.bytes.subarray(offset, offset + length);
  }
}

/** A sink that keeps the chunks; `bytes()` joins them. */
export class MemorySink implements ByteSink {
  private chunks: Uint8Array[] = [];
  length = 0;
  async write(chunk: Uint8Array): Promise<void> {
    this.chunks.push(chunk.slice());
    this.length += chunk.length;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.chunks = [out];
    return out;
  }
}

/** The subset of the Workers R2Bucket binding a source needs (kept structural so Node code type-checks). */
export interface R2BucketLike {
  get(
    key: string,
    options: { range: { offset: number; length: number }; onlyIf?: { etagMatches?: string } },
  ): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | { body?: undefined } | null>;
}

/**
 * Ranged reads of one R2 object (edge-stack.md §5.1). With `etag`, every read carries
 * `onlyIf: { etagMatches }`, so bytes of a replaced object are refused rather than mixed.
 */
export class R2Source implements WeightSource {
  readonly name: string;
  readonly size?: number;
  private readonly bucket: R2BucketLike;
  private readonly key: string;
  private readonly etag?: string;
  constructor(bucket: R2BucketLike, key: string, options: { size?: number; etag?: string } = {}) {
    this.bucket = bucket;
    this.key = key;
    this.name = `r2:${key}`;
    this.size = options.size;
    this.etag = options.etag;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    if (length === 0) return new Uint8Array(0);
    const onlyIf = this.etag === undefined ? undefined : { etagMatches: this.etag };
    let bytes: Uint8Array;
    try {
      const obj = await this.bucket.get(this.key, { range: { offset, length }, onlyIf });
      if (obj === null) throw new StaleObjectError(`${this.name}: object not found`);
      if (!("arrayBuffer" in obj)) throw new StaleObjectError(`${this.name}: object changed (etag is no longer ${this.etag})`);
      bytes = new Uint8Array(await obj.arrayBuffer());
    } catch (e) {
      // the binding's own failures (network, R2 errors, a broken body stream) are read failures too
      if (e instanceof UfbError) throw e;
      throw new UfbError("io", `${this.name}: read of bytes ${offset}+${length} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    checkLength(this, offset, length, bytes.length);
    return bytes;
  }
}
