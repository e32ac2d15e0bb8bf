/**
 * Models in R2 and the ones loaded in this isolate.
 *
 * Layout in the bucket: `models/<name>/<version>/{manifest.json, tokenizer.json, weights.bin}`, and
 * `models/<name>/current` holding the version a bare name means. Versions are immutable: a loaded model
 * reads weights.bin with `onlyIf: etagMatches`, so a request never mixes two uploads. The first use of a
 * version in an isolate reads its manifest, tokenizer and dense segment; embedding rows and FFF tiles
 * come later, on demand, through the block cache.
 *
 * Failures (docs/streaming.md): a name without a `current` pointer, or a pinned version without a manifest,
 * is `model_not_found`; anything that cannot be read (a missing object, a short read, a throw, no answer
 * within `readTimeoutMs`) is `weights_unavailable`; bytes that fail their sha256 twice (one re-read) are
 * `weights_corrupt`. A failed load leaves nothing behind, so the next request starts over.
 */
import { IntegrityError, StaleObjectError, UfbError } from "../errors.ts";
import { createKernel, type KernelBuild } from "../kernel/index.ts";
import type { CacheApiOptions } from "../model/stores/cache-api.ts";
import { type StreamedModel, openStreamed } from "../model/stores/open.ts";
import { type Task, fffLevels, fffNodesPerTree, packageTasks } from "../weights/format/config.ts";
import { MODELS_PREFIX, NAME, currentKey, nameOfPrefix, objectKey } from "../weights/format/bucket.ts";
import { type Manifest, parseManifest } from "../weights/format/manifest.ts";
import { storageCall, withTimeout } from "../weights/read/limiter.ts";
import { sha256Hex, withOneRetry } from "../weights/read/sha256.ts";
import { type R2BucketLike, R2Source } from "../weights/read/sources.ts";
import type { ModelInfo, PhaseTimer } from "./types.ts";

/**
 * The part of an R2 binding the registry uses (tests wrap it to inject faults; bench/cold.ts stands in for
 * it). Spelled out rather than Pick<R2Bucket, …> so that Node code (the benchmarks) can use the registry.
 */
export type RegistryBucket = R2BucketLike & {
  // an object without a body only answers a conditional get (R2Source's); the registry's gets are plain
  get(key: string): Promise<{ size: number; arrayBuffer(): Promise<ArrayBuffer> } | { size: number; body?: undefined } | null>;
  head(key: string): Promise<{ size: number; etag: string } | null>;
  list(options: { prefix: string; delimiter: string; cursor?: string }): Promise<{ delimitedPrefixes: string[]; truncated: boolean; cursor?: string }>;
};

export interface RegistryOptions {
  bucket: RegistryBucket;
  /** The compiled kernels (wasm/build/kernels.wasm); each loaded model gets its own instance and memory. */
  kernelModule: WebAssembly.Module;
  /** Which build kernelModule is (reported in GET /v1/models); absent: not reported. */
  kernelBuild?: KernelBuild;
  /** Default model: "name" (its `current` version) or "name@version". */
  defaultModel: string;
  /**
   * Default model of embed requests (EMBED_MODEL), as `defaultModel`; absent: `defaultModel`. A sentiment
   * classifier's pooled vector is no similarity measure, so embeddings default to a model trained for them.
   */
  embedModel?: string;
  /** Bytes of kernel memory per loaded model for cached tiles and embedding blocks. */
  cacheBytes: number;
  /** Reads in flight per model (Workers: 6 connections per invocation). */
  maxReads: number;
  /** Coalesce reads across gaps up to this many bytes. */
  maxGap: number;
  /** Read a model's FFF layer whole when it is at most this big. */
  wholeLayerBytes: number;
  /** Fetch every layer's top FFF tier while the dense segment loads (every token's path starts there). */
  prefetchTopTier?: boolean;
  /** How long a `current` pointer is trusted before it is read again. */
  pointerTtlMs: number;
  /** Loaded models kept per isolate (least recently used dropped). */
  maxLoaded: number;
  /**
   * Longest wait for one storage call (a ranged read, a manifest or tokenizer get, a head, a list page),
   * body included; then the call counts as failed (503). Default 10 s.
   */
  readTimeoutMs?: number;
  /**
   * The Cache API as a second level under the block cache (src/model/stores/cache-api.ts); absent or mode "off":
   * none. Its call timeout is min(readTimeoutMs, 2 s).
   */
  cacheApi?: Omit<CacheApiOptions, "timeoutMs">;
}

