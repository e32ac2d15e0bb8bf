/**
 * `npm run upload -- <package-dir> --name <name> [options]`: puts a package into an R2 bucket in the layout
 * the Worker reads (src/service/registry.ts, scripts/lib/package.ts), with `wrangler r2 object put`;
 * `npm run upload -- --defaults [options]`: the Worker's default models, weights/<MODEL>/ and
 * weights/<EMBED_MODEL>/ (wrangler.toml [vars]) under their names (a pinned name@version keeps its version):
 *
 *   1. models/<name>/<version>/weights.bin
 *   2. models/<name>/<version>/tokenizer.json
 *   3. models/<name>/<version>/manifest.json   last of the version: a version with a manifest is complete
 *   4. models/<name>/current = <version>        only with --make-current, and only after 1-3 succeeded
 *
 * <version> defaults to the content version sha256(manifest.json)[:12]: a changed package is a new,
 * immutable version; re-uploading an unchanged one rewrites identical bytes.
 *
 * Options:
 *   --defaults          instead of <package-dir> and --name: both default models, one after the other
 *   --name <name>       model name in the bucket (required; what requests and wrangler.toml MODEL say)
 *   --version <v>       override the content version (must never be reused for different bytes)
 *   --bucket <b>        bucket name (default: wrangler.toml's R2 binding WEIGHTS)
 *   --make-current      point models/<name>/current at this version (what a bare name serves)
 *   --local             the local bucket of `wrangler dev` (.wrangler/state) instead of the real one (--remote)
 *   --dry-run           print the commands and exit; nothing is read from or written to any bucket
 *
 * Needs, for the real bucket: `wrangler login` or CLOUDFLARE_API_TOKEN (+ CLOUDFLARE_ACCOUNT_ID); see docs/deploy.md.
 */
import { spawn } from "node:child_process";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { REPO, readWorkerConfig } from "./lib/config.ts";
import { PackageDirError, checkName, currentKey, fmtBytes, objectKey, readPackageDir } from "./lib/package.ts";
import { WRANGLER_CLI } from "./lib/wrangler-dev.ts";

/** wrangler r2 object put refuses files above 300 MiB (MAX_UPLOAD_SIZE_BYTES in wrangler 4.156). */
export const WRANGLER_MAX_PUT = 300 * 1024 * 1024;

export const USAGE = `Usage: npm run upload -- <package-dir> --name <name> [--version <v>] [--bucket <b>] [--make-current] [--local] [--dry-run]
       npm run upload -- --defaults [--bucket <b>] [--make-current] [--local] [--dry-run]`;

export interface UploadStep {
  key: string;
  /** wrangler arguments after "wrangler". */
  args: string[];
  /** Bytes piped to stdin (the current pointer), else undefined. */
  stdin?: string;
  bytes: number;
}

export async function planUpload(argv: string[]): Promise<{ steps: UploadStep[]; summary: string; dryRun: boolean }> {
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
        defaults: { type: "boolean" },
      },
    });
  } catch (e) {
    throw new PackageDirError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
  const { values: v, positionals } = parsed;
  if (v.local && v.remote) throw new PackageDirError("--local and --remote: pick one");
  if (v.defaults) {
    if (positionals.length > 0 || v.name !== undefined || v.version !== undefined) {
      throw new PackageDirError("--defaults takes the packages, names and versions from wrangler.toml (MODEL, EMBED_MODEL): no <package-dir>, --name or --version");
    }
    const cfg = await readWorkerConfig();
    const bucket = checkBucket(v.bucket ?? cfg.bucket);
    const specs = [...new Set([cfg.model, cfg.embedModel])];
    const plans = specs.map((spec) => {
      const [name, pinned] = spec.split("@");
      return planPackage(join(REPO, "weights", name), name, pinned, bucket, v.local === true, v["make-current"] === true, pinned !== undefined);
    });
    return { steps: plans.flatMap((p) => p.steps), summary: plans.map((p) => p.summary).join("\n[upload] "), dryRun: v["dry-run"] === true };
  }
  if (positionals.length !== 1) throw new PackageDirError(positionals.length === 0 ? "missing <package-dir>" : `unexpected argument ${JSON.stringify(positionals[1])}`);
  if (v.name === undefined) throw new PackageDirError("--name is required (the model name in the bucket, e.g. --name sst2-1x11)");
  const name = checkName("--name", v.name);
  const bucket = checkBucket(v.bucket ?? (await readWorkerConfig()).bucket);
  const { steps, summary } = planPackage(positionals[0], name, v.version, bucket, v.local === true, v["make-current"] === true, v.version !== undefined);
  return { steps, summary, dryRun: v["dry-run"] === true };
}

