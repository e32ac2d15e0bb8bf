/**
 * `ufb eval [package]`: what the model card states, measured by the engine exactly as the Worker runs it
 * (same tokenizer, same kernels). Classifier packages: accuracy on a labelled TSV (SST-2 dev by default),
 * accuracy per phenomenon on the behaviour set (train/behaviour/cases.jsonl), and — for packages with an MLM
 * decoder — fill-mask top-1/top-5 on held-out review sentences with 15 % of their tokens masked; optionally
 * compared example by example with reference predictions (train/results/…). Embedding use (embedding and MLM
 * packages, or any package with --embedding): the Spearman correlation of the cosine similarity of the engine's pooled
 * vectors with the STS-B dev gold scores, and recall@1/@10 on our own retrieval set (test/data/retrieval).
 */
import { readFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Engine } from "../model/engine.ts";
import { topIndices } from "../model/tasks.ts";
import { hasMlmDecoder } from "../weights/format/config.ts";
import { UsageError } from "../errors.ts";
import { parse } from "./args.ts";
import { openPackageDir } from "./files.ts";
import { loadKernel } from "./kernel.ts";
import { mulberry32 } from "./random.ts";

const ROOT = join(import.meta.dirname, "../..");
const DEFAULTS = {
  data: join(ROOT, "test/data/sst2-dev.tsv"),
  behaviour: join(ROOT, "train/behaviour/cases.jsonl"),
  fillMask: join(ROOT, "test/data/fill-mask-reviews.txt"),
  sts: join(ROOT, "test/data/sts-b-dev.tsv"),
  retrieval: join(ROOT, "test/data/retrieval"),
};

export const EVAL_USAGE = `  eval [package-dir]
      What a package's model card states, measured by the engine (default package: weights/<MODEL of wrangler.toml>).
      --data <file>               labelled TSV (header with "sentence" and "label"); default test/data/sst2-dev.tsv
      --behaviour <file|none>     behaviour cases (JSONL: id, phenomenon, text, label); default train/behaviour/cases.jsonl
      --fill-mask <file|none>     one sentence per line, 15 % of tokens masked (seeded); default test/data/fill-mask-reviews.txt
                                  (packages with an MLM decoder only)
      --compare <file>            reference predictions JSON ({"examples": [{"i", "pred"}…]}): count agreement
      --embedding                 evaluate the pooled vectors as sentence embeddings (the default for embedding and
                                  MLM packages, which have no classification head): STS-B Spearman and retrieval recall
      --sts <file|none>           sentence pairs (TSV, header with "sentence1", "sentence2", "score"); default test/data/sts-b-dev.tsv
      --retrieval <dir|none>      queries.jsonl (id, query, relevant) + distractors.txt; default test/data/retrieval
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

/**
 * A TSV with a header (tabs only, no quoting: sentences hold `"`): the data rows, split into columns, with the
 * indices of the named columns; a missing column is an error that shows the header.
 */
async function readTsv(path: string, names: string[]): Promise<{ rows: string[][]; at: number[]; width: number }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new Error(`${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const header = (lines.shift() ?? "").split("\t").map((h) => h.trim());
  const at = names.map((name) => header.indexOf(name));
  if (at.some((i) => i < 0)) {
    const wanted = names.map((n) => `"${n}"`);
    throw new Error(`${path}: expected a header with ${wanted.slice(0, -1).join(", ")} and ${wanted.at(-1)} columns, got ${JSON.stringify(header.join(" | "))}`);
  }
  return { rows: lines.map((l) => l.split("\t")), at, width: header.length };
}

export async function readLabelledTsv(path: string): Promise<{ sentence: string; label: number }[]> {
  const { rows, at: [si, li] } = await readTsv(path, ["sentence", "label"]);
  return rows.map((cols, n) => {
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


/**
 * Fill-mask accuracy: in every sentence 15 % of the content tokens (at least one) are replaced by the mask
 * token, all at once; a position counts for top-k when the original token is among the k best.
 */
export async function evaluateFillMask(engine: Engine, sentences: string[], maskRate = 0.15, seed = 20261206) {
  const mask = engine.tokenizer.special.mask;
  if (mask === undefined) throw new Error("the tokenizer has no mask token");
  const rand = mulberry32(seed);
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
      const best = topIndices(logits, 5);
      if (best[0] === truth[i]) top1++;
      if (best.includes(truth[i])) top5++;
    });
    masked += chosen.length;
  }
  return { sentences: sentences.length, masked, top1: top1 / Math.max(1, masked), top5: top5 / Math.max(1, masked) };
}

// ---- sentence embeddings: STS-B Spearman and retrieval recall ----

/**
 * Ranks 1..n of `values` in ascending order; tied values share the mean of the ranks they span (1, 2.5, 2.5, 4),
 * which is what makes Spearman's rho the Pearson correlation of the ranks even with ties.
 */
export function averageRanks(values: ArrayLike<number>): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

/** Pearson correlation; NaN when either side is constant (the correlation is undefined there, not 0). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`pearson: ${x.length} values against ${y.length}`);
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** Spearman's rank correlation with average ranks for ties (as scipy.stats.spearmanr computes it). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} values against ${y.length}`);
  return pearson(averageRanks(x), averageRanks(y));
}

