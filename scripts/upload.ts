/**
 * `npm run upload -- <package-dir> --name <name> [options]`: puts a package into an R2 bucket in the layout
 * the Worker reads (src/service/registry.ts, scripts/lib/package.ts), with `wrangler r2 object put`:
 *
 *   1. models/<name>/<version>/weights.bin
 *   2. models/<name>/<version>/tokenizer.json
 *   3. models/<name>/<version>/manifest.json   last of the version: a version with a manifest is complete
 *   4. models/<name>/current = <version>        only with --make-current, and only after 1-3 succeeded
 *
 * It verifies before it writes: every object of the version is read back from the bucket (`wrangler r2
 * object get --pipe`, hashed as it streams, no temporary file) and compared with the folder, size and
 * sha256 (scripts/lib/bucket-sync.ts, the comparison `npm run dev` uses for the local bucket). Only what is
 * missing or differs is written, what differed is named ("repair …"), and what was written is read back
 * and checked again. wrangler 4.156's CLI has no head command and puts no custom metadata, so the check
 * reads the bytes: one Class B read per object, egress free.
 *
 * <version> defaults to the content version sha256(manifest.json)[:12]: a changed package is a new,
 * immutable version.
 *
 * Options:
 *   --defaults          instead of <package-dir> and --name: both default models (wrangler.toml MODEL, EMBED_MODEL), one after the other
 *   --name <name>       model name in the bucket (required; what requests and wrangler.toml MODEL say)
 *   --version <v>       override the content version (must never be reused for different bytes)
 *   --bucket <b>        bucket name (default: wrangler.toml's R2 binding WEIGHTS)
 *   --make-current      point models/<name>/current at this version (what a bare name serves)
 *   --local             the local bucket of `wrangler dev` (.wrangler/state) instead of the real one (--remote)
 *   --check             verify only: say what differs, write nothing; exit 1 when anything would be written
 *   --dry-run           print the put commands and exit; nothing is read from or written to any bucket
 *
 * Needs, for the real bucket: `wrangler login` or CLOUDFLARE_API_TOKEN (+ CLOUDFLARE_ACCOUNT_ID); see docs/deploy.md.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { type Digest, type SyncStep, describeStep, digestOfFile, planSync } from "./lib/bucket-sync.ts";
import { REPO, readWorkerConfig } from "./lib/config.ts";
import { PackageDirError, checkName, currentKey, fmtBytes, objectKey, readPackageDir } from "./lib/package.ts";
import { WRANGLER_CLI } from "./lib/wrangler-dev.ts";

/** wrangler r2 object put refuses files above 300 MiB (MAX_UPLOAD_SIZE_BYTES in wrangler 4.156). */
export const WRANGLER_MAX_PUT = 300 * 1024 * 1024;

export const USAGE = `Usage: npm run upload -- <package-dir> --name <name> [--version <v>] [--bucket <b>] [--make-current] [--local] [--check] [--dry-run]
       npm run upload -- --defaults [--bucket <b>] [--make-current] [--local] [--check] [--dry-run]`;

export interface UploadStep {
  key: string;
  /** <bucket>/<key>, as wrangler names an object. */
  objectPath: string;
  /** The package file it puts (absent for the current pointer). */
  file?: string;
  /** wrangler arguments after "wrangler". */
  args: string[];
  /** Bytes piped to stdin (the current pointer), else undefined. */
  stdin?: string;
  bytes: number;
}

/** One package folder's puts, in order. */
export interface PackagePlan {
  steps: UploadStep[];
  summary: string;
  /** The version the pointer names (with --make-current). */
  version: string;
}

export interface UploadPlan {
  /** One package, or both default models with --defaults. */
  packages: PackagePlan[];
  dryRun: boolean;
  check: boolean;
  where: "--local" | "--remote";
}

