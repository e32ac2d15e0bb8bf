/**
 * The LOCAL R2 bucket that `wrangler dev` serves (miniflare persistence under .wrangler/state/v3), written
 * through wrangler's getPlatformProxy(): the same bindings and the same storage as `wrangler dev`, without
 * starting the Worker. Seeding is idempotent: a version whose manifest.json is in the bucket is complete
 * (manifest written after the weights and tokenizer) and, being a content version, cannot be stale.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getPlatformProxy } from "wrangler";
import { REPO } from "./config.ts";
import { type PackageDir, currentKey, fmtBytes, objectKey } from "./package.ts";

export interface SeedResult {
  name: string;
  version: string;
  /** Objects written (0 when the version was already there and current). */
  written: string[];
  alreadyThere: boolean;
}

export interface SeedOptions {
  name: string;
  /** Default: the content version. */
  version?: string;
  /** Write models/<name>/current (default true). */
  makeCurrent?: boolean;
  /** wrangler config (default wrangler.toml) and persistence folder (default .wrangler/state/v3, as wrangler dev). */
  configPath?: string;
  persistPath?: string;
  log?: (line: string) => void;
}

export async function seedLocalBucket(pkg: PackageDir, options: SeedOptions): Promise<SeedResult> {
  const log = options.log ?? (() => {});
  const version = options.version ?? pkg.contentVersion;
  const { name } = options;
  const proxy = await getPlatformProxy<{ WEIGHTS: R2BucketLike }>({
    configPath: options.configPath ?? join(REPO, "wrangler.toml"),
    persist: options.persistPath ? { path: options.persistPath } : true,
    remoteBindings: false,
  });
  try {
    const bucket = proxy.env.WEIGHTS;
    const written: string[] = [];
    const manifestKey = objectKey(name, version, "manifest.json");
    const head = await bucket.head(manifestKey);
    const manifest = pkg.files.find((f) => f.file === "manifest.json")!;
    const complete = head !== null && head.size === manifest.bytes && head.customMetadata?.sha256 === pkg.manifestSha256;
    if (!complete) {
      for (const f of pkg.files) {
        const key = objectKey(name, version, f.file);
        log(`  put ${key} (${fmtBytes(f.bytes)})`);
        const body = readFileSync(f.path);
        await bucket.put(key, body, {
          httpMetadata: { contentType: f.contentType },
          customMetadata: f.file === "manifest.json" ? { sha256: pkg.manifestSha256 } : {},
        });
        written.push(key);
      }
    }
    if (options.makeCurrent ?? true) {
      const cur = await bucket.get(currentKey(name));
      const now = cur ? (await cur.text()).trim() : undefined;
      if (now !== version) {
        log(`  put ${currentKey(name)} = ${version}${now ? ` (was ${now})` : ""}`);
        await bucket.put(currentKey(name), version, { httpMetadata: { contentType: "text/plain" } });
        written.push(currentKey(name));
      }
    }
    return { name, version, written, alreadyThere: complete };
  } finally {
    await proxy.dispose();
  }
}

/** The parts of the R2 binding used here (kept structural: the scripts are type-checked as Node code). */
interface R2BucketLike {
  head(key: string): Promise<{ size: number; customMetadata?: Record<string, string> } | null>;
  get(key: string): Promise<{ text(): Promise<string> } | null>;
  put(key: string, value: Uint8Array | string, options?: { httpMetadata?: { contentType?: string }; customMetadata?: Record<string, string> }): Promise<unknown>;
}
