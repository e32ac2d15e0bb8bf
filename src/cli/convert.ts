/**
 * `ufb convert <checkpoint-dir> <out-dir>`: a crammedBERT / UltraFastBERT checkpoint folder → a package.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { loadCheckpoint } from "../weights/convert/checkpoint.ts";
import { DEFAULT_ROWS_PER_BLOCK, DEFAULT_TILE_DEPTH, MAX_FFF_LEVELS } from "../weights/format/spec.ts";
import type { Manifest } from "../weights/format/manifest.ts";
import { createdAt, enumFlag, intFlag, parse } from "./args.ts";
import { readCheckpointDir, writePackageDir } from "./files.ts";
import { clearProgress, describeModel, describeQuantization, fmtBytes, progressLine } from "./report.ts";

/** Report text comparing an f32 package with its int8 twin (FFF path agreement, largest output difference). */
export type Calibrate = (f32Dir: string, q8Dir: string) => Promise<string>;

/** The engine's calibration step (src/cli/calibrate.ts), loaded only when a report is wanted. */
export async function loadCalibrate(): Promise<Calibrate | null> {
  return (await import("./calibrate.ts")).calibrate;
}

export const CONVERT_OPTIONS = {
  dtype: { type: "string" },
  "tile-depth": { type: "string" },
  "rows-per-block": { type: "string" },
  pooler: { type: "string" },
  "no-calibrate": { type: "boolean" },
  force: { type: "boolean" },
} as const;

export async function convertCommand(argv: string[], deps: { calibrate?: Calibrate | null } = {}): Promise<number> {
  const { values, positionals } = parse(argv, CONVERT_OPTIONS, ["checkpoint-dir", "out-dir"]);
  const [checkpointDir, outDir] = positionals;
  const dtype = enumFlag("dtype", values.dtype, ["int8", "f32"], "int8") === "int8" ? "q8" : "f32";
  const tileDepth = intFlag("tile-depth", values["tile-depth"], 1, MAX_FFF_LEVELS, DEFAULT_TILE_DEPTH);
  const rowsPerBlock = intFlag("rows-per-block", values["rows-per-block"], 1, 65536, DEFAULT_ROWS_PER_BLOCK);
  const pooler = enumFlag("pooler", values.pooler, ["avg", "zero_index"]);
  const at = createdAt();

  const files = await readCheckpointDir(checkpointDir);
  const name = basename(resolve(checkpointDir));
  let manifest: Manifest;
  let warnings: string[];
  try {
    const ckpt = await loadCheckpoint(files, { name, pooler });
    warnings = ckpt.warnings;
    manifest = await writePackageDir(outDir, ckpt, {
      dtype,
      tileDepth,
      rowsPerBlock,
      createdBy: "ufb convert",
      createdAt: at,
      force: values.force === true,
      onProgress: progressLine("convert"),
    });
  } finally {
    clearProgress();
    await files.weights.close();
  }
  console.log(`ufb convert: ${checkpointDir} → ${outDir} (${dtype === "q8" ? "int8" : "f32"}, ${fmtBytes(manifest.weights.bytes)})`);
  console.log(describeModel(manifest));
  const q = describeQuantization(manifest);
  if (q) console.log(q);
  for (const w of warnings) console.log(`  note: ${w}`);

  if (dtype === "q8" && values["no-calibrate"] !== true) {
    const calibrate = deps.calibrate === undefined ? await loadCalibrate() : deps.calibrate;
    if (!calibrate) {
      console.log("  calibration: skipped (the engine's calibrate step, src/model/calibrate.ts, is not wired in yet)");
    } else {
      const f32Dir = await mkdtemp(join(tmpdir(), "ufb-calibrate-"));
      try {
        const again = await readCheckpointDir(checkpointDir);
        try {
          const ckpt = await loadCheckpoint(again, { name, pooler });
          await writePackageDir(f32Dir, ckpt, { dtype: "f32", tileDepth, rowsPerBlock, createdBy: "ufb convert (calibration reference)", createdAt: at, force: true });
        } finally {
          await again.weights.close();
        }
        console.log(await calibrate(f32Dir, outDir));
      } finally {
        await rm(f32Dir, { recursive: true, force: true });
      }
    }
  }
  return 0;
}
