/**
 * `ufb eval <package> [--data file.tsv]`: accuracy of a classifier package on a labelled TSV (GLUE
 * format: a header with `sentence` and `label` columns; label = index into the package's labels), run by
 * the engine exactly as the Worker runs it (same tokenizer, same kernels), optionally compared example by
 * example with reference predictions (train/results/*-predictions.json).
 */
import { readFile } from "node:fs/promises";
import { Engine } from "../model/engine.ts";
import { UsageError } from "../errors.ts";
import { parse } from "./args.ts";
import { openPackageDir } from "./files.ts";
import { loadKernel } from "./kernel.ts";

export const EVAL_USAGE = `  eval <package-dir> --data <file.tsv>
      Accuracy of a classifier package on a labelled TSV (header with "sentence" and "label" columns).
      --data <file>               the TSV (required), e.g. ../shared/data/glue/SST-2/dev.tsv
      --compare <file>            reference predictions JSON ({"examples": [{"i", "pred"}…]}): count agreement
      --batch <int>               sentences per engine call, 1..32 (default 8)
      --json                      print JSON instead of text`;

export interface EvalResult {
  examples: number;
  correct: number;
  accuracy: number;
  agreement?: { equal: number; total: number };
  predictions: number[];
}

export async function readLabelledTsv(path: string): Promise<{ sentence: string; label: number }[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new Error(`${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const header = (lines.shift() ?? "").split("\t").map((h) => h.trim());
  const si = header.indexOf("sentence");
  const li = header.indexOf("label");
  if (si < 0 || li < 0) throw new Error(`${path}: expected a header with "sentence" and "label" columns, got ${JSON.stringify(header.join(" | "))}`);
  return lines.map((line, n) => {
    const cols = line.split("\t");
    const label = Number(cols[li]);
    if (!Number.isInteger(label) || label < 0) throw new Error(`${path}:${n + 2}: label ${JSON.stringify(cols[li])} is not a class index`);
    return { sentence: cols[si] ?? "", label };
  });
}

export async function evaluate(engine: Engine, rows: { sentence: string; label: number }[], batch = 8): Promise<EvalResult> {
  const labels = engine.config.labels?.length ?? 0;
  const predictions: number[] = [];
  for (let i = 0; i < rows.length; i += batch) {
    const chunk = rows.slice(i, i + batch);
    const { logits } = await engine.run({ sequences: chunk.map((r) => ({ ids: engine.tokenizer.encode(r.sentence).ids })), logits: true });
    for (const l of logits!) predictions.push(l.indexOf(Math.max(...l)));
  }
  rows.forEach((r, i) => {
    if (r.label >= labels) throw new Error(`example ${i}: label ${r.label}, the package has ${labels} labels`);
  });
  const correct = predictions.filter((p, i) => p === rows[i].label).length;
  return { examples: rows.length, correct, accuracy: correct / Math.max(1, rows.length), predictions };
}

export async function evalCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { data: { type: "string" }, compare: { type: "string" }, batch: { type: "string" }, json: { type: "boolean" } }, ["package"]);
  if (typeof values.data !== "string") throw new UsageError("eval: --data <file.tsv> is required");
  const batch = values.batch === undefined ? 8 : Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 32) throw new UsageError(`--batch ${JSON.stringify(values.batch)}: expected an integer in [1, 32]`);
  const rows = await readLabelledTsv(values.data);
  const { pkg, close } = await openPackageDir(positionals[0]);
  try {
    if (pkg.config.kind !== "classifier") throw new Error(`${positionals[0]}: an MLM package has no classification head to evaluate`);
    const engine = await Engine.create(pkg, await loadKernel());
    const started = performance.now();
    const result = await evaluate(engine, rows, batch);
    const ms = performance.now() - started;
    if (typeof values.compare === "string") {
      const ref = JSON.parse(await readFile(values.compare, "utf8")) as { examples: { i: number; pred: number }[] };
      if (ref.examples.length !== rows.length) throw new Error(`${values.compare}: ${ref.examples.length} examples, ${values.data} has ${rows.length}`);
      result.agreement = { equal: ref.examples.filter((e) => result.predictions[e.i] === e.pred).length, total: ref.examples.length };
    }
    if (values.json) {
      const { predictions, ...summary } = result;
      process.stdout.write(JSON.stringify({ package: positionals[0], data: values.data, ...summary, predictions }) + "\n");
    } else {
      console.log(`ufb eval: ${positionals[0]} on ${values.data}`);
      console.log(`  accuracy   ${(100 * result.accuracy).toFixed(2)} % (${result.correct}/${result.examples})`);
      if (result.agreement) console.log(`  agreement  ${result.agreement.equal}/${result.agreement.total} predictions equal to ${values.compare}`);
      console.log(`  time       ${(ms / 1000).toFixed(1)} s (${(ms / rows.length).toFixed(2)} ms per sentence, batches of ${batch}, 1 thread)`);
    }
    return 0;
  } finally {
    await close();
  }
}
