/**
 * A newcomer's first hour: the docs, training docs and scripts name no path of the machine they were
 * written on, and the docs spell the mask token one way (`<mask>`).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./ufb.ts";

const TEXT = /\.(md|ts|mjs|js|py|sh|toml|json)$/;

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".") || name === "results" || name === "build") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (TEXT.test(name)) out.push(path);
  }
  return out;
}

// weights/ (packages and their model cards) belongs to the model's releases and is checked when one ships
const CHECKED = ["README.md", "docs", "train", "scripts", "src", "bench", "bin", ".ci"].map((p) => join(REPO, p));
const ALL = CHECKED.flatMap((p) => (statSync(p).isDirectory() ? files(p) : [p]));

describe("docs and scripts", () => {
  it("name no absolute path of a build machine", () => {
    const machinePath = new RegExp(["", "(work|home|root|Users)", "[\\w.-]+", ""].join("/"));
    expect(ALL.length).toBeGreaterThan(50);
    const hits = ALL.flatMap((f) =>
      readFileSync(f, "utf8")
        .split("\n")
        .flatMap((line, i) => (machinePath.test(line) ? [`${relative(REPO, f)}:${i + 1}: ${line.trim().slice(0, 120)}`] : [])),
    );
    expect(hits).toEqual([]);
  });

  it("spell the mask token <mask> in docs", () => {
    const docs = ALL.filter((f) => f.endsWith(".md"));
    const hits = docs.filter((f) => readFileSync(f, "utf8").includes("[MASK]")).map((f) => relative(REPO, f));
    expect(hits).toEqual([]);
  });
});