function checkBucket(bucket: string): string {
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) throw new PackageDirError(`--bucket ${JSON.stringify(bucket)}: R2 bucket names are 3-63 characters of a-z, 0-9 and -`);
  return bucket;
}

/** The puts of one package folder as models/<name>/<version>/… (and the current pointer when asked). */
function planPackage(dir: string, name: string, givenVersion: string | undefined, bucket: string, local: boolean, makeCurrent: boolean, versionGiven: boolean): { steps: UploadStep[]; summary: string } {
  const pkg = readPackageDir(dir);
  const version = checkName("--version", givenVersion ?? pkg.contentVersion);
  const where = local ? "--local" : "--remote";
  const steps: UploadStep[] = [];
  for (const f of pkg.files) {
    if (f.bytes > WRANGLER_MAX_PUT) {
      throw new PackageDirError(`${f.path}: ${fmtBytes(f.bytes)}; wrangler r2 object put takes at most 300 MiB per object. Upload it with an S3 client (multipart) to the same key; see docs/deploy.md`);
    }
    const key = objectKey(name, version, f.file);
    steps.push({ key, bytes: f.bytes, args: ["r2", "object", "put", `${bucket}/${key}`, "--file", f.path, "--content-type", f.contentType, where] });
  }
  if (makeCurrent) {
    const key = currentKey(name);
    steps.push({ key, bytes: version.length, stdin: version, args: ["r2", "object", "put", `${bucket}/${key}`, "--pipe", "--content-type", "text/plain", where] });
  }
  const summary =
    `${relative(REPO, pkg.dir) || pkg.dir} → ${local ? "local" : "remote"} bucket ${bucket}: ${name}@${version}` +
    `${versionGiven ? " (version given)" : " (content version: sha256(manifest.json)[:12])"}, ${fmtBytes(pkg.totalBytes)}` +
    `${makeCurrent ? `, then models/${name}/current = ${version}` : `; current not changed (add --make-current to serve it as "${name}")`}`;
  return { steps, summary };
}

const quote = (s: string) => (/^[A-Za-z0-9_./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function commandLine(step: UploadStep): string {
  const cmd = `npx wrangler ${step.args.map(quote).join(" ")}`;
  return step.stdin === undefined ? cmd : `printf %s ${quote(step.stdin)} | ${cmd}`;
}

function runStep(step: UploadStep): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--no-warnings", WRANGLER_CLI, ...step.args], {
      cwd: REPO,
      stdio: [step.stdin === undefined ? "ignore" : "pipe", "inherit", "inherit"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    if (step.stdin !== undefined) child.stdin!.end(step.stdin);
    child.once("exit", (code) => resolve(code ?? 1));
    child.once("error", () => resolve(1));
  });
}

async function main(argv: string[]): Promise<number> {
  const { steps, summary, dryRun } = await planUpload(argv);
  console.log(`[upload] ${summary}`);
  if (dryRun) {
    console.log("[upload] --dry-run: these commands would run, in this order:");
    for (const s of steps) console.log(commandLine(s));
    return 0;
  }
  for (const [i, s] of steps.entries()) {
    console.log(`[upload] ${i + 1}/${steps.length} ${s.key} (${fmtBytes(s.bytes)})`);
    const code = await runStep(s);
    if (code !== 0) {
      const done = steps.slice(0, i).map((x) => x.key);
      console.error(`[upload] failed at ${s.key} (wrangler exit ${code}). Written before it: ${done.length ? done.join(", ") : "nothing"}.`);
      console.error(`[upload] a version without manifest.json is invisible to the Worker, and current was ${s.key.endsWith("/current") ? "not changed" : "not touched"}; run the same command again.`);
      return 1;
    }
  }
  console.log(`[upload] done: ${steps.length} object(s)`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`[upload] error: ${e instanceof Error ? e.message : String(e)}`);
      if (!(e instanceof PackageDirError) || process.env.UFB_DEBUG === "1") console.error(USAGE);
      process.exit(e instanceof PackageDirError ? 2 : 1);
    },
  );
}
