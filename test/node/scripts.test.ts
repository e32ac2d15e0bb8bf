/**
 * scripts/upload.ts (npm run upload) without a bucket: argument handling, the key layout, the content
 * version and the order of writes, through --dry-run as a user would run it; the comparison of a bucket
 * with a package folder (scripts/lib/bucket-sync.ts) and the verify-then-repair upload over an in-memory
 * bucket (no network, no wrangler). And what `npm run dev` seeds: both default models (MODEL, EMBED_MODEL)
 * into a local bucket of the test's own.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Digest, digestOf, objectProblem, planSync } from "../../scripts/lib/bucket-sync.ts";
import { defaultModels } from "../../scripts/lib/config.ts";
import { seedDefaults } from "../../scripts/lib/local-bucket.ts";
import { type BucketAccess, type UploadStep, upload as uploadWith } from "../../scripts/upload.ts";
import { REPO, sha256File, ufb } from "./ufb.ts";

const TINY = `${REPO}weights/tiny-synthetic`;
const VERSION = sha256File(`${TINY}/manifest.json`).slice(0, 12);

function upload(args: string[]) {
  const r = spawnSync(process.execPath, [`${REPO}scripts/upload.ts`, ...args], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, commands: r.stdout.split("\n").filter((l) => l.includes("wrangler r2 object put")) };
}

const tmp = mkdtempSync(join(tmpdir(), "ufb-upload-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("npm run upload --dry-run", { timeout: 60_000 }, () => {
  it("puts weights, tokenizer, then manifest under models/<name>/<content version>/, and current last", () => {
    const r = upload([TINY, "--name", "sst2-demo", "--make-current", "--dry-run"]);
    expect(r.code).toBe(0);
    const prefix = `ultrafastbert-weights/models/sst2-demo/${VERSION}`;
    expect(r.commands).toEqual([
      `npx wrangler r2 object put ${prefix}/weights.bin --file ${TINY}/weights.bin --content-type application/octet-stream --remote`,
      `npx wrangler r2 object put ${prefix}/tokenizer.json --file ${TINY}/tokenizer.json --content-type application/json --remote`,
      `npx wrangler r2 object put ${prefix}/manifest.json --file ${TINY}/manifest.json --content-type application/json --remote`,
      `printf %s ${VERSION} | npx wrangler r2 object put ultrafastbert-weights/models/sst2-demo/current --pipe --content-type text/plain --remote`,
    ]);
    expect(r.stdout).toContain("content version");
  });

  it("leaves current alone without --make-current; takes --version, --bucket and --local", () => {
    const r = upload([TINY, "--name", "m", "--version", "2026-11-29.1", "--bucket", "my-weights", "--local", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.commands).toHaveLength(3);
    expect(r.commands.every((c) => c.includes("my-weights/models/m/2026-11-29.1/") && c.endsWith("--local"))).toBe(true);
    expect(r.stdout).toMatch(/current not changed/);
  });

  it.each([
    [["--name", "m", "--dry-run"], /missing <package-dir>/],
    [[TINY, "--dry-run"], /--name is required/],
    [[TINY, "--name", "bad name", "--dry-run"], /--name "bad name": expected 1-64 characters/],
    [[TINY, "--name", "m", "--version", "a/b", "--dry-run"], /--version "a\/b"/],
    [[TINY, "--name", "m", "--bucket", "Bad_Bucket", "--dry-run"], /--bucket "Bad_Bucket"/],
    [[TINY, "--name", "m", "--local", "--remote", "--dry-run"], /pick one/],
    [[TINY, "--name", "m", "--frobnicate"], /Unknown option '--frobnicate'/],
    [[`${REPO}weights`, "--name", "m", "--dry-run"], /no manifest.json/],
  ])("refuses %j with a clear message and exit 2", (args, message) => {
    const r = upload(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.commands).toEqual([]);
  });

  it("refuses a package whose files do not have the sizes its manifest names", () => {
    const dir = join(tmp, "short");
    rmSync(dir, { recursive: true, force: true });
    spawnSync("mkdir", ["-p", dir]);
    for (const f of ["manifest.json", "tokenizer.json", "weights.bin"]) copyFileSync(join(TINY, f), join(dir, f));
    truncateSync(join(dir, "weights.bin"), 1000);
    const r = upload([dir, "--name", "m", "--dry-run"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/weights.bin: 1000 bytes, manifest.json says \d+/);
  });
});

describe("bucket-sync: a bucket's objects against the folder", () => {
  const want = digestOf("the bytes of a file");
  it("names what is wrong with an object: missing, size, sha256; null when it is exact", () => {
    expect(objectProblem(null, want)).toBe("missing");
    expect(objectProblem(digestOf("the bytes of a fil"), want)).toBe(`18 bytes in the bucket, 19 in the folder`);
    const flipped = digestOf("the bytes of a filE");
    expect(objectProblem(flipped, want)).toBe(`sha256 ${flipped.sha256.slice(0, 12)}… in the bucket, ${want.sha256.slice(0, 12)}… in the folder`);
    expect(objectProblem({ ...want }, want)).toBeNull();
    // the digest is sha256 of the bytes, not of anything said about them
    expect(want).toEqual({ size: 19, sha256: createHash("sha256").update("the bytes of a file").digest("hex") });
  });

  it("plans only the writes that are needed, weights and tokenizer before the manifest, and tells repairs from puts", () => {
    const key = (f: string) => `models/m/v1/${f}`;
    const wanted = ["manifest.json", "weights.bin", "tokenizer.json"].map((f) => ({ key: key(f), want: digestOf(f), source: f }));
    const found = new Map<string, Digest | null>([
      [key("manifest.json"), null],
      [key("weights.bin"), digestOf("weights.bi")],
      [key("tokenizer.json"), digestOf("tokenizer.json")],
    ]);
    const plan = planSync(wanted, found);
    expect(plan.writes.map((w) => [w.source, w.problem])).toEqual([
      ["weights.bin", "10 bytes in the bucket, 11 in the folder"],
      ["manifest.json", "missing"],
    ]);
    expect(plan.repairs.map((r) => r.source)).toEqual(["weights.bin"]);
    expect(plan.intact).toEqual([key("tokenizer.json")]);
    expect(() => planSync(wanted, new Map())).toThrow(/was not looked at/);
  });
});

/** A bucket in memory, as `wrangler r2 object get/put` would see it; `corruptPuts` stores other bytes. */
function memoryBucket(objects: Map<string, Uint8Array>, options: { corruptPuts?: boolean } = {}): BucketAccess & { puts: string[]; reads: number } {
  const bucket = {
    puts: [] as string[],
    reads: 0,
    async digest(path: string) {
      bucket.reads++;
      const b = objects.get(path);
      return b ? digestOf(b) : null;
    },
    async text(path: string) {
      const b = objects.get(path);
      return b ? new TextDecoder().decode(b) : null;
    },
    async put(step: UploadStep) {
      bucket.puts.push(step.key);
      const bytes = step.file !== undefined ? new Uint8Array(readFileSync(step.file)) : new TextEncoder().encode(step.stdin!);
      objects.set(step.objectPath, options.corruptPuts ? bytes.subarray(1) : bytes);
      return 0;
    },
  };
  return bucket;
}

