/**
 * Models in R2 and the ones loaded in this isolate.
 *
 * Layout in the bucket: `models/<name>/<version>/{manifest.json, tokenizer.json, weights.bin}`, and
 * `models/<name>/current` holding the version a bare name means. Versions are immutable: a loaded model
 * reads weights.bin with `onlyIf: etagMatches`, so a request never mixes two uploads. The first use of a
 * version in an isolate reads its manifest, tokenizer and dense segment; embedding rows and FFF tiles
 * come later, on demand, through the block cache.
 */
import kernelModule from "../../wasm/build/kernels.wasm";
import { createKernel } from "../kernel/index.ts";
import { Engine } from "../model/engine.ts";
import { ModelError } from "../model/errors.ts";
import { loadStreamedWeights } from "../model/streamed.ts";
import {
  BlockCache,
  LimitedSource,
  type Manifest,
  ObservedSource,
  PackageError,
  R2Source,
  WeightPackage,
  parseManifest,
} from "../weights/index.ts";
import { type ModelInfo, ServiceError } from "./types.ts";

export interface RegistryOptions {
  bucket: R2Bucket;
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
  /** How long a `current` pointer is trusted before it is read again. */
  pointerTtlMs: number;
  /** Loaded models kept per isolate (least recently used dropped). */
  maxLoaded: number;
}

export interface LoadedModel {
  info: ModelInfo;
  engine: Engine;
  pkg: WeightPackage;
  cache: BlockCache;
  /** Where per-request read hooks are attached. */
  source: ObservedSource;
  /** Requests on one model take turns, so that their read counts can be told apart. */
  lock: Lock;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

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
    const { name, version } = await this.resolve(requested ?? this.options.defaultModel);
    const id = `${name}@${version}`;
    let entry = this.loaded.get(id);
    if (!entry) {
      entry = this.load(name, version);
      this.loaded.set(id, entry);
      // a failed load leaves nothing behind: the next request tries again
      entry.catch(() => this.loaded.delete(id));
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
      const page = await storage(() => this.options.bucket.list({ prefix: "models/", delimiter: "/", cursor }));
      for (const p of page.delimitedPrefixes) names.push(p.slice("models/".length, -1));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    const infos: ModelInfo[] = [];
    for (const name of names.sort()) {
      if (!NAME.test(name)) continue;
      let version: string;
      try {
        ({ version } = await this.resolve(name));
      } catch (e) {
        if (e instanceof ServiceError && e.code === "model_not_found") continue; // no current version yet
        throw e;
      }
      infos.push(modelInfo(name, version, await this.manifest(name, version)));
    }
    return infos;
  }

  private async resolve(spec: string): Promise<{ name: string; version: string }> {
    const [name, pinned, ...rest] = spec.split("@");
    if (!NAME.test(name) || rest.length > 0 || (pinned !== undefined && !NAME.test(pinned))) {
      throw new ServiceError("model_not_found", `model "${spec}": expected "name" or "name@version" (letters, digits, . _ -)`);
    }
    if (pinned !== undefined) return { name, version: pinned };
    const cached = this.pointers.get(name);
    if (cached && Date.now() - cached.at < this.options.pointerTtlMs) return { name, version: cached.version };
    const obj = await storage(() => this.options.bucket.get(`models/${name}/current`));
    if (!obj) throw new ServiceError("model_not_found", `model "${name}" does not exist`);
    const version = (await obj.text()).trim();
    if (!NAME.test(version)) throw new ServiceError("weights_unavailable", `models/${name}/current holds "${version.slice(0, 40)}", not a version`);
    this.pointers.set(name, { version, at: Date.now() });
    return { name, version };
  }

  private manifest(name: string, version: string): Promise<Manifest> {
    const id = `${name}@${version}`;
    let m = this.manifests.get(id);
    if (!m) {
      m = (async () => {
        const obj = await storage(() => this.options.bucket.get(`models/${name}/${version}/manifest.json`));
        if (!obj) throw new ServiceError("model_not_found", `model "${name}" has no version "${version}"`);
        return parseManifest(new Uint8Array(await obj.arrayBuffer()));
      })();
      this.manifests.set(id, m);
      m.catch(() => this.manifests.delete(id));
    }
    return m;
  }

  private async load(name: string, version: string): Promise<LoadedModel> {
    const o = this.options;
    const prefix = `models/${name}/${version}`;
    const manifest = await this.manifest(name, version);
    const head = await storage(() => o.bucket.head(`${prefix}/weights.bin`));
    if (!head) throw new ServiceError("weights_unavailable", `${prefix}/weights.bin is missing`);
    const source = new ObservedSource(new LimitedSource(new R2Source(o.bucket, `${prefix}/weights.bin`, { size: head.size, etag: head.etag }), o.maxReads));
    const pkg = await WeightPackage.open({
      manifest: JSON.stringify(manifest),
      tokenizer: async () => {
        const t = await storage(() => o.bucket.get(`${prefix}/tokenizer.json`));
        if (!t) throw new PackageError("io", `${prefix}/tokenizer.json is missing`);
        return new Uint8Array(await t.arrayBuffer());
      },
      weights: source,
      maxGap: o.maxGap,
    });
    const kernel = createKernel(kernelModule);
    const region = kernel.alloc(o.cacheBytes, 64);
    const cache = new BlockCache({ base: region, bytes: o.cacheBytes, write: (at, data) => kernel.u8(at, data.length).set(data) });
    const weights = await loadStreamedWeights(pkg, kernel, cache, { keyPrefix: `${name}@${version}`, wholeLayerBytes: o.wholeLayerBytes });
    const engine = await Engine.create(pkg, kernel, { weights });
    return { info: modelInfo(name, version, manifest), engine, pkg, cache, source, lock: new Lock() };
  }
}

export function modelInfo(name: string, version: string, m: Manifest): ModelInfo {
  const c = m.config;
  const nodesPerTree = 2 ** (c.fffDepth + 1) - 1;
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
    neurons: { perLayer: c.fffTrees * nodesPerTree, perTokenPerLayer: c.fffTrees * (c.fffDepth + 1) },
    packageBytes: m.weights.bytes + m.tokenizer.bytes,
    dtype: m.quantization.dtype,
  };
}

/** R2 calls that throw (network, timeouts) become weights_unavailable. */
async function storage<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof ServiceError || e instanceof PackageError || e instanceof ModelError) throw e;
    throw new ServiceError("weights_unavailable", "the weight store could not be read", { cause: e });
  }
}

/** A FIFO mutex. */
export class Lock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.tail.then(work);
    this.tail = next.catch(() => {});
    return next;
  }
}