/** A model of the bucket, opened for streaming: what /v1/models says about it, and its engine and stores. */
export interface LoadedModel extends StreamedModel {
  info: ModelInfo;
}


/** A content version (what `npm run upload` and `npm run dev` name versions by): sha256(manifest.json)[:n]. */
export const CONTENT_VERSION = /^[0-9a-f]{12,64}$/;

/** A model load, shared by the requests that ask for it while it runs. */
interface Load {
  promise: Promise<LoadedModel>;
  /** Set once it succeeded. */
  model?: LoadedModel;
}

export class ModelRegistry {
  private readonly options: RegistryOptions;
  private readonly loaded = new Map<string, Load>();
  private readonly pointers = new Map<string, { version: string; at: number }>();
  private readonly manifests = new Map<string, Promise<Manifest>>();

  constructor(options: RegistryOptions) {
    this.options = options;
  }

  /** The model spec ("name" or "name@version") a request for `task` that names no model is answered by. */
  defaultFor(task: Task): string {
    return task === "embed" ? (this.options.embedModel ?? this.options.defaultModel) : this.options.defaultModel;
  }

  /**
   * The model a request names (or the default of its task), loaded. Unless it is loaded and its pointer
   * fresh, the time until it is ready (pointer and manifest reads, the load, or waiting for another request's
   * load) is the request's `load` phase.
   */
  async model(requested?: string, timer?: PhaseTimer, task: Task = "classify"): Promise<LoadedModel> {
    const spec = requested ?? this.defaultFor(task);
    const warm = this.warm(spec);
    if (warm) return warm;
    timer?.start("load");
    try {
      return await this.open(spec);
    } finally {
      timer?.end("load");
    }
  }

  /** The loaded model for `spec` when nothing needs reading or waiting (pointer fresh, load done, engine sound). */
  private warm(spec: string): LoadedModel | undefined {
    const [name, pinned] = spec.split("@");
    let version = pinned;
    if (version === undefined) {
      const cached = this.pointers.get(name);
      if (!cached || Date.now() - cached.at >= this.options.pointerTtlMs) return undefined;
      version = cached.version;
    }
    const id = `${name}@${version}`;
    const entry = this.loaded.get(id);
    if (!entry?.model || entry.model.engine.broken) return undefined;
    this.loaded.delete(id); // re-insert: most recently used last
    this.loaded.set(id, entry);
    return entry.model;
  }

  /**
   * Resolves and loads. The request that starts a load awaits it itself; a request that finds it running
   * joins it for at most `joinTimeoutMs`, on its own timer (the load's I/O belongs to the request that
   * started it and dies with it), then drops it so that the next request loads again. A model whose engine
   * is broken (a run stuck past its deadline) is replaced.
   */
  private async open(spec: string): Promise<LoadedModel> {
    const { name, version, pinned } = await this.resolve(spec);
    const id = `${name}@${version}`;
    const entry = this.loaded.get(id);
    if (entry) {
      this.loaded.delete(id); // re-insert: most recently used last
      this.loaded.set(id, entry);
      const model = entry.model ?? (await this.join(id, entry));
      if (!model.engine.broken) return model;
      this.forget(model);
    }
    const load: Load = { promise: this.load(name, version, pinned) };
    this.loaded.set(id, load);
    // a failed load leaves nothing behind: the next request tries again
    load.promise.then(
      (m) => void (load.model = m),
      () => {
        if (this.loaded.get(id) === load) this.loaded.delete(id);
      },
    );
    while (this.loaded.size > this.options.maxLoaded) this.loaded.delete(this.loaded.keys().next().value!);
    return load.promise;
  }

  private async join(id: string, load: Load): Promise<LoadedModel> {
    try {
      return await withTimeout(load.promise, this.joinTimeoutMs, `joined load of ${id}`);
    } catch (e) {
      if (this.loaded.get(id) === load) this.loaded.delete(id);
      throw e;
    }
  }

  /**
   * Drops a loaded model (if it is still the one loaded): its engine is broken, or the bucket's objects
   * changed under it (StaleObjectError). The next request loads the version again from its manifest.
   */
  forget(model: LoadedModel): void {
    const id = `${model.info.name}@${model.info.version}`;
    if (this.loaded.get(id)?.model === model) this.loaded.delete(id);
  }

