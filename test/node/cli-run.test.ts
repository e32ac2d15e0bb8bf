/**
 * `ufb run` end to end in Node: the CLI converts a reference fixture, runs it, and its JSON matches the
 * reference PyTorch outputs; bad input ends with a message naming the field and a non-zero exit.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const UFB = join(import.meta.dirname, "../../bin/ufb.mjs");
const FIXTURE = join(import.meta.dirname, "../fixtures/reference/tiny");

async function ufb(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [UFB, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("ufb run", () => {
  let dir: string;
  let expected: { cases: { name: string; input_ids: number[][]; hidden_states: number[][][]; fff_paths: number[][][][][]; mlm_positions: [number, number][]; mlm_logits: number[][] }[] };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ufb-run-"));
    const converted = await ufb("convert", FIXTURE, join(dir, "pkg"), "--dtype", "f32");
    expect(converted.code).toBe(0);
    expected = JSON.parse(await readFile(join(FIXTURE, "expected.json"), "utf8"));
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("prints hidden states, MLM logits and paths equal to the reference", async () => {
    const c = expected.cases.find((x) => x.name === "len7")!;
    await writeFile(join(dir, "in.json"), JSON.stringify({ ids: c.input_ids, positions: c.mlm_positions }));
    const out = await ufb("run", join(dir, "pkg"), "--input", join(dir, "in.json"));
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.paths).toEqual(c.fff_paths);
    let worst = 0;
    c.hidden_states[0].forEach((row, p) => row.forEach((v, i) => (worst = Math.max(worst, Math.abs(json.hidden[0][p][i] - v)))));
    expect(worst).toBeLessThan(1e-4);
    c.mlm_logits.forEach((logits, i) => logits.forEach((v, j) => expect(Math.abs(json.logits[i][j] - v)).toBeLessThan(1e-4)));
  });

  it("tokenizes texts and puts MLM logits at the <mask> positions", async () => {
    await writeFile(join(dir, "texts.json"), JSON.stringify({ texts: ["hello <mask> world!"] }));
    const out = await ufb("run", join(dir, "pkg"), "--input", join(dir, "texts.json"), "--omit", "hidden,paths");
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.tokens[0]).toContain("<mask>");
    expect(json.positions).toEqual([[0, json.tokens[0].indexOf("<mask>")]]);
    expect(json.logits[0]).toHaveLength(512);
    expect(json).not.toHaveProperty("hidden");
  });

  const bad: [string, unknown, RegExp][] = [
    ["an id outside the vocabulary", { ids: [[1, 2, 512]] }, /ids\[0\]\[2\]: 512 is not a token id/],
    ["an unknown key", { ids: [[1]], extra: 1 }, /unknown key "extra"/],
    ["a sequence longer than max_seq_length", { ids: [Array(33).fill(1)] }, /ids\[0\]: 33 tokens, max_seq_length is 32/],
    ["a mask of the wrong shape", { ids: [[1, 2]], mask: [[1]] }, /mask\[0\]: 1 entries/],
    ["a wrongly typed id", { ids: [[1, "x"]] }, /ids\[0\]\[1\]/],
  ];
  for (const [what, input, message] of bad) {
    it(`rejects ${what}`, async () => {
      await writeFile(join(dir, "bad.json"), JSON.stringify(input));
      const out = await ufb("run", join(dir, "pkg"), "--input", join(dir, "bad.json"));
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(message);
      expect(out.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }

  it("names a missing input file and a missing package", async () => {
    const noFile = await ufb("run", join(dir, "pkg"), "--input", join(dir, "absent.json"));
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toMatch(/absent\.json: no such file/);
    await writeFile(join(dir, "ok.json"), JSON.stringify({ ids: [[1]] }));
    const noPkg = await ufb("run", join(dir, "nowhere"), "--input", join(dir, "ok.json"));
    expect(noPkg.code).toBe(1);
    expect(noPkg.stderr).toMatch(/nowhere: no such directory/);
  });
});
