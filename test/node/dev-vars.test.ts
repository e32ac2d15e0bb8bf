/** scripts/lib/config.ts readDevVars: .dev.vars (else .env) through Node's dotenv parser. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readDevVars } from "../../scripts/lib/config.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "ufb-devvars-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("readDevVars", () => {
  it("reads KEY=value lines with comments, quotes, export and a # inside quotes", () => {
    const dir = folder({ ".dev.vars": '# local secrets\nAPI_TOKEN="s3cret#1"\nexport CACHE_MB=32\nEMPTY=\nSINGLE=\'a b\'\n' });
    expect(readDevVars(dir)).toEqual({ file: ".dev.vars", vars: { API_TOKEN: "s3cret#1", CACHE_MB: "32", EMPTY: "", SINGLE: "a b" } });
  });

  it("falls back to .env only when there is no .dev.vars, and to nothing", () => {
    expect(readDevVars(folder({ ".env": "MODEL=x\n" }))).toEqual({ file: ".env", vars: { MODEL: "x" } });
    expect(readDevVars(folder({ ".dev.vars": "A=1\n", ".env": "B=2\n" })).vars).toEqual({ A: "1" });
    expect(readDevVars(folder({}))).toEqual({ file: undefined, vars: {} });
  });
});
