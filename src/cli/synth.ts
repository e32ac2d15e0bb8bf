/**
 * `ufb synth <out-dir> --preset <name>`: a package with seeded random weights and a generated
 * crammedBERT-style tokenizer, written layer by layer (the f32 model is never held whole).
 */
import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_ROWS_PER_BLOCK, DEFAULT_TILE_DEPTH, MAX_FFF_LEVELS } from "../weights/format/spec.ts";
import { sha256Hex } from "../weights/read/sha256.ts";
import { PRESETS, synthTensors } from "../weights/convert/synth.ts";
import { synthTokenizerJson, synthVocabulary } from "../weights/convert/synth-tokenizer.ts";
import { readTokenizerInfo } from "../weights/format/tokenizer-info.ts";
import { UsageError } from "../errors.ts";
import { createdAt, enumFlag, intFlag, parse } from "./args.ts";
import { writePackageDir } from "./files.ts";
import { clearProgress, describeModel, describeQuantization, fmtBytes, progressLine } from "./report.ts";

export const SYNTH_OPTIONS = {
  preset: { type: "string" },
  seed: { type: "string" },
  dtype: { type: "string" },
  "tile-depth": { type: "string" },
  "rows-per-block": { type: "string" },
  vocab: { type: "string" },
  force: { type: "boolean" },
} as const;

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Word lists tried, in order, when --vocab is not given. */
export const DEFAULT_VOCAB_FILES = [
  join(REPO, "shared/data/vocab/bert-base-uncased/vocab.txt"),
  join(REPO, "../shared/data/vocab/bert-base-uncased/vocab.txt"),
];

const exists = (p: string) => access(p, constants.R_OK).then(() => true, () => false);

async function wordList(explicit: string | undefined): Promise<{ words: string[]; from: Record<string, unknown> }> {
  const path = explicit ?? (await (async () => {
    for (const p of DEFAULT_VOCAB_FILES) if (await exists(p)) return p;
    return undefined;
  })());
  if (path === undefined) return { words: [], from: { words: "generated" } };
  const bytes = await readFile(path).catch(() => {
    throw new UsageError(`--vocab ${path}: cannot read the file`);
  });
  const words = new TextDecoder().decode(bytes).split(/\r?\n/).map((w) => w.trim()).filter((w) => w.length > 0);
  return { words, from: { words: path.endsWith("bert-base-uncased/vocab.txt") ? "bert-base-uncased/vocab.txt" : "file", wordsSha256: await sha256Hex(new Uint8Array(bytes)) } };
}

export async function synthCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, SYNTH_OPTIONS, ["out-dir"]);
  const [outDir] = positionals;
  if (values.preset === undefined) throw new UsageError(`--preset is required: one of ${Object.keys(PRESETS).join(", ")}`);
  const preset = PRESETS[enumFlag("preset", values.preset, Object.keys(PRESETS))!];
  const seed = intFlag("seed", values.seed, 0, 2 ** 32 - 1, 0);
  const dtype = enumFlag("dtype", values.dtype, ["int8", "f32"], "int8") === "int8" ? "q8" : "f32";
  const tileDepth = intFlag("tile-depth", values["tile-depth"], 1, MAX_FFF_LEVELS, DEFAULT_TILE_DEPTH);
  const rowsPerBlock = intFlag("rows-per-block", values["rows-per-block"], 1, 65536, DEFAULT_ROWS_PER_BLOCK);
  const at = createdAt();
  const { words, from } = await wordList(typeof values.vocab === "string" ? values.vocab : undefined);

  const c = preset.config;
  const tokenizer = new TextEncoder().encode(synthTokenizerJson(synthVocabulary(c.vocabSize, seed, words)));
  const info = readTokenizerInfo(tokenizer);
  let manifest;
  try {
    manifest = await writePackageDir(
      outDir,
      {
        name: preset.name,
        config: c,
        specialTokens: info.specialTokens,
        tokenizer,
        tensors: synthTensors(c, seed),
        from: { kind: "synth", preset: preset.name, seed, ...from },
      },
      { dtype, tileDepth, rowsPerBlock, createdBy: "ufb synth", createdAt: at, force: values.force === true, onProgress: progressLine("synth") },
    );
  } finally {
    clearProgress();
  }
  console.log(`ufb synth: ${preset.name} seed ${seed} → ${outDir} (${dtype === "q8" ? "int8" : "f32"}, ${fmtBytes(manifest.weights.bytes)})`);
  console.log(describeModel(manifest));
  const q = describeQuantization(manifest);
  if (q) console.log(q);
  return 0;
}