/** v / |v|; a zero vector stays zero (its cosine with anything is then 0). */
export function l2Normalise(v: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const out = Float64Array.from(v);
  const norm = Math.sqrt(s);
  if (norm > 0) for (let i = 0; i < out.length; i++) out[i] /= norm;
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * 1-based rank of `scores[target]` among all scores, highest first. A score equal to the target's counts
 * against it when it comes earlier in the list (ties broken by list order), so a model that gives everything
 * the same score is not rewarded.
 */
export function rankOf(scores: ArrayLike<number>, target: number): number {
  const s = scores[target];
  let rank = 1;
  for (let i = 0; i < scores.length; i++) if (scores[i] > s || (scores[i] === s && i < target)) rank++;
  return rank;
}

/** Share of the ranks that are ≤ k. */
export function recallAt(ranks: number[], k: number): number {
  return ranks.filter((r) => r <= k).length / Math.max(1, ranks.length);
}

/** The engine's pooled vectors (what /v1/embed serves), L2-normalised, `batch` texts per engine call. */
async function embedNormalised(engine: Engine, texts: string[], batch: number): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (let i = 0; i < texts.length; i += batch) {
    const { results } = await engine.embed(texts.slice(i, i + batch));
    for (const r of results) out.push(l2Normalise(r.vector));
  }
  return out;
}

export interface StsPair { sentence1: string; sentence2: string; score: number }

/** A GLUE STS-B TSV: header naming "sentence1", "sentence2" and "score"; tabs only, no quoting (sentences hold `"`). */
export async function readStsTsv(path: string): Promise<StsPair[]> {
  const { rows, at: [a, b, si], width } = await readTsv(path, ["sentence1", "sentence2", "score"]);
  return rows.map((cols, n) => {
    const score = Number(cols[si]);
    if (cols.length !== width || cols[si].trim() === "" || !Number.isFinite(score)) {
      throw new Error(`${path}:${n + 2}: expected ${width} tab-separated columns with a numeric score`);
    }
    return { sentence1: cols[a], sentence2: cols[b], score };
  });
}

/** Spearman correlation of the cosine similarity of each pair's embeddings with its gold score. */
export async function evaluateSts(engine: Engine, pairs: StsPair[], batch = 8): Promise<{ pairs: number; spearman: number; cosines: number[] }> {
  if (pairs.length < 2) throw new Error(`STS: ${pairs.length} pairs, a correlation needs at least 2`);
  const left = await embedNormalised(engine, pairs.map((p) => p.sentence1), batch);
  const right = await embedNormalised(engine, pairs.map((p) => p.sentence2), batch);
  const cosines = left.map((v, i) => dot(v, right[i]));
  return { pairs: pairs.length, spearman: spearman(cosines, pairs.map((p) => p.score)), cosines };
}

export interface RetrievalQuery { id: string; query: string; relevant: string }

