/**
 * The LOCAL R2 bucket that `wrangler dev` serves (miniflare persistence under .wrangler/state/v3), written
 * through wrangler's getPlatformProxy(): the same bindings and the same storage as `wrangler dev`, without
 * starting the Worker. Seeding verifies, it does not trust: every object of the version is read back and
 * compared with the package folder (size and sha256), and only what is missing or differs is written again
 * (weights and tokenizer before the manifest), so a damaged local bucket is repaired, and said so.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { getPlatformProxy } from "wrangler";
import { type DefaultModel, REPO } from "./config.ts";
import { type PackageDir, currentKey, fmtBytes, objectKey, readPackageDir } from "./package.ts";

export interface SeedResult {
  name: string;
  version: string;
  /** Objects written (0 when the version was already there, intact, and current). */
  written: string[];
  alreadyThere: boolean;
  /** Objects that were in the bucket but differed from the folder (size or sha256), with what was wrong. */
  repaired: { key: string; problem: string }[];
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
    const repaired: SeedResult["repaired"] = [];
    // manifest.json last: a version whose manifest is there is complete for the Worker
    const ordered = [...pkg.files.filter((f) => f.file !== "manifest.json"), ...pkg.files.filter((f) => f.file === "manifest.json")];
    for (const f of ordered) {
      const key = objectKey(name, version, f.file);
      const body = readFileSync(f.path);
      const problem = await differs(bucket, key, body);
      if (problem === null) continue;
      if (problem !== "missing") {
        repaired.push({ key, problem });
        log(`  repair ${key}: ${problem}`);
      } else log(`  put ${key} (${fmtBytes(f.bytes)})`);
      await bucket.put(key, body, {
        httpMetadata: { contentType: f.contentType },
        customMetadata: f.file === "manifest.json" ? { sha256: pkg.manifestSha256 } : {},
      });
      written.push(key);
    }
    const complete = written.length === 0;
    if (options.makeCurrent ?? true) {
      const cur = await bucket.get(currentKey(name));
      const now = cur ? (await cur.text()).trim() : undefined;
      if (now !== version) {
        log(`  put ${currentKey(name)} = ${version}${now ? ` (was ${now})` : ""}`);
        await bucket.put(currentKey(name), version, { httpMetadata: { contentType: "text/plain" } });
        written.push(currentKey(name));
      }
    }
    return { name, version, written, alreadyThere: complete, repaired };
  } finally {
    await proxy.dispose();
  }
}

/**
 * Seeds each default model from <weightsDir>/<name>/ (the content version, or the version its spec pins) and
 * makes it current; a model whose folder has no manifest.json is skipped and returned in `missing`, for the
 * caller to decide (npm run dev stops without MODEL's package and serves on without EMBED_MODEL's).
 */
export async function seedDefaults(
  models: DefaultModel[],
  options: Omit<SeedOptions, "name" | "version" | "makeCurrent"> & { weightsDir?: string },
): Promise<{ seeded: (SeedResult & { model: DefaultModel; pkg: PackageDir })[]; missing: DefaultModel[] }> {
  const seeded = [];
  const missing: DefaultModel[] = [];
  for (const model of models) {
    const [name, pinned] = model.spec.split("@");
    const dir = join(options.weightsDir ?? join(REPO, "weights"), name);
    if (!existsSync(join(dir, "manifest.json"))) {
      missing.push(model);
      continue;
    }
    const pkg = readPackageDir(dir);
    const result = await seedLocalBucket(pkg, { ...options, name, version: pinned ?? pkg.contentVersion, makeCurrent: true });
    seeded.push({ ...result, model, pkg });
  }
  return { seeded, missing };
}

/** null when the bucket holds exactly `want` at `key`; else what is wrong ("missing", a size or sha256 mismatch). */
async function differs(bucket: R2BucketLike, key: string, want: Uint8Array): Promise<string | null> {
  const obj = await bucket.get(key);
  if (!obj) return "missing";
  const got = new Uint8Array(await obj.arrayBuffer());
  if (got.length !== want.length) return `${got.length} bytes in the bucket, ${want.length} in the folder`;
  const a = createHash("sha256").update(got).digest("hex");
  const b = createHash("sha256").update(want).digest("hex");
  return a === b ? null : `sha256 ${a.slice(0, 12)}… in the bucket, ${b.slice(0, 12)}… in the folder`;
}

/** The parts of the R2 binding used here (kept structural: the scripts are type-checked as Node code). */
interface R2BucketLike {
  head(key: string): Promise<{ size: number; customMetadata?: Record<string, string> } | null>;
  get(key: string): Promise<{ text(): Promise<string>; arrayBuffer(): Promise<ArrayBuffer> } | null>;
  put(key: string, value: Uint8Array | string, options?: { httpMetadata?: { contentType?: string }; customMetadata?: Record<string, string> }): Promise<unknown>;
}
