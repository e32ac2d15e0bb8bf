/**
 * scripts/upload.ts (npm run upload) without a bucket: argument handling, the key layout, the content
 * version and the order of writes, through --dry-run as a user would run it.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO, sha256File } from "./ufb.ts";

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