describe("npm run upload verifies the bucket and writes only what differs", () => {
  const at = (f: string) => `b-ucket/models/m/${VERSION}/${f}`;
  const file = (f: string) => new Uint8Array(readFileSync(`${TINY}/${f}`));
  const args = [TINY, "--name", "m", "--bucket", "b-ucket", "--make-current"];
  async function run(objects: Map<string, Uint8Array>, extra: string[] = [], options: { corruptPuts?: boolean } = {}) {
    const bucket = memoryBucket(objects, options);
    const lines: string[] = [];
    const code = await uploadWith([...args, ...extra], bucket, { log: (l) => lines.push(l), error: (l) => lines.push(`ERR ${l}`) });
    return { code, puts: bucket.puts, lines, objects };
  }

  it("into an empty bucket: every object, weights and tokenizer, then the manifest, then current, each read back", async () => {
    const r = await run(new Map());
    expect(r.code).toBe(0);
    expect(r.puts).toEqual([`models/m/${VERSION}/weights.bin`, `models/m/${VERSION}/tokenizer.json`, `models/m/${VERSION}/manifest.json`, "models/m/current"]);
    for (const f of ["weights.bin", "tokenizer.json", "manifest.json"]) expect(r.objects.get(at(f))).toEqual(file(f));
    expect(new TextDecoder().decode(r.objects.get("b-ucket/models/m/current"))).toBe(VERSION);
    expect(r.lines.at(-1)).toMatch(/done: 4 object\(s\) written and read back$/);
  });

  it("over a damaged bucket: repairs the truncated and the changed object, names them, leaves the intact one alone", async () => {
    const tokenizer = file("tokenizer.json").slice();
    tokenizer[10] ^= 1;
    const objects = new Map<string, Uint8Array>([
      [at("weights.bin"), file("weights.bin").subarray(0, 1000)],
      [at("tokenizer.json"), tokenizer],
      [at("manifest.json"), file("manifest.json")],
      ["b-ucket/models/m/current", new TextEncoder().encode("older")],
    ]);
    const r = await run(objects);
    expect(r.code).toBe(0);
    expect(r.puts).toEqual([`models/m/${VERSION}/weights.bin`, `models/m/${VERSION}/tokenizer.json`, "models/m/current"]);
    expect(r.lines).toContain(`[upload] repair models/m/${VERSION}/weights.bin: 1000 bytes in the bucket, ${file("weights.bin").length} in the folder`);
    expect(r.lines.some((l) => l.startsWith(`[upload] repair models/m/${VERSION}/tokenizer.json: sha256 `))).toBe(true);
    expect(r.lines).toContain(`[upload] intact models/m/${VERSION}/manifest.json`);
    expect(r.lines).toContain(`[upload] put models/m/current = ${VERSION} (was older)`);
    expect(r.lines.at(-1)).toContain(`repaired models/m/${VERSION}/weights.bin, models/m/${VERSION}/tokenizer.json`);
    for (const f of ["weights.bin", "tokenizer.json"]) expect(r.objects.get(at(f))).toEqual(file(f));
  });

  it("over an intact bucket: writes nothing", async () => {
    const objects = new Map(["weights.bin", "tokenizer.json", "manifest.json"].map((f) => [at(f), file(f)] as const));
    objects.set("b-ucket/models/m/current", new TextEncoder().encode(VERSION));
    const r = await run(objects);
    expect(r.code).toBe(0);
    expect(r.puts).toEqual([]);
    expect(r.lines.at(-1)).toMatch(/nothing to write/);
  });

  it("--check reports what differs and writes nothing (exit 1)", async () => {
    const objects = new Map([[at("weights.bin"), file("weights.bin")]]);
    const r = await run(objects, ["--check"]);
    expect(r.code).toBe(1);
    expect(r.puts).toEqual([]);
    expect(r.lines).toContain(`[upload] intact models/m/${VERSION}/weights.bin`);
    expect(r.lines.filter((l) => l.startsWith("[upload] put "))).toHaveLength(3);
  });

  it("fails when what was written does not read back as the folder's bytes", async () => {
    const r = await run(new Map(), [], { corruptPuts: true });
    expect(r.code).toBe(1);
    expect(r.lines.filter((l) => l.startsWith("ERR [upload] after writing, still wrong"))).toHaveLength(3);
  });
});