export async function planUpload(argv: string[]): Promise<UploadPlan> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        name: { type: "string" },
        version: { type: "string" },
        bucket: { type: "string" },
        "make-current": { type: "boolean" },
        local: { type: "boolean" },
        remote: { type: "boolean" },
        "dry-run": { type: "boolean" },
        check: { type: "boolean" },
        defaults: { type: "boolean" },
      },
    });
  } catch (e) {
    throw new PackageDirError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
  const { values: v, positionals } = parsed;
  if (v.local && v.remote) throw new PackageDirError("--local and --remote: pick one");
  if (v.check && v["dry-run"]) throw new PackageDirError("--check reads the bucket, --dry-run does not: pick one");
  const where = v.local ? "--local" : "--remote";
  const modes = { dryRun: v["dry-run"] === true, check: v.check === true, where } as const;
  if (v.defaults) {
    if (positionals.length > 0 || v.name !== undefined || v.version !== undefined) {
      throw new PackageDirError("--defaults takes the packages, names and versions from wrangler.toml (MODEL, EMBED_MODEL): no <package-dir>, --name or --version");
    }
    const cfg = await readWorkerConfig();
    const bucket = checkBucket(v.bucket ?? cfg.bucket);
    const specs = [...new Set([cfg.model, cfg.embedModel])];
    const packages = specs.map((spec) => {
      const [name, pinned] = spec.split("@");
      return planPackage(join(REPO, "weights", name), name, pinned, bucket, where, v["make-current"] === true);
    });
    return { packages, ...modes };
  }
  if (positionals.length !== 1) throw new PackageDirError(positionals.length === 0 ? "missing <package-dir>" : `unexpected argument ${JSON.stringify(positionals[1])}`);
  if (v.name === undefined) throw new PackageDirError("--name is required (the model name in the bucket, e.g. --name sst2-1x11)");
  const name = checkName("--name", v.name);
  const bucket = checkBucket(v.bucket ?? (await readWorkerConfig()).bucket);
  return { packages: [planPackage(positionals[0], name, v.version, bucket, where, v["make-current"] === true)], ...modes };
}

function checkBucket(bucket: string): string {
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) throw new PackageDirError(`--bucket ${JSON.stringify(bucket)}: R2 bucket names are 3-63 characters of a-z, 0-9 and -`);
  return bucket;
}

/** The puts of one package folder as models/<name>/<version>/… (and the current pointer when asked). */
function planPackage(dir: string, name: string, givenVersion: string | undefined, bucket: string, where: "--local" | "--remote", makeCurrent: boolean): PackagePlan {
  const pkg = readPackageDir(dir);
  const version = checkName("--version", givenVersion ?? pkg.contentVersion);
  const steps: UploadStep[] = [];
  for (const f of pkg.files) {
    if (f.bytes > WRANGLER_MAX_PUT) {
      throw new PackageDirError(`${f.path}: ${fmtBytes(f.bytes)}; wrangler r2 object put takes at most 300 MiB per object. Upload it with an S3 client (multipart) to the same key; see docs/deploy.md`);
    }
    const key = objectKey(name, version, f.file);
    steps.push({ key, objectPath: `${bucket}/${key}`, file: f.path, bytes: f.bytes, args: ["r2", "object", "put", `${bucket}/${key}`, "--file", f.path, "--content-type", f.contentType, where] });
  }
  if (makeCurrent) {
    const key = currentKey(name);
    steps.push({ key, objectPath: `${bucket}/${key}`, bytes: version.length, stdin: version, args: ["r2", "object", "put", `${bucket}/${key}`, "--pipe", "--content-type", "text/plain", where] });
  }
  const summary =
    `${relative(REPO, pkg.dir) || pkg.dir} → ${where === "--local" ? "local" : "remote"} bucket ${bucket}: ${name}@${version}` +
    `${givenVersion !== undefined ? " (version given)" : " (content version: sha256(manifest.json)[:12])"}, ${fmtBytes(pkg.totalBytes)}` +
    `${makeCurrent ? `, then models/${name}/current = ${version}` : `; current not changed (add --make-current to serve it as "${name}")`}`;
  return { steps, summary, version };
}

