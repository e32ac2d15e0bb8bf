/**
 * The Worker's variables → the registry's options (defaults below). Plain code, no Worker globals: the
 * benchmarks build the same options in Node.
 */
import { UfbError } from "../errors.ts";
import { CACHE_API_MODES, type CacheApiMode } from "../model/stores/cache-api.ts";
import { DEFAULT_READ_TIMEOUT_MS, type RegistryBucket, type RegistryOptions } from "./registry.ts";

export interface ServiceEnv {
  WEIGHTS: RegistryBucket;
  MODEL?: string;
  /** Default model of embed requests (/v1/embed, TEI /embed, OpenAI /v1/embeddings); unset: MODEL. */
  EMBED_MODEL?: string;
  /** Block cache per loaded model, in MiB (default 48: keeps a 1x11-long model's isolate under 128 MB). */
  CACHE_MB?: string;
  /** Longest wait for one R2 call, in ms (default 10000); then the request answers 503 weights_unavailable. */
  READ_TIMEOUT_MS?: string;
  /**
   * The Cache API as a second level (docs/streaming.md): "off", "bulk" (default: dense segment and whole
   * small FFF layers) or "all" (also tiles and embedding blocks; two subrequests per missed piece).
   */
  CACHE_API?: string;
  /** Cache API calls (match + put) per request at most (default 16); then pieces come from R2 only. */
  CACHE_API_MAX_OPS?: string;
}

export const DEFAULTS = {
  cacheMiB: 48,
  maxReads: 6,
  maxGap: 4096,
  // both shipped classifiers read each FFF layer in one piece (2x9: 2.03 MiB, 1x11: 4.06 MiB per layer), which
  // keeps a cold request inside the Free plan's 50 subrequests; larger layers are read tile by tile
  wholeLayerBytes: 4.5 * 1024 * 1024,
  prefetchTopTier: true,
  pointerTtlMs: 60_000,
  maxLoaded: 2,
  readTimeoutMs: DEFAULT_READ_TIMEOUT_MS,
  cacheApi: "bulk" as CacheApiMode,
  cacheApiMaxOps: 16,
} as const;

/**
 * @param cache the Cache API's cache for the second level (the Worker: `caches.default`); without it the
 *   second level is off whatever CACHE_API says.
 */
export function serviceOptions(env: ServiceEnv, cache?: () => Cache | Promise<Cache>): Omit<RegistryOptions, "kernelModule"> {
  const cacheMiB = env.CACHE_MB === undefined || env.CACHE_MB === "" ? DEFAULTS.cacheMiB : Number(env.CACHE_MB);
  if (!(cacheMiB >= 1 && cacheMiB <= 1024)) throw new UfbError("bad_config", `CACHE_MB: expected a number of MiB in [1, 1024], got ${env.CACHE_MB}`);
  const readTimeoutMs = env.READ_TIMEOUT_MS === undefined || env.READ_TIMEOUT_MS === "" ? DEFAULTS.readTimeoutMs : Number(env.READ_TIMEOUT_MS);
  if (!(readTimeoutMs >= 1 && readTimeoutMs <= 300_000)) throw new UfbError("bad_config", `READ_TIMEOUT_MS: expected milliseconds in [1, 300000], got ${env.READ_TIMEOUT_MS}`);
  const cacheApi = (env.CACHE_API || DEFAULTS.cacheApi) as CacheApiMode;
  if (!CACHE_API_MODES.includes(cacheApi)) throw new UfbError("bad_config", `CACHE_API: expected one of ${CACHE_API_MODES.join(", ")}, got ${env.CACHE_API}`);
  const maxOps = env.CACHE_API_MAX_OPS === undefined || env.CACHE_API_MAX_OPS === "" ? DEFAULTS.cacheApiMaxOps : Number(env.CACHE_API_MAX_OPS);
  if (!(Number.isInteger(maxOps) && maxOps >= 0 && maxOps <= 10_000)) throw new UfbError("bad_config", `CACHE_API_MAX_OPS: expected an integer in [0, 10000], got ${env.CACHE_API_MAX_OPS}`);
  if (!env.MODEL) throw new UfbError("bad_config", "MODEL: the default model is not set (wrangler.toml [vars])");
  return {
    bucket: env.WEIGHTS,
    defaultModel: env.MODEL,
    embedModel: env.EMBED_MODEL || undefined,
    cacheBytes: Math.round(cacheMiB * 1024 * 1024),
    maxReads: DEFAULTS.maxReads,
    maxGap: DEFAULTS.maxGap,
    wholeLayerBytes: DEFAULTS.wholeLayerBytes,
    prefetchTopTier: DEFAULTS.prefetchTopTier,
    pointerTtlMs: DEFAULTS.pointerTtlMs,
    maxLoaded: DEFAULTS.maxLoaded,
    readTimeoutMs,
    cacheApi: cache ? { mode: cacheApi, maxOps, cache } : undefined,
  };
}