describe("npm run upload --defaults", { timeout: 60_000 }, () => {
  const vars = readFileSync(`${REPO}wrangler.toml`, "utf8");
  const [model, embedModel] = ["MODEL", "EMBED_MODEL"].map((v) => new RegExp(`^\\s*${v}\\s*=\\s*"([^"@]+)"`, "m").exec(vars)![1]);
  const version = (name: string) => sha256File(`${REPO}weights/${name}/manifest.json`).slice(0, 12);

  // the embedding package is trained apart and added to weights/ when it exists (train/README.md)
  it.skipIf(!existsSync(`${REPO}weights/${embedModel}/manifest.json`))("uploads MODEL's and EMBED_MODEL's packages under their names, each made current", () => {
    const r = upload(["--defaults", "--make-current", "--dry-run"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const keys = r.commands.map((c) => /ultrafastbert-weights\/(\S+)/.exec(c)![1]);
    expect(keys).toEqual([
      ...[model, embedModel].flatMap((n) => [...["weights.bin", "tokenizer.json", "manifest.json"].map((f) => `models/${n}/${version(n)}/${f}`), `models/${n}/current`]),
    ]);
  });

  it.skipIf(existsSync(`${REPO}weights/${embedModel}/manifest.json`))("without EMBED_MODEL's package it refuses before writing anything", () => {
    const r = upload(["--defaults", "--dry-run"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`weights/${embedModel}: no manifest.json`);
    expect(r.commands).toEqual([]);
  });

  it("takes no package, --name or --version beside --defaults", () => {
    for (const extra of [[TINY], ["--name", "m"], ["--version", "v1"]]) {
      const r = upload(["--defaults", ...extra, "--dry-run"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--defaults takes the packages, names and versions from wrangler\.toml/);
    }
  });
});

describe("npm run dev: seeding the default models", { timeout: 120_000 }, () => {
  const weights = join(tmp, "weights");
  const persistPath = join(tmp, "state/v3");
  mkdirSync(join(weights, "clf"), { recursive: true });
  for (const f of ["manifest.json", "tokenizer.json", "weights.bin"]) copyFileSync(join(TINY, f), join(weights, "clf", f));

  it("seeds MODEL and EMBED_MODEL, each current; again, it finds them there; a missing one is reported", async () => {
    const synth = ufb(["synth", join(weights, "emb"), "--preset", "tiny-embedding", "--seed", "3"]);
    expect(synth.code).toBe(0);
    const models = defaultModels({ model: "clf", modelName: "clf", embedModel: "emb" });
    expect(models.map((m) => [m.variable, m.spec])).toEqual([["MODEL", "clf"], ["EMBED_MODEL", "emb"]]);
    const first = await seedDefaults(models, { weightsDir: weights, persistPath });
    expect(first.missing).toEqual([]);
    expect(first.seeded.map((r) => [r.name, r.version, r.written.length])).toEqual([
      ["clf", sha256File(join(weights, "clf/manifest.json")).slice(0, 12), 4],
      ["emb", sha256File(join(weights, "emb/manifest.json")).slice(0, 12), 4],
    ]);
    expect(first.seeded[1].written.at(-1)).toBe("models/emb/current");
    const again = await seedDefaults(models, { weightsDir: weights, persistPath });
    expect(again.seeded.map((r) => [r.alreadyThere, r.written])).toEqual([[true, []], [true, []]]);

    const absent = await seedDefaults(defaultModels({ model: "clf", modelName: "clf", embedModel: "ufb-embed-absent" }), { weightsDir: weights, persistPath });
    expect(absent.missing).toEqual([{ variable: "EMBED_MODEL", spec: "ufb-embed-absent", role: "embed" }]);
    expect(absent.seeded.map((r) => r.name)).toEqual(["clf"]);
  });

  it("seeds one model when EMBED_MODEL names MODEL's", () => {
    expect(defaultModels({ model: "clf@v2", modelName: "clf", embedModel: "clf" })).toEqual([{ variable: "MODEL", spec: "clf@v2", role: "classify, fill-mask" }]);
  });
});