  /** What a failed run on `model` says about it: drop it when the stored objects changed or it is stuck. */
  failed(model: LoadedModel, err: unknown): void {
    if (model.engine.broken || err instanceof StaleObjectError || (err instanceof Error && err.name === "StaleObjectError")) this.forget(model);
  }

  /** Loaded models and their memory: kernel (wasm) memory, block cache use, loads in flight. */
  loadedModels(): { id: string; wasmBytes: number; cache: { budgetBytes: number; usedBytes: number; entries: number; evictions: number; loadsInFlight: number } }[] {
    const out = [];
    for (const [id, load] of this.loaded) {
      const m = load.model;
      if (!m) continue;
      const s = m.cache.stats;
      out.push({
        id,
        wasmBytes: m.engine.kernel.memory.buffer.byteLength,
        cache: { budgetBytes: this.options.cacheBytes, usedBytes: s.usedBytes, entries: s.entries, evictions: s.evictions, loadsInFlight: m.cache.loadsInFlight },
      });
    }
    return out;
  }

  private get joinTimeoutMs(): number {
    // a load is a few storage calls in a row (manifest, head, tokenizer and dense segment, top tier), each
    // bounded by the read timeout, plus one re-read of a corrupt piece
    return 6 * this.timeoutMs;
  }

  /** A model's info from its manifest (nothing is loaded). */
  async info(requested?: string): Promise<ModelInfo> {
    const { name, version, pinned } = await this.resolve(requested ?? this.options.defaultModel);
    return modelInfo(name, version, await this.manifest(name, version, pinned), this.defaultsOf(name, version));
  }

  /** Every model in the bucket with a `current` version (manifests only; nothing is loaded). */
  async list(): Promise<ModelInfo[]> {
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.storage(`list ${MODELS_PREFIX}`, () => this.options.bucket.list({ prefix: MODELS_PREFIX, delimiter: "/", cursor }));
      for (const p of page.delimitedPrefixes) names.push(nameOfPrefix(p));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    const infos: ModelInfo[] = [];
    for (const name of names.sort()) {
      if (!NAME.test(name)) continue;
      let version: string;
      let pinned: boolean;
      try {
        ({ version, pinned } = await this.resolve(name));
      } catch (e) {
        if (e instanceof UfbError && e.code === "model_not_found") continue; // no current version yet
        throw e;
      }
      infos.push(modelInfo(name, version, await this.manifest(name, version, pinned), this.defaultsOf(name, version), this.options.kernelBuild));
    }
    return infos;
  }

  /** `pinned`: the request named the version (name@version) rather than following `current`. */
  private async resolve(spec: string): Promise<{ name: string; version: string; pinned: boolean }> {
    const [name, pinned, ...rest] = spec.split("@");
    if (!NAME.test(name) || rest.length > 0 || (pinned !== undefined && !NAME.test(pinned))) {
      throw new UfbError("model_not_found", `model "${spec}": expected "name" or "name@version" (letters, digits, . _ -)`);
    }
    if (pinned !== undefined) return { name, version: pinned, pinned: true };
    const cached = this.pointers.get(name);
    if (cached && Date.now() - cached.at < this.options.pointerTtlMs) return { name, version: cached.version, pinned: false };
    const bytes = await this.readObject(currentKey(name));
    if (!bytes) throw new UfbError("model_not_found", `model "${name}" does not exist`);
    const version = new TextDecoder().decode(bytes).trim();
    if (!NAME.test(version)) {
      throw new UfbError("bad_package", `${currentKey(name)} holds "${version.slice(0, 40)}", not a version`);
    }
    this.pointers.set(name, { version, at: Date.now() });
    return { name, version, pinned: false };
  }

  /**
   * A version's manifest. Missing: the version does not exist when the request pinned it (404), but the
   * store is inconsistent when `current` points at it (503: writers put the manifest before the pointer).
   */
  private manifest(name: string, version: string, pinned: boolean): Promise<Manifest> {
    const id = `${name}@${version}`;
    let m = this.manifests.get(id);
    if (!m) {
      const key = objectKey(name, version, "manifest.json");
      const loading = withOneRetry(async () => {
        const bytes = await this.readObject(key);
        if (!bytes) {
          if (pinned) throw new UfbError("model_not_found", `model "${name}" has no version "${version}"`);
          throw new UfbError("io", `${currentKey(name)} names ${version}, whose manifest.json is missing`);
        }
        // a content version is the manifest's own sha256 (prefix): the bytes must hash to it, or they are
        // not the version's manifest (a damaged or edited object), and nothing read from them is cached
        if (CONTENT_VERSION.test(version)) {
          const actual = await sha256Hex(bytes);
          if (!actual.startsWith(version)) throw new IntegrityError(key, `${version}…`, actual);
        }
        return parseManifest(bytes);
      });
      m = loading;
      this.manifests.set(id, loading);
      loading.catch(() => {
        if (this.manifests.get(id) === loading) this.manifests.delete(id);
      });
    }
    return m;
  }

