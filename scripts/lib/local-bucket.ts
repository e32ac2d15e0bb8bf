/**
 * The LOCAL R2 bucket that `wrangler dev` serves (miniflare persistence under .wrangler/state/v3), written
 * through wrangler's getPlatformProxy(): the same bindings and the same storage as `wrangler dev`, without
 * starting the Worker. Seeding verifies, it does not trust: every object of the version is read back and
 * compared with the package folder (size and sha256, bucket-sync.ts, the comparison `npm run upload` uses
 * too), and only what is missing or differs is written again (weights and tokenizer before the manifest),
 * so a damaged local bucket is repaired, and said so.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { getPlatformProxy } from "wrangler";
import { type DefaultModel, REPO } from "./config.ts";
import { type Digest, describeStep, digestOf, planSync } from "./bucket-sync.ts";
import { type PackageDir, currentKey, objectKey, readPackageDir } from "./package.ts";

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
    const wanted = pkg.files.map((f) => {
      const body = readFileSync(f.path);
      return { key: objectKey(name, version, f.file), want: digestOf(body), source: { file: f, body } };
    });
    // every object is read back and hashed: the local bucket is on disk, so this is quick (22 MB: < 1 s)
    const found = new Map<string, Digest | null>();
    for (const w of wanted) {
      const obj = await bucket.get(w.key);
      found.set(w.key, obj ? digestOf(new Uint8Array(await obj.arrayBuffer())) : null);
    }
    const plan = planSync(wanted, found);
    const written: string[] = [];
    for (const step of plan.writes) {
      log(`  ${describeStep(step)}`);
      const { file, body } = step.source;
      await bucket.put(step.key, body, {
        httpMetadata: { contentType: file.contentType },
        customMetadata: file.file === "manifest.json" ? { sha256: pkg.manifestSha256 } : {},
      });
      written.push(step.key);
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
    return { name, version, written, alreadyThere: complete, repaired: plan.repairs.map((r) => ({ key: r.key, problem: r.problem })) };
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

/** The parts of the R2 binding used here (kept structural: the scripts are type-checked as Node code). */
interface R2BucketLike {
  get(key: string): Promise<{ text(): Promise<string>; arrayBuffer(): Promise<ArrayBuffer> } | null>;
  put(key: string, value: Uint8Array | string, options?: { httpMetadata?: { contentType?: string }; customMetadata?: Record<string, string> }): Promise<unknown>;
}
