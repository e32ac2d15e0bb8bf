/**
 * A fault-injecting wrapper around the test runtime's R2 binding: the subset of R2Bucket the registry
 * uses (get, head, list), passing through to the real bucket unless a rule matches the call. It also
 * records every call, so tests can count reads (and re-reads) of any byte range independently of the
 * service's own usage counters.
 *
 * Faults: `missing` (get/head answer null), `short` (fewer bytes than asked), `corrupt` (one bit flipped
 * at an absolute object offset), `throw` (the call rejects), `slow` (the call waits for a gate or a delay
 * before answering), `delay` (waits `ms` on a timer of the calling request, then answers), `stall` (answers,
 * but the body never finishes: a read that hangs part-way, as over a truncated blob whose index still names
 * the old size), `changed` (as if the etag no longer matched: an object without a body), `shared` (I/O
 * shared between requests, what the Worker must never do: the first get of a key and range also fetches a
 * second copy of the real R2 object, in the calling request, and keeps it unread; every later get of that
 * key and range, from whichever request, is answered with the kept object, as a read layer that shared
 * in-flight R2 objects instead of bytes would answer a joiner).
 *
 * `patchBinding` installs the faults into the Worker's own R2 binding object (the one `exports.default.fetch`
 * hands to src/index.ts), so that tests can drive real, separate requests through the Worker entry.
 */
import type { RegistryBucket } from "../../src/service/registry.ts";

export interface BucketCall {
  op: "get" | "head" | "list";
  key: string;
  /** Ranged gets: the absolute byte range asked for. */
  range?: { offset: number; length: number };
  /** Which rule (by name) altered the call, if any. */
  fault?: string;
}

export type Fault =
  | { kind: "missing" }
  | { kind: "short"; drop?: number }
  | { kind: "corrupt"; at: number }
  | { kind: "throw"; message?: string }
  | { kind: "slow"; until: Promise<unknown> }
  | { kind: "delay"; ms: number }
  | { kind: "stall" }
  | { kind: "changed" }
  | { kind: "shared" };

export interface FaultRule {
  name: string;
  /** Which calls it applies to. */
  op?: BucketCall["op"];
  key?: string | RegExp;
  /** Only ranged gets whose range holds this absolute offset (for `corrupt`: the flipped byte). */
  covers?: number;
  /** Only ranged gets starting at or after this offset. */
  from?: number;
  /** Applies this many times, then passes calls through (default: every time). */
  times?: number;
  fault: Fault;
}

export const INJECTED = "INJECTED-FAULT";

export class FaultyBucket {
  readonly calls: BucketCall[] = [];
  private readonly inner: R2Bucket;
  private rules: FaultRule[] = [];
  /** `shared`: the kept R2 objects, by key and range. */
  private readonly kept = new Map<string, R2ObjectBody>();

  constructor(inner: R2Bucket) {
    this.inner = inner;
  }

  /** As the registry sees it. */
  get bucket(): RegistryBucket {
    return this as unknown as RegistryBucket;
  }

  inject(...rules: FaultRule[]): this {
    this.rules.push(...rules.map((r) => ({ ...r })));
    return this;
  }

  heal(): this {
    this.rules = [];
    return this;
  }

  resetCalls(): this {
    this.calls.length = 0;
    return this;
  }

  /** Calls made so far that match. */
  count(filter: { op?: BucketCall["op"]; key?: string | RegExp; covers?: number; fault?: string } = {}): number {
    return this.calls.filter((c) => matches(c, filter)).length;
  }

  /** Ranged gets of a key, as [offset, length] pairs. */
  ranges(key: string | RegExp): BucketCall["range"][] {
    return this.calls.filter((c) => c.op === "get" && c.range && keyMatches(c.key, key)).map((c) => c.range);
  }

  private rule(call: BucketCall): FaultRule | undefined {
    for (const r of this.rules) {
      if (r.times !== undefined && r.times <= 0) continue;
      if (r.op !== undefined && r.op !== call.op) continue;
      if (r.key !== undefined && !keyMatches(call.key, r.key)) continue;
      if (r.covers !== undefined && !(call.range && call.range.offset <= r.covers && r.covers < call.range.offset + call.range.length)) continue;
      if (r.from !== undefined && !(call.range && call.range.offset >= r.from)) continue;
      if (r.times !== undefined) r.times--;
      call.fault = r.name;
      return r;
    }
    return undefined;
  }

  async head(key: string): Promise<R2Object | null> {
    const call: BucketCall = { op: "head", key };
    this.calls.push(call);
    const r = this.rule(call);
    if (r) {
      const early = await before(r.fault);
      if (early !== undefined) return early as null;
    }
    return this.inner.head(key);
  }

  async list(options?: R2ListOptions): Promise<R2Objects> {
    const call: BucketCall = { op: "list", key: options?.prefix ?? "" };
    this.calls.push(call);
    const r = this.rule(call);
    if (r) await before(r.fault);
    return this.inner.list(options);
  }

