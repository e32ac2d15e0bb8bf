/**
 * An R2 stand-in for the cold-path benchmark (bench/cold.ts): the subset of the Workers R2Bucket binding the
 * service uses (get with range and onlyIf.etagMatches, head, list with delimiter), over package folders on
 * disk, laid out as the Worker expects (models/<name>/<version>/…, models/<name>/current).
 *
 * Every operation waits `latencyMs` (default 20) plus, optionally, bytes / `bandwidthMBps`, while holding one of
 * `maxInFlight` (default 6) slots: Workers allow 6 open connections per invocation and queue the rest
 * (edge-stack.md §6.1). Every operation is logged (key, range, start, end) so the benchmark can count reads
 * and bytes by segment and see the critical path.
 */
import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import { join } from "node:path";

export interface StandInOptions {
  latencyMs?: number;
  maxInFlight?: number;
  /** Per-read transfer rate in MB/s (10^6 bytes); undefined = latency only. */
  bandwidthMBps?: number;
}

export interface BucketOp {
  op: "get" | "head" | "list";
  key: string;
  offset?: number;
  length: number;
  /** ms since the bucket's epoch (resetLog()). */
  start: number;
  end: number;
}

interface Obj {
  path?: string;
  text?: string;
  size: number;
  etag: string;
}

export class StandInBucket {
  readonly ops: BucketOp[] = [];
  private readonly objects = new Map<string, Obj>();
  private readonly o: Required<Omit<StandInOptions, "bandwidthMBps">> & { bandwidthMBps?: number };
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private epoch = performance.now();
  /** Most operations in flight at once since resetLog(). */
  peakInFlight = 0;

  constructor(options: StandInOptions = {}) {
    this.o = { latencyMs: options.latencyMs ?? 20, maxInFlight: options.maxInFlight ?? 6, bandwidthMBps: options.bandwidthMBps };
  }

  /** Adds a package folder as models/<name>/<version>/ and, by default, points current at it. */
  async addPackage(name: string, version: string, dir: string, makeCurrent = true): Promise<void> {
    for (const file of ["manifest.json", "tokenizer.json", "weights.bin"]) {
      const path = join(dir, file);
      const s = await stat(path);
      // an etag like R2's (hex), derived from path, size and mtime: changes when the file does
      const etag = createHash("md5").update(`${path}:${s.size}:${s.mtimeMs}`).digest("hex");
      this.objects.set(`models/${name}/${version}/${file}`, { path, size: s.size, etag });
    }
    if (makeCurrent) this.putText(`models/${name}/current`, version);
  }

  putText(key: string, text: string): void {
    this.objects.set(key, { text, size: Buffer.byteLength(text), etag: createHash("md5").update(text).digest("hex") });
  }

  resetLog(): void {
    this.ops.length = 0;
    this.peakInFlight = 0;
    this.epoch = performance.now();
  }

  private async slot<T>(op: Omit<BucketOp, "start" | "end">, work: () => Promise<T>): Promise<T> {
    if (this.active >= this.o.maxInFlight) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    this.peakInFlight = Math.max(this.peakInFlight, this.active);
    const start = performance.now() - this.epoch;
    try {
      const wait = this.o.latencyMs + (this.o.bandwidthMBps ? op.length / (this.o.bandwidthMBps * 1000) : 0);
      await new Promise((r) => setTimeout(r, wait));
      return await work();
    } finally {
      this.ops.push({ ...op, start, end: performance.now() - this.epoch });
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private static async readRange(obj: Obj, offset: number, length: number): Promise<Uint8Array> {
    if (obj.text !== undefined) return new TextEncoder().encode(obj.text).subarray(offset, offset + length);
    const fh = await open(obj.path!, "r");
    try {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    } finally {
      await fh.close();
    }
  }

  async head(key: string) {
    const obj = this.objects.get(key);
    return this.slot({ op: "head", key, length: 0 }, async () => (obj ? meta(key, obj) : null));
  }

  async get(key: string, options?: { range?: { offset?: number; length?: number; suffix?: number }; onlyIf?: { etagMatches?: string } }) {
    const obj = this.objects.get(key);
    let offset = 0;
    let length = obj?.size ?? 0;
    if (obj && options?.range) {
      const r = options.range;
      if (r.suffix !== undefined) offset = Math.max(0, obj.size - r.suffix);
      else offset = r.offset ?? 0;
      length = Math.max(0, Math.min(r.length ?? obj.size - offset, obj.size - offset));
    }
    const precondition = obj !== undefined && options?.onlyIf?.etagMatches !== undefined && options.onlyIf.etagMatches !== obj.etag;
    return this.slot({ op: "get", key, offset: options?.range ? offset : undefined, length: obj && !precondition ? length : 0 }, async () => {
      if (!obj) return null;
      if (precondition) return meta(key, obj); // R2: an object without a body
      const bytes = await StandInBucket.readRange(obj, offset, length);
      return {
        ...meta(key, obj),
        range: options?.range ? { offset, length: bytes.length } : undefined,
        // a new ArrayBuffer per call, as R2's body; no second copy when the read filled its buffer
        arrayBuffer: async () =>
          (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as ArrayBuffer,
        text: async () => new TextDecoder().decode(bytes),
        json: async () => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
      };
    });
  }

  async list(options: { prefix?: string; delimiter?: string; cursor?: string } = {}) {
    return this.slot({ op: "list", key: options.prefix ?? "", length: 0 }, async () => {
      const prefix = options.prefix ?? "";
      const objects: ReturnType<typeof meta>[] = [];
      const prefixes = new Set<string>();
      for (const [key, obj] of [...this.objects].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (!key.startsWith(prefix)) continue;
        const rest = key.slice(prefix.length);
        const cut = options.delimiter ? rest.indexOf(options.delimiter) : -1;
        if (cut >= 0) prefixes.add(prefix + rest.slice(0, cut + options.delimiter!.length));
        else objects.push(meta(key, obj));
      }
      return { objects, delimitedPrefixes: [...prefixes], truncated: false as const };
    });
  }
}

function meta(key: string, obj: Obj) {
  return { key, size: obj.size, etag: obj.etag, httpEtag: `"${obj.etag}"`, uploaded: new Date(0), customMetadata: {}, httpMetadata: {} };
}
