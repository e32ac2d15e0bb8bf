/**
 * `ufb eval [package]`: what the model card states, measured by the engine exactly as the Worker runs it
 * (same tokenizer, same kernels): accuracy on a labelled TSV (SST-2 dev by default), accuracy per phenomenon
 * on the behaviour set (train/behaviour/cases.jsonl), and — for packages with an MLM decoder — fill-mask
 * top-1/top-5 on held-out review sentences with 15 % of their tokens masked. Optionally compared example by
 * example with reference predictions (train/results/…).
 */
import { readFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Engine } from "../model/engine.ts";
import { hasMlmDecoder } from "../weights/format/config.ts";
import { UsageError } from "../errors.ts";
import { parse } from "./args.ts";
import { openPackageDir } from "./files.ts";
import { loadKernel } from "./kernel.ts";

const ROOT = join(import.meta.dirname, "../..");
const DEFAULTS = {
  data: join(ROOT, "test/data/sst2-dev.tsv"),
  behaviour: join(ROOT, "train/behaviour/cases.jsonl"),
  fillMask: join(ROOT, "test/data/fill-mask-reviews.txt"),
};

export const EVAL_USAGE = `  eval [package-dir]
      What a package's model card states, measured by the engine (default package: weights/<MODEL of wrangler.toml>).
      --data <file>               labelled TSV (header with "sentence" and "label"); default test/data/sst2-dev.tsv
      --behaviour <file|none>     behaviour cases (JSONL: id, phenomenon, text, label); default train/behaviour/cases.jsonl
      --fill-mask <file|none>     one sentence per line, 15 % of tokens masked (seeded); default test/data/fill-mask-reviews.txt
                                  (packages with an MLM decoder only)
      --compare <file>            reference predictions JSON ({"examples": [{"i", "pred"}…]}): count agreement
      --batch <int>               sentences per engine call, 1..32 (default 8)
      --json                      print JSON instead of text`;

/** weights/<MODEL> of wrangler.toml: the package `npm run dev` serves. */
export function defaultPackageDir(): string {
  const model = /^\s*MODEL\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))?.[1];
  if (!model) throw new UsageError("eval: no package given and no MODEL in wrangler.toml");
  return join(ROOT, "weights", model);
}

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

export interface BehaviourCase { id: string; phenomenon: string; text: string; label: number }

export async function readBehaviourCases(path: string): Promise<BehaviourCase[]> {
  const lines = (await readFile(path, "utf8")).split("\n").filter((l) => l.trim() !== "");
  return lines.map((l, n) => {
    const c = JSON.parse(l) as BehaviourCase;
    if (typeof c.text !== "string" || typeof c.phenomenon !== "string" || !Number.isInteger(c.label)) {
      throw new Error(`${path}:${n + 1}: expected {"id", "phenomenon", "text", "label"}`);
    }
    return c;
  });
}

/** Accuracy per phenomenon (and "all") of the engine's predictions on the behaviour cases. */
export async function evaluateBehaviour(engine: Engine, cases: BehaviourCase[], batch = 8) {
  const { predictions } = await evaluate(engine, cases.map((c) => ({ sentence: c.text, label: c.label })), batch);
  const table: Record<string, { n: number; correct: number; accuracy: number }> = {};
  const add = (key: string, ok: boolean) => {
    const row = (table[key] ??= { n: 0, correct: 0, accuracy: 0 });
    row.n++;
    if (ok) row.correct++;
    row.accuracy = row.correct / row.n;
  };
  const wrong: string[] = [];
  cases.forEach((c, i) => {
    const ok = predictions[i] === c.label;
    add(c.phenomenon, ok);
    add("all", ok);
    if (!ok) wrong.push(c.id);
  });
  return { table, wrong };
}

/** mulberry32: the masked positions are the same on every run and machine. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fill-mask accuracy: in every sentence 15 % of the content tokens (at least one) are replaced by the mask
 * token, all at once; a position counts for top-k when the original token is among the k best.
 */