  async get(key: string, options?: R2GetOptions): Promise<R2ObjectBody | R2Object | null> {
    const range = options?.range && "offset" in options.range && options.range.offset !== undefined && options.range.length !== undefined
      ? { offset: options.range.offset, length: options.range.length }
      : undefined;
    const call: BucketCall = { op: "get", key, range };
    this.calls.push(call);
    const r = this.rule(call);
    if (!r) return this.inner.get(key, options);
    const early = await before(r.fault);
    if (early !== undefined) return early as null;
    const f = r.fault;
    if (f.kind === "slow" || f.kind === "delay") return this.inner.get(key, options);
    if (f.kind === "shared") {
      const id = `${key}@${range ? `${range.offset}+${range.length}` : "all"}`;
      const kept = this.kept.get(id);
      if (kept) return kept;
      const copy = await this.inner.get(key, options);
      if (copy && "body" in copy) this.kept.set(id, copy);
      return this.inner.get(key, options);
    }
    const obj = await this.inner.get(key, options);
    if (!obj) return obj;
    if (f.kind === "stall") return stalled(obj as R2ObjectBody);
    if (f.kind === "changed") {
      const { size, etag, key: k } = obj;
      return { key: k, size, etag } as unknown as R2Object; // what a failed onlyIf returns: no body
    }
    let bytes = new Uint8Array(await (obj as R2ObjectBody).arrayBuffer());
    if (f.kind === "short") bytes = bytes.slice(0, Math.max(0, bytes.length - (f.drop ?? Math.ceil(bytes.length / 2))));
    if (f.kind === "corrupt") {
      const at = f.at - (range?.offset ?? 0);
      if (at >= 0 && at < bytes.length) bytes[at] ^= 0x10;
    }
    return body(obj, bytes);
  }
}

/** Faults that answer before the inner call; `slow` waits, then lets the call through. */
async function before(f: Fault): Promise<null | undefined> {
  if (f.kind === "missing") return null;
  if (f.kind === "throw") throw new Error(`${INJECTED}: ${f.message ?? "storage exploded"} at internal/secret/path.ts:1:1`);
  if (f.kind === "slow") await f.until;
  if (f.kind === "delay") await new Promise((resolve) => setTimeout(resolve, f.ms));
  return undefined;
}

/** An object whose body never finishes: every way of reading it waits forever. */
function stalled(obj: R2ObjectBody): R2ObjectBody {
  const never = () => new Promise<never>(() => {});
  return { key: obj.key, size: obj.size, etag: obj.etag, httpEtag: obj.httpEtag, range: obj.range, arrayBuffer: never, text: never, json: never } as unknown as R2ObjectBody;
}

/**
 * Routes the calls of a real R2 binding object (get, head, list) through a FaultyBucket over its original
 * methods; `restore()` puts the originals back. The binding object is shared by the test and the Worker
 * entry in the test runtime, so every request the Worker serves meets the faults.
 */
export function patchBinding(binding: R2Bucket): { faulty: FaultyBucket; restore: () => void } {
  const target = binding as unknown as Record<string, unknown>;
  const original = { get: binding.get.bind(binding), head: binding.head.bind(binding), list: binding.list.bind(binding), put: binding.put.bind(binding) };
  const faulty = new FaultyBucket(original as unknown as R2Bucket);
  target.get = faulty.get.bind(faulty);
  target.head = faulty.head.bind(faulty);
  target.list = faulty.list.bind(faulty);
  return {
    faulty,
    restore: () => {
      delete target.get;
      delete target.head;
      delete target.list;
    },
  };
}

function body(obj: R2Object, bytes: Uint8Array): R2ObjectBody {
  return {
    key: obj.key,
    size: obj.size,
    etag: obj.etag,
    httpEtag: obj.httpEtag,
    range: (obj as R2ObjectBody).range,
    arrayBuffer: async () => bytes.slice().buffer,
    text: async () => new TextDecoder().decode(bytes),
    json: async () => JSON.parse(new TextDecoder().decode(bytes)),
  } as unknown as R2ObjectBody;
}

function keyMatches(key: string, want: string | RegExp): boolean {
  return typeof want === "string" ? key === want : want.test(key);
}

function matches(c: BucketCall, f: { op?: BucketCall["op"]; key?: string | RegExp; covers?: number; fault?: string }): boolean {
  if (f.op !== undefined && c.op !== f.op) return false;
  if (f.key !== undefined && !keyMatches(c.key, f.key)) return false;
  if (f.fault !== undefined && c.fault !== f.fault) return false;
  if (f.covers !== undefined && !(c.range && c.range.offset <= f.covers && f.covers < c.range.offset + c.range.length)) return false;
  return true;
}

/** A gate a `slow` fault waits on: `open()` lets the held calls through. */
export function gate(): { until: Promise<void>; open: () => void } {
  let open!: () => void;
  const until = new Promise<void>((resolve) => (open = resolve));
  return { until, open };
}
