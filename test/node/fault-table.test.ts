/**
 * docs/operations.md's fault table cannot drift: every row names at least one test, each named file exists
 * and holds each named test title (or case label), and the row's status, Retry-After and "logged" agree
 * with the one error table (src/http/problem.ts) and with what src/http/errors.ts logs (5xx only).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./ufb.ts";

// read as text: these Worker files type-check against the Worker's globals, not this Node project's
const source = (path: string) => readFileSync(join(REPO, path), "utf8");
/** src/http/problem.ts's PROBLEMS: code → status. */
const PROBLEMS = Object.fromEntries(
  [...source("src/http/problem.ts").matchAll(/^ {2}([a-z_]+): \{ status: (\d{3}),/gm)].map((m) => [m[1]!, { status: Number(m[2]) }]),
) as Record<string, { status: number }>;
const RETRY_AFTER_SECONDS = Number(/export const RETRY_AFTER_SECONDS = (\d+);/.exec(source("src/http/errors.ts"))?.[1]);

interface Row {
  fault: string;
  status: number;
  code: string;
  retryAfter: string;
  logged: string;
  tests: { file: string; names: string[] }[];
}

const HEADER = "| fault | status | code | Retry-After | logged | recovery | test |";

function readTable(): Row[] {
  const doc = readFileSync(join(REPO, "docs/operations.md"), "utf8");
  const at = doc.indexOf(HEADER);
  expect(at, `docs/operations.md has no table headed ${HEADER}`).toBeGreaterThanOrEqual(0);
  const rows: Row[] = [];
  for (const line of doc.slice(at).split("\n").slice(2)) {
    if (!line.startsWith("|")) break;
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    expect(cells, line).toHaveLength(7);
    const tests = cells[6]!.split(";").map((part) => ({
      file: /`(test\/[^`]+\.test\.ts)`/.exec(part)?.[1] ?? "",
      names: [...part.matchAll(/"([^"]+)"/g)].map((m) => m[1]!),
    }));
    rows.push({
      fault: cells[0]!,
      status: Number(/^\d{3}/.exec(cells[1]!)?.[0]),
      code: /`([a-z_]+)`/.exec(cells[2]!)?.[1] ?? "",
      retryAfter: cells[3]!,
      logged: cells[4]!,
      tests,
    });
  }
  return rows;
}

const rows = readTable();

describe("docs/operations.md fault table", () => {
  it("reads the error table and the Retry-After of a 503 from the sources", () => {
    expect(Object.keys(PROBLEMS).length).toBeGreaterThanOrEqual(20);
    expect(PROBLEMS.weights_unavailable).toEqual({ status: 503 });
    expect(RETRY_AFTER_SECONDS).toBeGreaterThan(0);
  });

  it("has the rows the issue asks for (storage faults, broken bodies, no content, rate limiting)", () => {
    expect(rows.length).toBeGreaterThanOrEqual(13);
    const codes = new Set(rows.map((r) => r.code));
    for (const code of ["weights_unavailable", "weights_corrupt", "incomplete_body", "malformed_json", "no_content", "rate_limited"]) expect(codes).toContain(code);
  });

  for (const row of rows) {
    describe(row.fault, () => {
      it("names an existing test file holding each named test", () => {
        expect(row.tests.length).toBeGreaterThan(0);
        for (const t of row.tests) {
          expect(t.file, `a part of the test cell without a file: ${JSON.stringify(t)}`).not.toBe("");
          expect(t.names.length, `${t.file}: no test named`).toBeGreaterThan(0);
          const path = join(REPO, t.file);
          expect(existsSync(path), `${t.file} does not exist`).toBe(true);
          const source = readFileSync(path, "utf8");
          for (const name of t.names) expect(source.includes(name), `${t.file} has no test "${name}"`).toBe(true);
        }
      });

      it("agrees with the error table: status of the code, Retry-After, logged", () => {
        const problem = PROBLEMS[row.code];
        expect(problem, `code ${row.code} is not in src/http/problem.ts`).toBeDefined();
        expect(row.status).toBe(problem!.status);
        expect(row.logged).toBe(row.status >= 500 ? "yes" : "no");
        if (row.status === 503) expect(row.retryAfter).toBe(String(RETRY_AFTER_SECONDS));
        else if (row.status === 429) expect(row.retryAfter).toMatch(/RATE_LIMIT_PERIOD_S/);
        else expect(row.retryAfter).toBe("—");
      });
    });
  }
});
