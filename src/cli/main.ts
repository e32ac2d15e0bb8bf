/**
 * `ufb`, the command line (bin/ufb.mjs imports this file). Errors end with one line on stderr naming the
 * file, tensor or field, and a non-zero exit code: 1 for errors, 2 for usage errors. No stack traces
 * unless UFB_DEBUG=1.
 */
import { UfbError } from "../errors.ts";
import { DEFAULT_ROWS_PER_BLOCK, DEFAULT_TILE_DEPTH, MAX_FFF_LEVELS } from "../weights/format/spec.ts";
import { PRESETS } from "../weights/convert/synth.ts";
import { UsageError } from "../errors.ts";
import { EVAL_USAGE } from "./eval.ts";
import { UNPACK_USAGE } from "./unpack.ts";
import { RUN_USAGE } from "./run.ts";

export const USAGE = `Usage:   ufb <command> [arguments] [options]
Example: ufb synth packages/tiny --preset tiny-classifier --seed 1
         ufb convert ckpt/UltraFastBERT-1x11-long packages/ufb-1x11 --dtype int8
         ufb inspect packages/ufb-1x11 --verify-all

Commands:
  convert <checkpoint-dir> <out-dir>
      Convert a crammedBERT/UltraFastBERT checkpoint folder (model.safetensors, config.json or
      model_config.json, tokenizer.json) into a package (manifest.json, tokenizer.json, weights.bin).
      --dtype <int8|f32>          weight type; int8 = q8 records, embeddings and matrices (default int8)
      --tile-depth <int>          FFF levels per tile, 1..${MAX_FFF_LEVELS} (default ${DEFAULT_TILE_DEPTH})
      --rows-per-block <int>      embedding rows per hashed block, 1..65536 (default ${DEFAULT_ROWS_PER_BLOCK})
      --pooler <avg|zero_index>   classifier pooler (default: the config's, else zero_index)
      --no-calibrate              int8: skip the calibration report against an f32 package
      --force                     replace a package already in <out-dir>
  synth <out-dir> --preset <name>
      Write a package with seeded random weights and a generated tokenizer.
      --preset <name>             ${Object.keys(PRESETS).join(" | ")} (required)
      --seed <int>                0..4294967295 (default 0)
      --dtype <int8|f32>          (default int8)
      --tile-depth <int>          1..${MAX_FFF_LEVELS} (default ${DEFAULT_TILE_DEPTH})
      --rows-per-block <int>      1..65536 (default ${DEFAULT_ROWS_PER_BLOCK})
      --vocab <file>              words for the vocabulary, one per line (default: shared bert-base-uncased
                                  vocab.txt when present, else generated pieces)
      --force                     replace a package already in <out-dir>
  inspect <package-dir>
      Print config, segment sizes, neurons and bytes per token path, and verify sha256s.
      --verify-all                verify every embedding block and FFF tile (default: header, tokenizer, dense)
      --json                      print JSON instead of text
${RUN_USAGE}
${EVAL_USAGE}
${UNPACK_USAGE}
  help                          print this text

Presets:
${Object.values(PRESETS).map((p) => `  ${p.name.padEnd(26)}${p.description}`).join("\n")}

Environment:
  SOURCE_DATE_EPOCH   seconds since 1970 written as manifest created.at (reproducible output; default: now)
  UFB_DEBUG=1         print stack traces

Exit codes: 0 success, 1 error, 2 usage error.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "convert":
        return await (await import("./convert.ts")).convertCommand(rest);
      case "synth":
        return await (await import("./synth.ts")).synthCommand(rest);
      case "inspect":
        return await (await import("./inspect.ts")).inspectCommand(rest);
      case "run":
        return await (await import("./run.ts")).runCommand(rest);
      case "eval":
        return await (await import("./eval.ts")).evalCommand(rest);
      case "unpack":
        return await (await import("./unpack.ts")).unpackCommand(rest);
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return 0;
      case undefined:
        process.stderr.write(USAGE);
        return 2;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (e) {
    const where = command && ["convert", "synth", "inspect", "run", "eval", "unpack"].includes(command) ? `ufb ${command}` : "ufb";
    if (process.env.UFB_DEBUG === "1") console.error(e);
    if (e instanceof UsageError) {
      console.error(`${where}: ${e.message}\nRun 'ufb help' for usage.`);
      return 2;
    }
    if (e instanceof UfbError) {
      console.error(`${where}: error: ${e.message}`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    console.error(`${where}: error: ${err?.message ?? String(e)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