export async function evaluateFillMask(engine: Engine, sentences: string[], maskRate = 0.15, seed = 20261206) {
  const mask = engine.tokenizer.special.mask;
  if (mask === undefined) throw new Error("the tokenizer has no mask token");
  const rand = seeded(seed);
  let top1 = 0;
  let top5 = 0;
  let masked = 0;
  for (const sentence of sentences) {
    const ids = engine.tokenizer.encode(sentence).ids.slice();
    const content = ids.map((_, p) => p).slice(1, -1);
    const k = Math.max(1, Math.round(maskRate * content.length));
    for (let i = content.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [content[i], content[j]] = [content[j], content[i]];
    }
    const chosen = content.slice(0, k).sort((a, b) => a - b);
    const truth = chosen.map((p) => ids[p]);
    for (const p of chosen) ids[p] = mask;
    const { mlm } = await engine.run({ sequences: [{ ids }], mlmPositions: chosen.map((p) => [0, p]) });
    mlm!.forEach((logits, i) => {
      const best = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b).slice(0, 5);
      if (best[0] === truth[i]) top1++;
      if (best.includes(truth[i])) top5++;
    });
    masked += chosen.length;
  }
  return { sentences: sentences.length, masked, top1: top1 / Math.max(1, masked), top5: top5 / Math.max(1, masked) };
}

export async function evalCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { data: { type: "string" }, behaviour: { type: "string" }, "fill-mask": { type: "string" }, compare: { type: "string" }, batch: { type: "string" }, json: { type: "boolean" } },
    ["package?"],
  );
  const batch = values.batch === undefined ? 8 : Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 32) throw new UsageError(`--batch ${JSON.stringify(values.batch)}: expected an integer in [1, 32]`);
  const dir = positionals[0] ?? defaultPackageDir();
  const data = typeof values.data === "string" ? values.data : DEFAULTS.data;
  const pick = (v: unknown, dflt: string) => (v === "none" ? null : typeof v === "string" ? v : existsSync(dflt) ? dflt : null);
  const behaviourFile = pick(values.behaviour, DEFAULTS.behaviour);
  const fillMaskFile = pick(values["fill-mask"], DEFAULTS.fillMask);
  const rows = await readLabelledTsv(data);
  const { pkg, close } = await openPackageDir(dir);
  try {
    if (pkg.config.kind !== "classifier") throw new Error(`${dir}: an MLM package has no classification head to evaluate`);
    const engine = await Engine.create(pkg, await loadKernel());
    const started = performance.now();
    const result = await evaluate(engine, rows, batch);
    const ms = performance.now() - started;
    if (typeof values.compare === "string") {
      const ref = JSON.parse(await readFile(values.compare, "utf8")) as { examples: { i: number; pred: number }[] };
      if (ref.examples.length !== rows.length) throw new Error(`${values.compare}: ${ref.examples.length} examples, ${data} has ${rows.length}`);
      result.agreement = { equal: ref.examples.filter((e) => result.predictions[e.i] === e.pred).length, total: ref.examples.length };
    }
    const behaviour = behaviourFile ? await evaluateBehaviour(engine, await readBehaviourCases(behaviourFile), batch) : null;
    const fillMask = fillMaskFile && hasMlmDecoder(pkg.config)
      ? await evaluateFillMask(engine, (await readFile(fillMaskFile, "utf8")).split("\n").filter((l) => l.trim() !== ""))
      : null;
    if (values.json) {
      const { predictions, ...summary } = result;
      process.stdout.write(JSON.stringify({ package: dir, data, ...summary, behaviour, fillMask, predictions }) + "\n");
    } else {
      console.log(`ufb eval: ${relative(process.cwd(), dir) || dir}`);
      const shown = (f: string) => relative(process.cwd(), f) || f;
      console.log(`  ${shown(data)}`);
      console.log(`    accuracy   ${(100 * result.accuracy).toFixed(2)} % (${result.correct}/${result.examples})`);
      if (result.agreement) console.log(`    agreement  ${result.agreement.equal}/${result.agreement.total} predictions equal to ${values.compare}`);
      console.log(`    time       ${(ms / 1000).toFixed(1)} s (${(ms / rows.length).toFixed(2)} ms per sentence, batches of ${batch}, 1 thread)`);
      if (behaviour) {
        console.log(`  behaviour set ${shown(behaviourFile!)}`);
        for (const [name, row] of Object.entries(behaviour.table).sort(([a], [b]) => (a === "all" ? 1 : b === "all" ? -1 : a.localeCompare(b)))) {
          console.log(`    ${name.padEnd(26)} ${(100 * row.accuracy).toFixed(1).padStart(5)} % (${row.correct}/${row.n})`);
        }
      }
      if (fillMask) {
        console.log(`  fill-mask ${shown(fillMaskFile!)} (${fillMask.sentences} sentences, ${fillMask.masked} masked tokens, 15 %)`);
        console.log(`    top-1      ${(100 * fillMask.top1).toFixed(1)} %`);
        console.log(`    top-5      ${(100 * fillMask.top5).toFixed(1)} %`);
      }
    }
    return 0;
  } finally {
    await close();
  }
}
