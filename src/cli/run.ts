/**
 * `ufb run <package> --input <file.json>`: runs the engine on token ids or texts and prints JSON with
 * the encoder output (`hidden`), `logits` (classification, or MLM at `positions`) and the FFF `paths`.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { Engine, type RunRequest, type Sequence } from "../model/engine.ts";
import { formatZodIssues } from "../weights/format/manifest.ts";
import { UsageError } from "../errors.ts";
import { parse } from "./args.ts";
import { openPackageDir } from "./files.ts";
import { loadKernel } from "./kernel.ts";

export const RUN_USAGE = `  run <package-dir> --input <file.json>
      Run the model and print JSON: hidden [B][S][H] (after the final LayerNorm), logits (classifier:
      [B][labels]; MLM: [P][vocab] at positions; embedding packages: pooled [B][H], the pooler's vector
      before the package's normalisation), paths [layer][B][S][tree][level] (FFF node indices).
      Input: {"ids": [[int…]…], "mask"?: [[0|1…]…], "positions"?: [[b, s]…]}
          or {"texts": [str…], "pairs"?: [str…], "positions"?: [[b, s]…]} (tokenized with the package's
          tokenizer.json, truncated to max_seq_length; MLM packages default to the <mask> positions)
      --input <file>              the input JSON file (required; - reads standard input)
      --omit <list>               leave out fields: comma-separated of hidden, paths, logits (default none)`;

const ids = z.array(z.array(z.number().int()).min(1, "expected a non-empty sequence")).min(1, "expected at least one sequence");
const positions = z.array(z.tuple([z.number().int(), z.number().int()])).optional();
const IdsInput = z.strictObject({ ids, mask: z.array(z.array(z.number().int())).optional(), positions });
const TextsInput = z.strictObject({ texts: z.array(z.string()).min(1, "expected at least one text"), pairs: z.array(z.string()).optional(), positions });
const InputSchema = z.union([IdsInput, TextsInput]);
const INPUT_KEYS = ["ids", "mask", "positions", "texts", "pairs"];
type Input = z.infer<typeof InputSchema>;

const FIELDS = ["hidden", "paths", "logits"] as const;

async function readInput(path: string): Promise<Input> {
  let text: string;
  try {
    text = path === "-" ? await new Response(process.stdin as unknown as ReadableStream).text() : await readFile(path, "utf8");
  } catch (e) {
    throw new Error(`${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new Error(`${path}: expected a JSON object`);
  const keys = Object.keys(json);
  const unknown = keys.filter((k) => !INPUT_KEYS.includes(k));
  if (unknown.length) throw new Error(`${path}: unknown key ${JSON.stringify(unknown[0])} (expected ${INPUT_KEYS.join(", ")})`);
  if (keys.includes("ids") === keys.includes("texts")) throw new Error(`${path}: expected exactly one of "ids" or "texts"`);
  const parsed = InputSchema.safeParse(json);
  if (!parsed.success) {
    // report the branch the input chose, not the union's generic failure
    const branch = (keys.includes("ids") ? IdsInput : TextsInput).safeParse(json);
    throw new Error(`${path}: ${formatZodIssues(branch.success ? parsed.error : branch.error)}`);
  }
  return parsed.data;
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { input: { type: "string" }, omit: { type: "string" } }, ["package"]);
  if (typeof values.input !== "string") throw new UsageError("run: --input <file.json> is required");
  const omit = new Set(typeof values.omit === "string" ? values.omit.split(",").map((s) => s.trim()).filter(Boolean) : []);
  for (const f of omit) if (!(FIELDS as readonly string[]).includes(f)) throw new UsageError(`--omit ${JSON.stringify(f)}: expected a comma-separated list of ${FIELDS.join(", ")}`);
  const input = await readInput(values.input);

  const { pkg, close } = await openPackageDir(positionals[0]);
  try {
    const engine = await Engine.create(pkg, await loadKernel());
    const c = engine.config;
    let sequences: Sequence[];
    const output: Record<string, unknown> = { model: pkg.manifest.name, kind: c.kind };
    if ("texts" in input) {
      if (input.pairs && input.pairs.length !== input.texts.length) throw new Error(`${values.input}: pairs has ${input.pairs.length} entries, texts has ${input.texts.length}`);
      const encoded = input.texts.map((t, i) => engine.tokenizer.encode(t, input.pairs?.[i]));
      sequences = encoded.map((e) => ({ ids: e.ids }));
      output.tokens = encoded.map((e) => e.tokens);
      output.ids = encoded.map((e) => e.ids);
      output.truncated = encoded.map((e) => e.truncated);
    } else {
      sequences = input.ids.map((row, b) => ({ ids: row, mask: input.mask?.[b] }));
      if (input.mask && input.mask.length !== input.ids.length) throw new Error(`${values.input}: mask has ${input.mask.length} rows, ids has ${input.ids.length}`);
    }
    const request: RunRequest = { sequences, hidden: !omit.has("hidden"), paths: !omit.has("paths") };
    if (!omit.has("logits")) {
      if (c.kind === "classifier") {
        if (input.positions) throw new Error(`${values.input}: positions: this package is a classifier (no MLM decoder)`);
        request.logits = true;
      } else if (c.kind === "embedding") {
        if (input.positions) throw new Error(`${values.input}: positions: this package is an embedding model (no MLM decoder)`);
        request.pooled = true;
      } else {
        request.mlmPositions = input.positions ?? maskPositions(sequences, engine.tokenizer.special.mask);
      }
    }
    const result = await engine.run(request);
    if (result.hidden) output.hidden = result.hidden.map((h, b) => rows(h, sequences[b].ids.length));
    if (request.logits) {
      output.labels = c.labels;
      output.logits = result.logits!.map((l) => Array.from(l));
    } else if (request.mlmPositions) {
      output.positions = request.mlmPositions;
      output.logits = (result.mlm ?? []).map((l) => Array.from(l));
    } else if (request.pooled) {
      output.pooled = result.pooled!.map((v) => Array.from(v));
    }
    if (result.paths) output.paths = result.paths;
    process.stdout.write(JSON.stringify(output) + "\n");
    return 0;
  } finally {
    await close();
  }
}

function rows(flat: Float32Array, n: number): number[][] {
  const width = flat.length / n;
  return Array.from({ length: n }, (_, i) => Array.from(flat.subarray(i * width, (i + 1) * width)));
}

function maskPositions(sequences: Sequence[], mask: number | undefined): [number, number][] {
  const out: [number, number][] = [];
  if (mask === undefined) return out;
  sequences.forEach((s, b) => {
    for (let p = 0; p < s.ids.length; p++) if (s.ids[p] === mask) out.push([b, p]);
  });
  return out;
}