const quote = (s: string) => (/^[A-Za-z0-9_./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function commandLine(step: UploadStep): string {
  const cmd = `npx wrangler ${step.args.map(quote).join(" ")}`;
  return step.stdin === undefined ? cmd : `printf %s ${quote(step.stdin)} | ${cmd}`;
}

/** How the upload reaches the bucket: wrangler's CLI here, an in-memory bucket in test/node/scripts.test.ts. */
export interface BucketAccess {
  /** Size and sha256 of the object's bytes; null when there is no such object. */
  digest(objectPath: string): Promise<Digest | null>;
  /** The object's text (the current pointer); null when there is no such object. */
  text(objectPath: string): Promise<string | null>;
  /** Runs a put; resolves to its exit status. */
  put(step: UploadStep): Promise<number>;
}

const wranglerEnv = () => ({ ...process.env, WRANGLER_SEND_METRICS: "false" });

/** What wrangler 4.156 prints (and R2's API says) for a key that is not there. */
const NO_SUCH_KEY = /specified key does not exist|NoSuchKey|\b10007\b/i;

/**
 * `wrangler r2 object get <bucket>/<key> --pipe`, its output handed to `sink` as it streams. Resolves
 * true when the object was read, false when there is none; rejects on any other failure (not logged in,
 * no network, no such bucket), since then nothing can be said about the object.
 */
function wranglerGet(objectPath: string, where: string, sink: (chunk: Buffer) => void): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--no-warnings", WRANGLER_CLI, "r2", "object", "get", objectPath, "--pipe", where], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"], env: wranglerEnv() });
    let stderr = "";
    child.stdout!.on("data", sink);
    child.stderr!.on("data", (c: Buffer) => void (stderr = (stderr + c.toString()).slice(-4000)));
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve(true);
      else if (NO_SUCH_KEY.test(stderr)) resolve(false);
      else {
        const said = stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("🪵")).slice(-2).join(" ");
        reject(new Error(`wrangler r2 object get ${objectPath} ${where} failed (exit ${code}): ${said || "no message"}`));
      }
    });
  });
}

export function wranglerBucket(where: "--local" | "--remote"): BucketAccess {
  return {
    async digest(objectPath) {
      const hash = createHash("sha256");
      let size = 0;
      const there = await wranglerGet(objectPath, where, (c) => {
        size += c.length;
        hash.update(c);
      });
      return there ? { size, sha256: hash.digest("hex") } : null;
    },
    async text(objectPath) {
      const chunks: Buffer[] = [];
      return (await wranglerGet(objectPath, where, (c) => chunks.push(c))) ? Buffer.concat(chunks).toString("utf8") : null;
    },
    put: runStep,
  };
}

function runStep(step: UploadStep): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--no-warnings", WRANGLER_CLI, ...step.args], {
      cwd: REPO,
      stdio: [step.stdin === undefined ? "ignore" : "pipe", "inherit", "inherit"],
      env: wranglerEnv(),
    });
    if (step.stdin !== undefined) child.stdin!.end(step.stdin);
    child.once("exit", (code) => resolve(code ?? 1));
    child.once("error", () => resolve(1));
  });
}

/**
 * The upload: plan, then (unless --dry-run) look at every object in the bucket, write what is missing or
 * differs in order, and read back what was written. Resolves to the exit status.
 */
export async function upload(argv: string[], bucket?: BucketAccess, out: Output = console): Promise<number> {
  const { packages, dryRun, check, where } = await planUpload(argv);
  const access = bucket ?? wranglerBucket(where);
  let status = 0;
  for (const pkg of packages) {
    const code = await uploadPackage(pkg, { dryRun, check }, access, out);
    if (code !== 0 && !check) return code;
    status ||= code;
  }
  return status;
}

interface Output {
  log(line: string): void;
  error(line: string): void;
}