  private async load(name: string, version: string, pinned: boolean): Promise<LoadedModel> {
    const o = this.options;
    const id = `${name}@${version}`;
    const manifest = await this.manifest(name, version, pinned);
    const weightsKey = objectKey(name, version, "weights.bin");
    const head = await this.storage(`head ${weightsKey}`, () => o.bucket.head(weightsKey));
    if (!head) throw new UfbError("io", `${weightsKey} is missing`);
    const streamed = await openStreamed(new R2Source(o.bucket, weightsKey, { size: head.size, etag: head.etag }), createKernel(o.kernelModule), {
      identity: id,
      name,
      etag: head.etag,
      manifest,
      tokenizer: async () => {
        const key = objectKey(name, version, "tokenizer.json");
        const t = await this.readObject(key);
        if (!t) throw new UfbError("io", `${key} is missing`);
        return t;
      },
      cacheBytes: o.cacheBytes,
      maxReads: o.maxReads,
      maxGap: o.maxGap,
      wholeLayerBytes: o.wholeLayerBytes,
      prefetchTopTier: o.prefetchTopTier,
      readTimeoutMs: this.timeoutMs,
      joinTimeoutMs: this.joinTimeoutMs,
      cacheApi: o.cacheApi,
    });
    return { info: modelInfo(name, version, manifest, this.defaultsOf(name, version), o.kernelBuild), ...streamed };
  }

  /**
   * The tasks whose default is this model's version: a default spec names it by name alone (then whatever
   * `current` names is the default) or pins this version.
   */
  private defaultsOf(name: string, version: string): Task[] {
    const tasks: Task[] = ["classify", "embed", "fill-mask"];
    return tasks.filter((t) => {
      const [n, pinned] = this.defaultFor(t).split("@");
      return n === name && (pinned === undefined || pinned === version);
    });
  }

  private get timeoutMs(): number {
    return this.options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  }

  private storage<T>(what: string, call: () => Promise<T>): Promise<T> {
    return storageCall(what, this.timeoutMs, call);
  }

  /**
   * A whole small object (pointer, manifest, tokenizer), body included, under one timeout; null when it does
   * not exist. A body shorter than the object's size is a short read (UfbError "io"), not a corrupt file.
   */
  private readObject(key: string): Promise<Uint8Array | null> {
    return this.storage(`get ${key}`, async () => {
      const obj = await this.options.bucket.get(key);
      if (!obj) return null;
      if (!("arrayBuffer" in obj)) throw new UfbError("io", `${key}: the store answered without a body`);
      const bytes = new Uint8Array(await obj.arrayBuffer());
      if (bytes.length !== obj.size) throw new UfbError("io", `${key}: got ${bytes.length} of ${obj.size} bytes`);
      return bytes;
    });
  }
}

export const DEFAULT_READ_TIMEOUT_MS = 10_000;

/** @param defaults the tasks it answers by default; only those it can do are kept (MODEL may name an embedding model). */
export function modelInfo(name: string, version: string, m: Manifest, defaults: Task[], kernel?: KernelBuild): ModelInfo {
  const c = m.config;
  const tasks = packageTasks(c);
  return {
    name,
    version,
    kind: c.kind,
    tasks,
    defaultFor: defaults.filter((t) => tasks.includes(t)),
    labels: c.labels,
    config: {
      hiddenSize: c.hiddenSize,
      numLayers: c.numLayers,
      numHeads: c.numHeads,
      fffTrees: c.fffTrees,
      fffDepth: c.fffDepth,
      vocabSize: c.vocabSize,
      maxSeqLength: c.maxSeqLength,
      pooler: c.pooler,
      normalize: c.normalize ?? null,
    },
    neurons: { perLayer: c.fffTrees * fffNodesPerTree(c), perTokenPerLayer: c.fffTrees * fffLevels(c) },
    packageBytes: m.weights.bytes + m.tokenizer.bytes,
    dtype: m.quantization.dtype,
    ...(kernel ? { kernel } : {}),
  };
}
