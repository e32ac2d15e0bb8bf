/** The playground's pure helpers (web/playground/text.ts, tree.ts): leave-one-out inputs, curl, the path picture. */
import { describe, expect, it } from "vitest";
import { curlCommand, detokenize, leaveOneOut, shellQuote } from "../../web/playground/text.ts";
import { TOP_LEVELS, pathSvg } from "../../web/playground/tree.ts";

describe("leave-one-out inputs", () => {
  it("rebuilds the baseline and one variant per content token, skipping special tokens", () => {
    const tokens = ["[CLS]", "a", "gorg", "##eous", "movie", "[SEP]"];
    expect(detokenize(["a", "gorg", "##eous", "movie"])).toBe("a gorgeous movie");
    const { texts, positions } = leaveOneOut(tokens);
    expect(texts).toEqual(["a gorgeous movie", "gorgeous movie", "a eous movie", "a gorg movie", "a gorgeous"]);
    expect(positions).toEqual([1, 2, 3, 4]);
  });

  it("stays within one request of 32 texts and never sends an empty text", () => {
    const long = ["[CLS]", ...Array.from({ length: 40 }, (_, i) => `w${i}`), "[SEP]"];
    const { texts, positions } = leaveOneOut(long);
    expect(texts.length).toBe(32);
    expect(positions).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(leaveOneOut(["[CLS]", "great", "[SEP]"]).texts).toEqual(["great"]);
  });
});

describe("copy as curl", () => {
  it("quotes for a POSIX shell, token included only when set", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    const cmd = curlCommand("http://127.0.0.1:8787/v1/classify", { text: "it's good", explain: true }, "");
    expect(cmd).toBe(`curl -sS 'http://127.0.0.1:8787/v1/classify' \\\n  -H 'Content-Type: application/json' \\\n  --data-raw '{"text":"it'\\''s good","explain":true}'`);
    expect(curlCommand("http://x/v1/classify", {}, "t0k")).toContain(`-H 'Authorization: Bearer t0k'`);
  });
});

describe("path picture", () => {
  /** Heap path: left (2n+1) / right (2n+2) by the bits of `turns`. */
  const path = (levels: number, turns: number) => {
    const p = [0];
    for (let l = 1; l < levels; l++) p.push(2 * p[l - 1] + 1 + ((turns >> l) & 1));
    return p;
  };

  it.each([4, 10, 12])("lights exactly the visited nodes, one per level, for %i levels", (levels) => {
    const p = path(levels, 0b1011001101);
    const svg = pathSvg(p, { layer: 2, tree: 1 });
    const lit = [...svg.matchAll(/<circle class="node lit" data-level="(\d+)" data-node="(\d+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(lit).toEqual(p.map((n, l) => [l, n]).sort((a, b) => a[0] - b[0]));
    // the whole top tree, then two candidates per deeper level
    const all = [...svg.matchAll(/<circle /g)].length;
    expect(all).toBe(2 ** Math.min(levels, TOP_LEVELS) - 1 + 2 * Math.max(0, levels - TOP_LEVELS));
    expect(svg).toContain('data-layer="2" data-tree="1"');
    expect(Number(/height="(\d+)"/.exec(svg)![1])).toBeLessThan(320); // depth 11 stays readable on one screen
  });
});