async function uploadPackage({ steps, summary, version }: PackagePlan, { dryRun, check }: { dryRun: boolean; check: boolean }, access: BucketAccess, out: Output): Promise<number> {
  const say = (line: string) => out.log(line);
  say(`[upload] ${summary}`);
  if (dryRun) {
    say("[upload] --dry-run: these commands would run, in this order (the bucket is not read: an upload skips what is already there):");
    for (const s of steps) say(commandLine(s));
    return 0;
  }
  const files = steps.filter((s) => s.file !== undefined);
  const pointer = steps.find((s) => s.file === undefined);
  say(`[upload] checking ${files.length} object(s) in the bucket (size and sha256 of the bytes)…`);
  const [wanted, found] = await Promise.all([
    Promise.all(files.map(async (s) => ({ key: s.key, want: await digestOfFile(s.file!), source: s }))),
    Promise.all(files.map(async (s) => [s.key, await access.digest(s.objectPath)] as const)),
  ]);
  const plan = planSync(wanted, new Map(found));
  for (const key of plan.intact) say(`[upload] intact ${key}`);
  for (const w of plan.writes) say(`[upload] ${describeStep(w)}`);
  let pointerStep: UploadStep | undefined;
  if (pointer) {
    const now = (await access.text(pointer.objectPath))?.trim() ?? null;
    if (now === version) say(`[upload] intact ${pointer.key} = ${version}`);
    else {
      pointerStep = pointer;
      say(`[upload] put ${pointer.key} = ${version}${now === null ? "" : ` (was ${now})`}`);
    }
  }
  const toWrite: UploadStep[] = [...plan.writes.map((w) => w.source), ...(pointerStep ? [pointerStep] : [])];
  if (check) {
    say(toWrite.length === 0 ? "[upload] --check: the bucket holds the package exactly" : `[upload] --check: ${toWrite.length} object(s) would be written; nothing written`);
    return toWrite.length === 0 ? 0 : 1;
  }
  if (toWrite.length === 0) {
    say(`[upload] nothing to write: every object is already in the bucket, byte for byte`);
    return 0;
  }
  for (const [i, s] of toWrite.entries()) {
    say(`[upload] ${i + 1}/${toWrite.length} writing ${s.key} (${fmtBytes(s.bytes)})`);
    const code = await access.put(s);
    if (code !== 0) {
      const done = toWrite.slice(0, i).map((x) => x.key);
      out.error(`[upload] failed at ${s.key} (wrangler exit ${code}). Written before it: ${done.length ? done.join(", ") : "nothing"}.`);
      out.error(`[upload] a version without manifest.json is invisible to the Worker, and current was ${s.file === undefined ? "not changed" : "not touched"}; run the same command again.`);
      return 1;
    }
  }
  // read back what was written: a put that reported success but stored other bytes is caught here
  const again = await Promise.all(plan.writes.map(async (w) => [w.key, await access.digest(w.source.objectPath)] as const));
  const after = planSync(plan.writes, new Map(again));
  if (after.writes.length > 0) {
    for (const w of after.writes) out.error(`[upload] after writing, still wrong: ${w.key}: ${w.problem}`);
    return 1;
  }
  if (pointerStep && (await access.text(pointerStep.objectPath))?.trim() !== version) {
    out.error(`[upload] after writing, ${pointerStep.key} still does not name ${version}`);
    return 1;
  }
  const repaired = plan.repairs.map((r: SyncStep<UploadStep>) => r.key);
  say(
    `[upload] done: ${toWrite.length} object(s) written and read back` +
      (repaired.length ? `; repaired ${repaired.join(", ")}` : "") +
      (plan.intact.length ? `; ${plan.intact.length} already intact` : ""),
  );
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  upload(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`[upload] error: ${e instanceof Error ? e.message : String(e)}`);
      if (!(e instanceof PackageDirError) || process.env.UFB_DEBUG === "1") console.error(USAGE);
      process.exit(e instanceof PackageDirError ? 2 : 1);
    },
  );
}