/**
 * A retrieval set folder: queries.jsonl ({"id", "query", "relevant"}, one relevant sentence per query) and
 * distractors.txt (one sentence per line). The corpus is the distractors, then the relevant sentences in query
 * order: with ties broken by corpus order, a distractor that ties with a relevant sentence ranks above it.
 */
export async function readRetrievalSet(dir: string): Promise<{ queries: RetrievalQuery[]; corpus: string[] }> {
  const read = (name: string) =>
    readFile(join(dir, name), "utf8").catch((e: NodeJS.ErrnoException) => {
      throw new Error(`${join(dir, name)}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
    });
  const queries = (await read("queries.jsonl")).split("\n").filter((l) => l.trim() !== "").map((l, n) => {
    const q = JSON.parse(l) as RetrievalQuery;
    if (typeof q.id !== "string" || typeof q.query !== "string" || typeof q.relevant !== "string") {
      throw new Error(`${join(dir, "queries.jsonl")}:${n + 1}: expected {"id", "query", "relevant"} strings`);
    }
    return q;
  });
  const distractors = (await read("distractors.txt")).split("\n").filter((l) => l.trim() !== "");
  return { queries, corpus: [...distractors, ...queries.map((q) => q.relevant)] };
}

/**
 * For each query, the rank of its relevant sentence among the whole corpus by cosine similarity (ties broken by
 * corpus order), and recall@1 / recall@10: the share of queries whose relevant sentence ranks first / in the top 10.
 */
export async function evaluateRetrieval(engine: Engine, queries: RetrievalQuery[], corpus: string[], batch = 8) {
  const index = new Map<string, number>();
  corpus.forEach((s, i) => {
    // a duplicate would make "the" relevant sentence ambiguous and let a copy outrank it
    if (index.has(s)) throw new Error(`retrieval corpus: ${JSON.stringify(s)} occurs twice`);
    index.set(s, i);
  });
  const targets = queries.map((q) => {
    const t = index.get(q.relevant);
    if (t === undefined) throw new Error(`retrieval query ${q.id}: its relevant sentence is not in the corpus`);
    return t;
  });
  if (queries.length === 0) throw new Error("retrieval: no queries");
  const docs = await embedNormalised(engine, corpus, batch);
  const qs = await embedNormalised(engine, queries.map((q) => q.query), batch);
  const ranks = qs.map((q, i) => rankOf(docs.map((d) => dot(q, d)), targets[i]));
  return { queries: queries.length, corpus: corpus.length, recallAt1: recallAt(ranks, 1), recallAt10: recallAt(ranks, 10), ranks };
}

export async function evalCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      data: { type: "string" }, behaviour: { type: "string" }, "fill-mask": { type: "string" }, compare: { type: "string" }, batch: { type: "string" }, json: { type: "boolean" },
      embedding: { type: "boolean" }, sts: { type: "string" }, retrieval: { type: "string" },
    },
    ["package?"],
  );
  const batch = values.batch === undefined ? 8 : Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 32) throw new UsageError(`--batch ${JSON.stringify(values.batch)}: expected an integer in [1, 32]`);
  const dir = positionals[0] ?? defaultPackageDir();
  const data = typeof values.data === "string" ? values.data : DEFAULTS.data;
  const pick = (v: unknown, dflt: string) => (v === "none" ? null : typeof v === "string" ? v : existsSync(dflt) ? dflt : null);
  const behaviourFile = pick(values.behaviour, DEFAULTS.behaviour);
  const fillMaskFile = pick(values["fill-mask"], DEFAULTS.fillMask);
  const given = (name: string) => typeof values[name] === "string" && values[name] !== "none";
  const { pkg, close } = await openPackageDir(dir);
  try {
    // a package without a classification head can only be measured as an embedding model
    const embedding = values.embedding === true || pkg.config.kind !== "classifier";
    if (embedding) {
      // silently ignoring a classifier flag would print figures the user did not ask for
      const misplaced = ["data", "behaviour", "compare"].find(given);
      if (misplaced) throw new UsageError(`--${misplaced} measures a classification head; ${dir} is evaluated as sentence embeddings (${values.embedding ? "--embedding" : pkg.config.kind === "embedding" ? "an embedding package" : "an MLM package"})`);
      const files = { sts: pick(values.sts, DEFAULTS.sts), retrieval: pick(values.retrieval, DEFAULTS.retrieval), fillMask: fillMaskFile };
      return await evalEmbedding(pkg, dir, files, batch, values.json === true);
    }
    const misplaced = ["sts", "retrieval"].find(given);
    if (misplaced) throw new UsageError(`--${misplaced} measures sentence embeddings; add --embedding to evaluate ${dir}'s pooled vectors`);
    const rows = await readLabelledTsv(data);
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

/** `ufb eval --embedding` (and MLM packages): STS Spearman, retrieval recall and, with an MLM decoder, fill-mask. */
async function evalEmbedding(
  pkg: Awaited<ReturnType<typeof openPackageDir>>["pkg"],
  dir: string,
  files: { sts: string | null; retrieval: string | null; fillMask: string | null },
  batch: number,
  json: boolean,
): Promise<number> {
  const stsPairs = files.sts ? await readStsTsv(files.sts) : null;
  const retrievalSet = files.retrieval ? await readRetrievalSet(files.retrieval) : null;
  const engine = await Engine.create(pkg, await loadKernel());
  const started = performance.now();
  const sts = stsPairs ? await evaluateSts(engine, stsPairs, batch) : null;
  const retrieval = retrievalSet ? await evaluateRetrieval(engine, retrievalSet.queries, retrievalSet.corpus, batch) : null;
  const ms = performance.now() - started;
  const fillMask = files.fillMask && hasMlmDecoder(pkg.config)
    ? await evaluateFillMask(engine, (await readFile(files.fillMask, "utf8")).split("\n").filter((l) => l.trim() !== ""))
    : null;
  const pooler = pkg.config.pooler ?? "avg";
  if (json) {
    process.stdout.write(JSON.stringify({
      package: dir,
      mode: "embedding",
      pooler,
      // JSON has no NaN: a Spearman of null means the cosines (or the scores) were all equal
      sts: sts && { file: files.sts, pairs: sts.pairs, spearman: Number.isFinite(sts.spearman) ? sts.spearman : null },
      retrieval: retrieval && {
        dir: files.retrieval, queries: retrieval.queries, corpus: retrieval.corpus, recallAt1: retrieval.recallAt1, recallAt10: retrieval.recallAt10,
        ranks: Object.fromEntries(retrievalSet!.queries.map((q, i) => [q.id, retrieval.ranks[i]])),
      },
      fillMask,
    }) + "\n");
    return 0;
  }
  const shown = (f: string) => relative(process.cwd(), f) || f;
  console.log(`ufb eval: ${shown(dir)} as sentence embeddings (${pooler} pooler, cosine of L2-normalised vectors)`);
  if (sts) {
    console.log(`  STS ${shown(files.sts!)} (${sts.pairs} pairs)`);
    console.log(`    Spearman   ${sts.spearman.toFixed(4)} (cosine against the gold scores)`);
  }
  if (retrieval) {
    const hits = (k: number) => retrieval.ranks.filter((r) => r <= k).length;
    console.log(`  retrieval ${shown(files.retrieval!)} (${retrieval.queries} queries, one relevant sentence each among ${retrieval.corpus})`);
    console.log(`    recall@1   ${(100 * retrieval.recallAt1).toFixed(1)} % (${hits(1)}/${retrieval.queries})`);
    console.log(`    recall@10  ${(100 * retrieval.recallAt10).toFixed(1)} % (${hits(10)}/${retrieval.queries})`);
  }
  if (sts || retrieval) console.log(`  time       ${(ms / 1000).toFixed(1)} s (batches of ${batch}, 1 thread)`);
  if (fillMask) {
    console.log(`  fill-mask ${shown(files.fillMask!)} (${fillMask.sentences} sentences, ${fillMask.masked} masked tokens, 15 %)`);
    console.log(`    top-1      ${(100 * fillMask.top1).toFixed(1)} %`);
    console.log(`    top-5      ${(100 * fillMask.top5).toFixed(1)} %`);
  }
  return 0;
}
