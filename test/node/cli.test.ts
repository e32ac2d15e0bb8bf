import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { Tokenizer } from "@huggingface/tokenizers";
import { SafetensorsFile, encodeSafetensors } from "../../src/weights/convert/safetensors.ts";
import { MemorySource } from "../../src/weights/read/sources.ts";
import { FIXTURES, expectFailure, sha256File, ufb } from "./ufb.ts";

// each test spawns several CLI processes (~0.5–1 s each on a shared 2-core machine)
vi.setConfig({ testTimeout: 60_000 });

const tmp = mkdtempSync(join(tmpdir(), "ufb-cli-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("ufb help", () => {
  it("should list every command and flag with type, range and default", () => {
    const r = ufb(["help"]);
    expect(r.code).toBe(0);
    for (const s of [
      "convert <checkpoint-dir> <out-dir>",
      "synth <out-dir> --preset <name>",
      "inspect <package-dir>",
      "run <package-dir> --input <file.json>",
      "--omit <list>",
      "eval [package-dir]",
      "--behaviour <file|none>",
      "--fill-mask <file|none>",
      "--compare <file>",
      "--embedding",
      "--sts <file|none>",
      "--retrieval <dir|none>",
      "--dtype <int8|f32>",
      "(default int8)",
      "--tile-depth <int>          FFF levels per tile, 1..24 (default 4)",
      "--rows-per-block <int>      embedding rows per hashed block, 1..65536 (default 256)",
      "--pooler <avg|zero_index>",
      "--seed <int>                0..4294967295 (default 0)",
      "--verify-all",
      "--json",
      "ultrafastbert-1x11-long",
      "ultrafastbert-1x11-12l",
      "tiny-classifier",
    ]) {
      expect(r.stdout).toContain(s);
    }
    expect(ufb([]).code).toBe(2);
  });
});

