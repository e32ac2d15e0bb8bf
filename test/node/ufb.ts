/** Runs the `ufb` command line (bin/ufb.mjs) in a child process, as a user would. */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const FIXTURES = `${REPO}test/fixtures/reference`;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function ufb(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [`${REPO}bin/ufb.mjs`, ...args], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, UFB_DEBUG: "", ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const sha256File = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** An error run: the exit code, one clear message, no stack trace. */
export function expectFailure(r: Run, code: number, message: RegExp, expect: (v: unknown) => any): void {
  expect(r.code).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}
