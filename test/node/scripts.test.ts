/**
 * scripts/upload.ts (npm run upload) without a bucket: argument handling, the key layout, the content
 * version and the order of writes, through --dry-run as a user would run it. And what `npm run dev` seeds:
 * both default models (MODEL, EMBED_MODEL) into a local bucket of the test's own.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultModels } from "../../scripts/lib/config.ts";
import { seedDefaults } from "../../scripts/lib/local-bucket.ts";
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