describe("ufb convert + inspect on the fixtures", () => {
  it("should convert tiny to f32 with the sizes computed by hand", () => {
    const out = join(tmp, "tiny-f32");
    const r = ufb(["convert", `${FIXTURES}/tiny`, out, "--dtype", "f32"]);
    // stderr carries only progress lines (plain, as it is a pipe here)
    expect(r.stderr.split("\n").filter((l) => l && !l.startsWith("ufb convert: writing "))).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ufb convert: .*tiny → .*tiny-f32 \(f32, /);
    // header 64 | embeddings 512·64·4 = 131072 | dense 134208 (norms, 2 × (qkv 49152 + out 16384 + norms), 64-aligned)
    // | fff.0 63 records × 528 B = 33264 | pad 16 | fff.1 33264  → 331888
    expect(readFileSync(join(out, "weights.bin")).length).toBe(331888);
    expect(readFileSync(join(out, "tokenizer.json"))).toEqual(readFileSync(`${FIXTURES}/tiny/tokenizer.json`));
    const m = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(m.segments.map((s: { name: string; offset: number; length: number }) => [s.name, s.offset, s.length])).toEqual([
      ["embeddings", 64, 131072],
      ["dense", 131136, 134208],
      ["fff.0", 265344, 33264],
      ["fff.1", 298624, 33264],
    ]);

    const text = ufb(["inspect", out]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("ufb-package v1, f32");
    expect(text.stdout).toContain("FFF neurons 63 total, 6 per token (9.52 %); record 528 B");
    expect(text.stdout).toContain("per token path: 6 records = 3.09 KiB (3168 B) touched; 2 tiles read = 9.28 KiB (9504 B)"); // tiers: 15 + 3 records
    expect(text.stdout).toContain("specials   pad=6 unk=2 cls=0 sep=4 mask=1 bos=3 eos=5");
    expect(text.stdout).toMatch(/verified   header, tokenizer, dense: sha256 match/);

    const json = JSON.parse(ufb(["inspect", out, "--json"]).stdout);
    expect(json.weightsBytes).toBe(331888);
    expect(json.config.fffDepth).toBe(5);
    expect(json.fff).toMatchObject({ neuronsPerLayer: 63, neuronsPerToken: 6, tilesPerToken: 2, recordBytes: 528 });
  });

  it("should convert tiny to int8 (q8) with the sizes computed by hand", () => {
    const out = join(tmp, "tiny-q8");
    const r = ufb(["convert", `${FIXTURES}/tiny`, out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\(int8, /);
    expect(r.stdout).toMatch(/q8 max \|w − q·scale\|: fff in \d\.\d\de-\d/);
    expect(r.stdout).toMatch(/^  calibration: /m); // skipped, or the engine's report (src/cli/calibrate.ts)
    // 64 | 512·64 = 32768 | dense 40000 (q8 matrices + f32 scales) | 63·144 = 9072 | pad | 9072
    expect(readFileSync(join(out, "weights.bin")).length).toBe(90992);
    const again = ufb(["convert", `${FIXTURES}/tiny`, out]);
    expectFailure(again, 1, /already holds a package \(manifest\.json\); use --force/, expect);
    expect(ufb(["convert", `${FIXTURES}/tiny`, out, "--force", "--no-calibrate"]).code).toBe(0);
  });

  it("should convert trees (2 trees per layer) and verify every block and tile", () => {
    const out = join(tmp, "trees-q8");
    expect(ufb(["convert", `${FIXTURES}/trees`, out, "--tile-depth", "3", "--rows-per-block", "100", "--no-calibrate"]).code).toBe(0);
    const r = ufb(["inspect", out, "--verify-all"]);
    expect(r.code).toBe(0);
    // 1000 rows / 100 = 10 blocks; 3 layers × 2 trees × (1 + 8) tiles (5 levels, tile depth 3)
    expect(r.stdout).toContain("verified   header, tokenizer, dense, 10 embedding blocks, 54 fff tiles: all sha256 match");
    expect(r.stdout).toContain("FFF neurons 62 total, 10 per token");
  });

  it("should report a corrupted byte as an integrity error naming the tile", () => {
    const out = join(tmp, "trees-corrupt");
    cpSync(join(tmp, "trees-q8"), out, { recursive: true });
    const m = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    const fff1 = m.segments.find((s: { name: string }) => s.name === "fff.1");
    const w = readFileSync(join(out, "weights.bin"));
    w[fff1.offset + 5] ^= 0xff; // tree 0, tile 0 (the root tile)
    writeFileSync(join(out, "weights.bin"), w);
    expect(ufb(["inspect", out]).code).toBe(0); // default checks do not read fff tiles
    expectFailure(ufb(["inspect", out, "--verify-all"]), 1, /ufb inspect: error: fff\.1 tree 0 tile 0: sha256 [0-9a-f]{64}, manifest says [0-9a-f]{64}/, expect);
  });

  it("should report a newer package version with both versions", () => {
    const out = join(tmp, "tiny-v2");
    cpSync(join(tmp, "tiny-q8"), out, { recursive: true });
    const text = readFileSync(join(out, "manifest.json"), "utf8").replace('"version": 1', '"version": 2');
    writeFileSync(join(out, "manifest.json"), text);
    expectFailure(ufb(["inspect", out]), 1, /package v2; reader supports ≤ 1/, expect);
  });
});

describe("ufb synth", () => {
  const env = { SOURCE_DATE_EPOCH: "0" };
  it("should print plain progress lines when stderr is not a terminal (CI logs, pipes)", () => {
    const run = ufb(["synth", join(tmp, "syn-progress"), "--preset", "tiny-classifier"], env);
    expect(run.code).toBe(0);
    // spawnSync pipes stderr: no carriage returns or escape codes, whole lines naming the command
    const lines = run.stderr.split("\n").filter((l) => l.startsWith("ufb synth: writing "));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(run.stderr).not.toMatch(/\r|\x1b\[/);
  });

  it("should be deterministic per seed", () => {
    const a = join(tmp, "syn-a");
    const b = join(tmp, "syn-b");
    const c = join(tmp, "syn-c");
    expect(ufb(["synth", a, "--preset", "tiny-classifier", "--seed", "7"], env).code).toBe(0);
    expect(ufb(["synth", b, "--preset", "tiny-classifier", "--seed", "7"], env).code).toBe(0);
    expect(ufb(["synth", c, "--preset", "tiny-classifier", "--seed", "8"], env).code).toBe(0);
    for (const f of ["weights.bin", "tokenizer.json", "manifest.json"]) expect(sha256File(join(b, f)), f).toBe(sha256File(join(a, f)));
    expect(sha256File(join(c, "weights.bin"))).not.toBe(sha256File(join(a, "weights.bin")));
    const ma = JSON.parse(readFileSync(join(a, "manifest.json"), "utf8"));
    const mc = JSON.parse(readFileSync(join(c, "manifest.json"), "utf8"));
    expect(ma.created).toMatchObject({ by: "ufb synth", at: "1970-01-01T00:00:00.000Z" });
    expect(ma.created.from).toMatchObject({ kind: "synth", preset: "tiny-classifier", seed: 7 });
    expect(ma.segments[2].tiles).not.toEqual(mc.segments[2].tiles);
    expect(ma.config).toMatchObject({ kind: "classifier", numLayers: 4, hiddenSize: 128, numHeads: 4, fffDepth: 7, vocabSize: 4096, pooler: "avg", labels: ["negative", "positive"] });
    expect(ufb(["inspect", a, "--verify-all"]).code).toBe(0);
  });

  it("should write a tokenizer that @huggingface/tokenizers loads", () => {
    const dir = join(tmp, "syn-a");
    const json = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(Object.keys(json.model.vocab)).toHaveLength(4096);
    const tok = new Tokenizer(json, {});
    const single = tok.encode("The movie was great!", { add_special_tokens: true });
    expect(single.ids.at(-1)).toBe(m.specialTokens.sep);
    expect(single.ids).not.toContain(m.specialTokens.unk);
    const pair = tok.encode("A text.", { text_pair: "Another one", add_special_tokens: true });
    expect(pair.ids[0]).toBe(m.specialTokens.cls);
    expect(pair.ids.filter((id: number) => id === m.specialTokens.sep)).toHaveLength(2);
    expect(tok.encode("a <mask> b", { add_special_tokens: false }).ids).toContain(m.specialTokens.mask);
  });

  it("should refuse bad presets and seeds", () => {
    expectFailure(ufb(["synth", join(tmp, "x")]), 2, /ufb synth: --preset is required: one of ultrafastbert-1x11-long, ultrafastbert-1x11-12l, tiny-classifier/, expect);
    expectFailure(ufb(["synth", join(tmp, "x"), "--preset", "huge"]), 2, /--preset "huge": expected one of/, expect);
    expectFailure(ufb(["synth", join(tmp, "x"), "--preset", "tiny-classifier", "--seed=-1"]), 2, /--seed "-1": expected an integer in \[0, 4294967295\]/, expect);
    expect(existsSync(join(tmp, "x"))).toBe(false);
  });
});

describe("ufb errors", async () => {
  const st = await SafetensorsFile.open(new MemorySource(new Uint8Array(readFileSync(`${FIXTURES}/tiny/model.safetensors`))));
  const tensors: { name: string; shape: number[]; data: Float32Array }[] = [];
  for (const t of st.tensors.values()) tensors.push({ name: t.name, shape: t.shape, data: await st.readF32(t.name) });
  /** A copy of the tiny checkpoint folder with changes. */
  const checkpoint = (name: string, change: { tensors?: typeof tensors; config?: string; drop?: string }) => {
    const dir = join(tmp, name);
    cpSync(`${FIXTURES}/tiny`, dir, { recursive: true });
    if (change.tensors) writeFileSync(join(dir, "model.safetensors"), encodeSafetensors(change.tensors));
    if (change.config !== undefined) writeFileSync(join(dir, "config.json"), change.config);
    if (change.drop) rmSync(join(dir, change.drop));
    return dir;
  };

  it("should name a missing file", () => {
    expectFailure(ufb(["convert", checkpoint("no-st", { drop: "model.safetensors" }), join(tmp, "o1")]), 1, /ufb convert: error: .*no-st: missing model\.safetensors/, expect);
    expectFailure(ufb(["convert", join(tmp, "does-not-exist"), join(tmp, "o1")]), 1, /does-not-exist: not a directory/, expect);
    expectFailure(ufb(["inspect", join(tmp, "nothing-here")]), 1, /nothing-here: no such directory/, expect);
    expectFailure(ufb(["inspect", FIXTURES]), 1, /no manifest\.json \(not a package, or an unfinished one\)/, expect);
  });

  it("should name malformed JSON", () => {
    expectFailure(ufb(["convert", checkpoint("bad-json", { config: "{\"arch\": {" }), join(tmp, "o2")]), 1, /error: config\.json: not valid JSON/, expect);
  });

  it("should name an unknown tensor key", () => {
    const extra = [...tensors, { name: "encoder.layers.0.attn.dense.bias", shape: [64], data: new Float32Array(64) }];
    expectFailure(ufb(["convert", checkpoint("unknown-key", { tensors: extra }), join(tmp, "o3")]), 1, /unexpected tensor "encoder\.layers\.0\.attn\.dense\.bias"/, expect);
    expect(existsSync(join(tmp, "o3", "manifest.json"))).toBe(false);
  });

  it("should name a tensor of the wrong shape and the expected shape", () => {
    const wrong = tensors.map((t) => (t.name === "encoder.layers.1.attn.dense.weight" ? { ...t, shape: [32, 128] } : t));
    expectFailure(ufb(["convert", checkpoint("wrong-shape", { tensors: wrong }), join(tmp, "o4")]), 1, /tensor "encoder\.layers\.1\.attn\.dense\.weight" has shape \[32, 128\], expected \[64, 64\]/, expect);
  });

  it("should explain bad arguments with exit code 2", () => {
    expectFailure(ufb(["convert", `${FIXTURES}/tiny`, join(tmp, "o5"), "--tile-depth", "0"]), 2, /--tile-depth "0": expected an integer in \[1, 24\]\nRun 'ufb help' for usage\./, expect);
    expectFailure(ufb(["convert", `${FIXTURES}/tiny`, join(tmp, "o5"), "--dtype", "int4"]), 2, /--dtype "int4": expected one of int8, f32/, expect);
    expectFailure(ufb(["convert", `${FIXTURES}/tiny`, join(tmp, "o5"), "--rows-per-block", "1.5"]), 2, /--rows-per-block "1\.5": expected an integer/, expect);
    expectFailure(ufb(["convert", `${FIXTURES}/tiny`, join(tmp, "o5"), "--frobnicate"]), 2, /Unknown option '--frobnicate'/, expect);
    expectFailure(ufb(["convert", `${FIXTURES}/tiny`]), 2, /missing <out-dir>/, expect);
    expectFailure(ufb(["inspect", "a", "b"]), 2, /unexpected argument "b"/, expect);
    expectFailure(ufb(["frobnicate"]), 2, /ufb: unknown command "frobnicate"/, expect);
  });

  it("should route run to src/cli/run.ts", () => {
    const r = ufb(["run", "--frobnicate"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^ufb run: /);
    expect(r.stderr).not.toMatch(/unknown command/);
  });
});
