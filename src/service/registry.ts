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
import { UfbError } from "../errors.ts";
import { createKernel, type KernelBuild } from "../kernel/index.ts";
import type { CacheApiOptions } from "../model/stores/cache-api.ts";
import { type StreamedModel, openStreamed } from "../model/stores/open.ts";
import { fffLevels, fffNodesPerTree } from "../weights/format/config.ts";
import { MODELS_PREFIX, NAME, currentKey, nameOfPrefix, objectKey } from "../weights/format/bucket.ts";
import { type Manifest, parseManifest } from "../weights/format/manifest.ts";
import { storageCall } from "../weights/read/limiter.ts";
import { type R2BucketLike, R2Source } from "../weights/read/sources.ts";
import type { ModelInfo } from "./types.ts";

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


export class ModelRegistry {
  private readonly options: RegistryOptions;
  private readonly loaded = new Map<string, Promise<LoadedModel>>();
  private readonly pointers = new Map<string, { version: string; at: number }>();
  private readonly manifests = new Map<string, Promise<Manifest>>();

  constructor(options: RegistryOptions) {
    this.options = options;
  }

  /** The model a request names (or the default), loaded. */
  async model(requested?: string): Promise<LoadedModel> {
    const { name, version, pinned } = await this.resolve(requested ?? this.options.defaultModel);
    const id = `${name}@${version}`;
    let entry = this.loaded.get(id);
    if (!entry) {
      const loading = this.load(name, version, pinned);
      entry = loading;
      this.loaded.set(id, loading);
      // a failed load leaves nothing behind: the next request tries again
      loading.catch(() => {
        if (this.loaded.get(id) === loading) this.loaded.delete(id);
      });
      while (this.loaded.size > this.options.maxLoaded) this.loaded.delete(this.loaded.keys().next().value!);
    } else {
      this.loaded.delete(id); // re-insert: most recently used last
      this.loaded.set(id, entry);
    }
    return entry;
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
      infos.push(modelInfo(name, version, await this.manifest(name, version, pinned), this.options.kernelBuild));
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
      const loading = (async () => {
        const bytes = await this.readObject(objectKey(name, version, "manifest.json"));
        if (!bytes) {
          if (pinned) throw new UfbError("model_not_found", `model "${name}" has no version "${version}"`);
          throw new UfbError("io", `${currentKey(name)} names ${version}, whose manifest.json is missing`);
        }
        return parseManifest(bytes);
      })();
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
      cacheApi: o.cacheApi,
    });
    return { info: modelInfo(name, version, manifest, o.kernelBuild), ...streamed };
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

export function modelInfo(name: string, version: string, m: Manifest, kernel?: KernelBuild): ModelInfo {
  const c = m.config;
  return {
    name,
    version,
    kind: c.kind,
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
    },
    neurons: { perLayer: c.fffTrees * fffNodesPerTree(c), perTokenPerLayer: c.fffTrees * fffLevels(c) },
    packageBytes: m.weights.bytes + m.tokenizer.bytes,
    dtype: m.quantization.dtype,
    ...(kernel ? { kernel } : {}),
  };
}
