/**
 * CPU data preparation for the second-generation models (review-text pretraining, BERT-uncased vocabulary).
 *
 *   node train/prepare_reviews.ts vocab  [--shared ../shared] [--size 16384]
 *       counts bert-base-uncased tokens over the pretraining text and writes the pruned vocabulary
 *       train/tokenizer/ufb-uncased-v2/vocab.txt (all single characters and ##-characters kept, then the most
 *       frequent tokens; original order, so <pad>=0 <unk>=1 <cls>=2 <sep>=3 <mask>=4)
 *   node train/prepare_reviews.ts pretrain [--shared ../shared] [--out .data/ufb2] [--tokenizer <tokenizer.json>]
 *       tokenizes the pretraining text with the shipped tokenizer into byte-plane uint16 streams (xz):
 *       reviews.u16.xz (train stream, <sep> after every document), val_reviews.u16.xz (held-out IMDb unsup
 *       reviews), wikitext_val.u16.xz, and held-out-reviews.txt (the held-out texts, for fill-mask evaluation)
 *
 *   node train/prepare_reviews.ts classify|embed|distill [--out <dir>]: labelled splits, embedding pairs,
 *       unlabelled sentences for distillation (each function below says what it writes)
 *
 * Why Node: the engine's own tokenizer code (src/model/tokenizer.ts, @huggingface/tokenizers) makes the ids,
 * so training and serving cannot disagree; it runs at about 0.7 M tokens/s on one core.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseArgs } from "node:util";
import { mulberry32, shuffled } from "../src/cli/random.ts";
import { TextTokenizer } from "../src/model/tokenizer.ts";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    shared: { type: "string", default: "../shared" },
    out: { type: "string", default: ".data/ufb2" },
    size: { type: "string", default: "16384" },
    tokenizer: { type: "string", default: "train/tokenizer/ufb-uncased-v2/tokenizer.json" },
    "heldout-reviews": { type: "string", default: "1000" },
    aug: { type: "string" },
    // classify: negation minimal pairs from train/negate.py (split `neg`)
    neg: { type: "string" },
    // classify: a second rule set of train/negate.py (`--version 3`) as split `neg3`, so one call can compare the two
    neg3: { type: "string" },
    imdb: { type: "boolean", default: false },
    // classify: also IMDb test reviews (imdb_test) and the endings of long IMDb reviews (imdb_tail)
    "imdb-more": { type: "boolean", default: false },
    // embed: add crop pairs (measured worse for the shipped model: train/README.md)
    pairs: { type: "boolean", default: false },
    "unsup-sentences": { type: "string", default: "50000" },
    // embed: also write the retrieval dev set as queries.jsonl + distractors.txt (for `ufb eval --retrieval`)
    "retrieval-dev-out": { type: "string" },
    // distill: how many unlabelled sentences
    sentences: { type: "string", default: "300000" },
    // embed: a WordNet 3.0 database folder (Debian's wordnet-base) for lexical paraphrase pairs
    wordnet: { type: "string" },
    behaviour: { type: "string" },
  },
});
const shared = values.shared!;
const VOCAB_DIR = "train/tokenizer/ufb-uncased-v2";

/** A text cut at sentence ends (after . ! or ?). */
const sentencesOf = (text: string): string[] => text.split(/(?<=[.!?])\s+/);

/** `label\ttext` rows of a reviews/*.tsv.gz file (header skipped). */
function readReviews(rel: string): { label: string; text: string }[] {
  const lines = gunzipSync(readFileSync(join(shared, "data/reviews", rel))).toString("utf8").split("\n");
  const rows: { label: string; text: string }[] = [];
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const tab = line.indexOf("\t");
    rows.push({ label: line.slice(0, tab), text: line.slice(tab + 1) });
  }
  return rows;
}

const NAMED: Record<string, string> = { quot: '"', amp: "&", lt: "<", gt: ">", apos: "'", nbsp: " " };

/** IMDb keeps `<br />` tags and Blitzer HTML entities (shared/data/reviews/README.md): undo both. */
export function cleanReview(text: string): string {
  return text
    .replace(/<br\s*\/?>/gi, " ")
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === "#") {
        const cp = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
      }
      return NAMED[e.toLowerCase()] ?? m;
    })
    .replace(/\s+/g, " ")
    .trim();
}

function readSst2Train(): string[] {
  const lines = readFileSync(join(shared, "data/glue/SST-2/train.tsv"), "utf8").split("\n").slice(1);
  return lines.filter((l) => l).map((l) => l.slice(0, l.lastIndexOf("\t")).trim());
}

/** Review documents for pretraining (deduplicated) and the held-out IMDb unsup reviews. */
function pretrainDocuments(heldOut: number): { train: string[]; held: string[] } {
  const seen = new Set<string>();
  const uniq = (texts: string[]) => texts.map(cleanReview).filter((t) => t && !seen.has(t) && seen.add(t));
  const unsup = shuffled(uniq(readReviews("imdb/unsup.tsv.gz").map((r) => r.text)), 20261206);
  const held = unsup.slice(0, heldOut);
  const train = [
    ...unsup.slice(heldOut),
    ...uniq(readReviews("imdb/train.tsv.gz").map((r) => r.text)),
    ...uniq(readReviews("imdb/test.tsv.gz").map((r) => r.text)),
    ...["books", "dvd", "electronics", "kitchen"].flatMap((d) => uniq(readReviews(`blitzer-mds/${d}.tsv.gz`).map((r) => r.text))),
    ...["amazon", "imdb", "yelp"].flatMap((d) => uniq(readReviews(`kotzias-sentences/${d}.tsv.gz`).map((r) => r.text))),
    ...uniq(readSst2Train()),
  ];
  return { train, held };
}

function writeU16Xz(path: string, ids: number[] | Uint16Array): void {
  const a = ids instanceof Uint16Array ? ids : Uint16Array.from(ids);
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  // byte planes (all low bytes, then all high bytes) compress better than interleaved uint16 (prepare_data.py)
  const planes = new Uint8Array(bytes.length);
  const n = a.length;
  for (let i = 0; i < n; i++) {
    planes[i] = bytes[2 * i];
    planes[n + i] = bytes[2 * i + 1];
  }
  writeFileSync(path, execFileSync("xz", ["-9", "-T2", "-c"], { input: planes, maxBuffer: 1 << 30 }));
}

function stream(tok: TextTokenizer, docs: string[], sep: number): Uint16Array {
  const out: number[] = [];
  let last = Date.now();
  for (const [i, d] of docs.entries()) {
    const ids = tok.encode(d).ids.slice(1, -1);
    for (const id of ids) out.push(id);
    out.push(sep);
    if (Date.now() - last > 10_000) {
      console.log(`  ${i + 1}/${docs.length} documents, ${out.length} tokens`);
      last = Date.now();
    }
  }
  return Uint16Array.from(out);
}

function buildVocab(): void {
  const size = Number(values.size);
  const bert = JSON.parse(readFileSync(join(shared, "data/vocab/bert-base-uncased/tokenizer.json"), "utf8"));
  const rename: Record<string, string> = { "[PAD]": "<pad>", "[UNK]": "<unk>", "[CLS]": "<cls>", "[SEP]": "<sep>", "[MASK]": "<mask>" };
  const tok = new TextTokenizer(bert, 1 << 20);
  const { train } = pretrainDocuments(Number(values["heldout-reviews"]));
  const counts = new Map<number, number>();
  for (const d of train) for (const id of tok.encode(d).ids.slice(1, -1)) counts.set(id, (counts.get(id) ?? 0) + 1);
  const vocab: string[] = [];
  for (const [t, id] of Object.entries(bert.model.vocab as Record<string, number>)) vocab[id] = t;
  const isChar = (t: string) => [...t].length === 1 || (t.startsWith("##") && [...t].length === 3);
  const keep = new Set<number>();
  vocab.forEach((t, id) => { if (rename[t] || isChar(t)) keep.add(id); });
  const byFreq = [...counts.entries()].filter(([id]) => !keep.has(id) && !vocab[id].startsWith("[unused"))
    .sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (const [id] of byFreq) {
    if (keep.size >= size) break;
    keep.add(id);
  }
  const kept = [...keep].sort((a, b) => a - b).map((id) => rename[vocab[id]] ?? vocab[id]);
  mkdirSync(VOCAB_DIR, { recursive: true });
  writeFileSync(join(VOCAB_DIR, "vocab.txt"), kept.join("\n") + "\n");
  const covered = [...keep].reduce((s, id) => s + (counts.get(id) ?? 0), 0);
  const total = [...counts.values()].reduce((s, c) => s + c, 0);
  console.log(`vocab.txt: ${kept.length} tokens (${[...keep].filter((id) => isChar(vocab[id])).length} characters); ` +
    `${(100 * covered / total).toFixed(2)} % of the ${total} bert-base-uncased tokens of the pretraining text kept as they were`);
}

function buildPretrain(): void {
  const out = values.out!;
  mkdirSync(out, { recursive: true });
  const tok = TextTokenizer.fromJsonText(readFileSync(values.tokenizer!, "utf8"), 1 << 20);
  const sep = tok.special.sep!;
  const { train, held } = pretrainDocuments(Number(values["heldout-reviews"]));
  console.log(`pretraining documents: ${train.length}; held out: ${held.length}`);
  const t0 = Date.now();
  const ids = stream(tok, train, sep);
  console.log(`train stream: ${ids.length} tokens in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  writeU16Xz(join(out, "reviews.u16.xz"), ids);
  writeU16Xz(join(out, "val_reviews.u16.xz"), stream(tok, held, sep));
  writeFileSync(join(out, "held-out-reviews.txt"), held.join("\n") + "\n");
  const wiki = readFileSync(join(shared, "data/corpus/wikitext-2-raw/wiki.test.raw"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("="));
  writeU16Xz(join(out, "wikitext_val.u16.xz"), stream(tok, wiki, sep));
  const meta = { vocab_size: tok.vocabSize, special_ids: { "<pad>": tok.special.pad, "<unk>": tok.special.unk, "<cls>": tok.special.cls, "<sep>": sep, "<mask>": tok.special.mask }, train_documents: train.length, heldout_documents: held.length, train_tokens: ids.length };
  writeFileSync(join(out, "pretrain-meta.json"), JSON.stringify(meta, null, 1));
  console.log(meta);
}

function readTsv(path: string, textFirst: boolean): { text: string; label: number }[] {
  const raw = path.endsWith(".gz") ? gunzipSync(readFileSync(path)).toString("utf8") : readFileSync(path, "utf8");
  return raw.split("\n").slice(1).filter((l) => l).map((l) => {
    const cut = textFirst ? l.lastIndexOf("\t") : l.indexOf("\t");
    const [text, label] = textFirst ? [l.slice(0, cut), l.slice(cut + 1)] : [l.slice(cut + 1), l.slice(0, cut)];
    return { text: text.trim(), label: Number(label) };
  });
}

/**
 * cls.json.xz: every labelled split the fine-tuning and evaluation use, tokenized with the shipped tokenizer
 * (template and truncation to 128 tokens included): SST-2 train/dev, the augmentation TSV, Kotzias sentences,
 * Blitzer and IMDb-train reviews (truncated), with --imdb-more IMDb-test reviews (truncated) and the last 126 tokens
 * of every IMDb train/test review longer than 128 (imdb_tail), with --neg train/negate.py's rows (neg; --neg3 another rule set as neg3), the behaviour set.
 */
function buildClassification(): void {
  const out = values.out!;
  mkdirSync(out, { recursive: true });
  const tok = TextTokenizer.fromJsonText(readFileSync(values.tokenizer!, "utf8"), 128);
  const encode = (rows: { text: string; label: number }[]) => ({ ids: rows.map((r) => tok.encode(r.text).ids), labels: rows.map((r) => r.label) });
  const glue = join(shared, "data/glue/SST-2");
  const reviews = (files: string[]) => files.flatMap((f) => readTsv(join(shared, "data/reviews", f), false)).map((r) => ({ ...r, text: cleanReview(r.text) }));
  const splits: Record<string, unknown> = {
    sst2_train: encode(readTsv(join(glue, "train.tsv"), true)),
    sst2_dev: encode(readTsv(join(glue, "dev.tsv"), true)),
    kotzias: encode(reviews(["amazon", "imdb", "yelp"].map((d) => `kotzias-sentences/${d}.tsv.gz`))),
    blitzer: encode(reviews(["books", "dvd", "electronics", "kitchen"].map((d) => `blitzer-mds/${d}.tsv.gz`))),
  };
  if (values.imdb) splits.imdb_train = encode(reviews(["imdb/train.tsv.gz"]));
  if (values["imdb-more"]) {
    splits.imdb_test = encode(reviews(["imdb/test.tsv.gz"]));
    // a review's verdict is often in its last sentences, which the 128-token cut of imdb_train/imdb_test drops
    const whole = TextTokenizer.fromJsonText(readFileSync(values.tokenizer!, "utf8"), 1 << 20);
    const tails = { ids: [] as number[][], labels: [] as number[] };
    for (const r of reviews(["imdb/train.tsv.gz", "imdb/test.tsv.gz"])) {
      const ids = whole.encode(r.text).ids;
      if (ids.length <= 128) continue;
      tails.ids.push([ids[0], ...ids.slice(ids.length - 127, -1), ids[ids.length - 1]]);
      tails.labels.push(r.label);
    }
    splits.imdb_tail = tails;
  }
  if (values.aug) splits.aug = encode(readTsv(values.aug, true));
  if (values.neg) splits.neg = encode(readTsv(values.neg, true));
  if (values.neg3) splits.neg3 = encode(readTsv(values.neg3, true));
  if (values.behaviour) {
    const cases = readFileSync(values.behaviour, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as { id: string; phenomenon: string; text: string; label: number });
    splits.behaviour = { ...encode(cases), phenomenon: cases.map((c) => c.phenomenon), case_ids: cases.map((c) => c.id) };
  }
  const json = JSON.stringify({ tokenizer: values.tokenizer, splits });
  writeFileSync(join(out, "cls.json.xz"), execFileSync("xz", ["-6", "-c"], { input: json, maxBuffer: 1 << 30 }));
  for (const [k, v] of Object.entries(splits)) console.log(`${k}: ${(v as { labels: number[] }).labels.length}`);
}

/** GLUE tsv rows as column → value (no quoting; the MRPC header starts with a BOM). */
function readGlue(path: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(path, "utf8").replace(/^\uFEFF/, "").split("\n").filter((l) => l);
  const cols = head.split("\t");
  return lines.map((l) => Object.fromEntries(l.split("\t").map((v, i) => [cols[i], v])));
}

/**
 * embed.json.xz for train/embed.py: sentences for unsupervised contrastive learning (review documents of the
 * pretraining set, split at sentence ends, 6–50 words, seeded sample; no wikitext-2, whose sentences are the
 * retrieval test set's distractors), STS-B train pairs
 * with their scores, STS-B dev pairs (model selection and reporting), and the pair sources of the ranking loss:
 * mrpc (MRPC train paraphrases), sts_pos (STS-B train pairs scored >= 4), qnli (QNLI dev and test: question ->
 * a sentence of its Wikipedia paragraph, answering or not, so a topical pair; no labels used), agnews (AG News
 * headline -> text, its test split as unlabelled pairs), rte (RTE train/dev entailment: hypothesis -> premise),
 * wordnet (with --wordnet) and crops (with --pairs: two sentences of one document). With train/retrieval-dev
 * present it adds the retrieval dev set: those queries, ranked against their relevant sentences, their hard
 * negatives and distractors from sources the test set in test/data/retrieval does not use (IMDb train reviews,
 * SST-2 train, Project Gutenberg books).
 */
function buildEmbed(): void {
  const out = values.out!;
  mkdirSync(out, { recursive: true });
  const tok = TextTokenizer.fromJsonText(readFileSync(values.tokenizer!, "utf8"), 64);
  const enc = (t: string) => tok.encode(t).ids;
  const split = (t: string) => sentencesOf(t).filter((x) => { const w = x.split(/\s+/).length; return w >= 6 && w <= 50; });
  const { train } = pretrainDocuments(Number(values["heldout-reviews"]));
  const sentences = shuffled(train.flatMap(split), 7);
  const unsup = sentences.slice(0, Number(values["unsup-sentences"])).map(enc);
  const pair = (a: string, b: string) => ({ a: enc(a), b: enc(b) });
  const stsRows = (f: string) => readGlue(join(shared, "data/glue/STS-B", f));
  const sts = (f: string) => stsRows(f).map((r) => ({ a: enc(r.sentence1), b: enc(r.sentence2), score: Number(r.score) }));
  const pairs: Record<string, { a: number[]; b: number[] }[]> = {
    mrpc: readGlue(join(shared, "data/glue/MRPC/train.tsv")).filter((r) => r.Quality === "1").map((r) => pair(r["#1 String"], r["#2 String"])),
    sts_pos: stsRows("train.tsv").filter((r) => Number(r.score) >= 4).map((r) => pair(r.sentence1, r.sentence2)),
    qnli: ["dev.tsv", "test.tsv"].flatMap((f) => readGlue(join(shared, "data/glue/QNLI", f))).filter((r) => r.question && r.sentence).map((r) => pair(r.question, r.sentence)),
    agnews: readFileSync(join(shared, "data/classification/AG-News/test.csv"), "utf8").split("\n").flatMap((line) => {
      const m = /^"\d","((?:[^"]|"")*)","((?:[^"]|"")*)"$/.exec(line.trim());
      return m ? [pair(m[1].replace(/""/g, '"'), m[2].replace(/""/g, '"').replace(/\\/g, " "))] : [];
    }),
    rte: ["train.tsv", "dev.tsv"].flatMap((f) => readGlue(join(shared, "data/glue/RTE", f))).filter((r) => r.label === "entailment").map((r) => pair(r.sentence2, r.sentence1)),
  };
  if (values.wordnet) pairs.wordnet = wordnetPairs(values.wordnet, sentences.slice(200_000, 400_000), mulberry32(5)).map((p) => pair(p.a, p.b));
  if (values.pairs) {
    // two different sentences of one review or Wikipedia paragraph (Contriever-style cropping)
    const rand = mulberry32(20261206);
    const pick = (n: number) => Math.floor(rand() * n);
    pairs.crops = [];
    for (const doc of shuffled(train, 11)) {
      const s = split(doc);
      if (s.length < 2) continue;
      const i = pick(s.length);
      const j = (i + 1 + pick(s.length - 1)) % s.length;
      pairs.crops.push(pair(s[i], s[j]));
      if (pairs.crops.length === 100_000) break;
    }
  }
  const data = { tokenizer: values.tokenizer, max_length: 64, unsup, sts_train: sts("train.tsv"), sts_dev: sts("dev.tsv"), pairs, retrieval_dev: retrievalDev(enc) };
  writeFileSync(join(out, "embed.json.xz"), execFileSync("xz", ["-9", "-c"], { input: JSON.stringify(data), maxBuffer: 1 << 30 }));
  console.log(`unsup ${unsup.length} sentences (of ${sentences.length}), sts_train ${data.sts_train.length}, sts_dev ${data.sts_dev.length}, pairs: ${Object.entries(pairs).map(([k, v]) => `${k} ${v.length}`).join(", ")}` +
    (data.retrieval_dev ? `, retrieval dev ${data.retrieval_dev.queries.length} queries in ${data.retrieval_dev.corpus.length}` : ""));
}

/**
 * train/retrieval-dev as {queries: [{q, rel}], corpus}: the corpus is the distractors (IMDb train review
 * sentences, SST-2 train sentences, Gutenberg book sentences: 400 each, 8–40 words, seeded), the hard
 * negatives and the relevant sentences; `rel` indexes a query's relevant sentence. Null when the folder is absent.
 */
function retrievalDev(enc: (t: string) => number[]): { queries: { q: number[]; rel: number }[]; corpus: number[][] } | null {
  const dir = "train/retrieval-dev";
  let lines: string[];
  try {
    lines = readFileSync(join(dir, "queries.jsonl"), "utf8").split("\n").filter((l) => l.trim());
  } catch {
    return null;
  }
  const queries = lines.map((l) => JSON.parse(l) as { query: string; relevant: string });
  const hard = readFileSync(join(dir, "hard-negatives.jsonl"), "utf8").split("\n").filter((l) => l.trim()).map((l) => (JSON.parse(l) as { text: string }).text);
  const words = (s: string) => s.split(/\s+/).filter((w) => w).length;
  const fits = (s: string) => words(s) >= 8 && words(s) <= 40;
  const imdb = readTsv(join(shared, "data/reviews/imdb/train.tsv.gz"), false).slice(0, 3000).flatMap((r) => sentencesOf(cleanReview(r.text))).filter(fits);
  const sst2 = readTsv(join(shared, "data/glue/SST-2/train.tsv"), true).map((r) => r.text).filter(fits);
  const books = sentencesOf(readFileSync(join(shared, "data/corpus/gutenberg/gutenberg_en_00.txt"), "utf8").slice(0, 2_000_000)).map((s) => s.replace(/\s+/g, " ").trim()).filter(fits);
  const relevant = new Set(queries.map((q) => q.relevant));
  const distractors = [...new Set([...shuffled(imdb, 21).slice(0, 400), ...shuffled(sst2, 22).slice(0, 400), ...shuffled(books, 23).slice(0, 400), ...hard])].filter((s) => !relevant.has(s));
  const corpus = [...distractors, ...queries.map((q) => q.relevant)];
  const textOut = values["retrieval-dev-out"];
  if (textOut) {
    // the same set as text, in the layout `ufb eval --retrieval <dir>` reads: any package measured on it in the engine
    mkdirSync(textOut, { recursive: true });
    writeFileSync(join(textOut, "queries.jsonl"), lines.join("\n") + "\n");
    writeFileSync(join(textOut, "distractors.txt"), distractors.join("\n") + "\n");
  }
  return { queries: queries.map((q, i) => ({ q: enc(q.query), rel: distractors.length + i })), corpus: corpus.map(enc) };
}

/**
 * distill.u16.xz: unlabelled review sentences for distillation (pipeline.py --label / --distill): sentences of the
 * pretraining documents (split at sentence ends, 4–60 words, one copy each, none equal to an SST-2 dev sentence),
 * seeded sample of --sentences, each tokenized as the classifier reads it (<cls> … <sep>, 128 tokens at most),
 * concatenated; a sentence starts at each <cls>.
 */
function buildDistill(): void {
  const out = values.out!;
  mkdirSync(out, { recursive: true });
  const tok = TextTokenizer.fromJsonText(readFileSync(values.tokenizer!, "utf8"), 128);
  const dev = new Set(readTsv(join(shared, "data/glue/SST-2/dev.tsv"), true).map((r) => r.text.toLowerCase()));
  const words = (x: string) => x.split(/\s+/).filter((w) => w).length;
  const { train } = pretrainDocuments(Number(values["heldout-reviews"]));
  const all = [...new Set(train.flatMap(sentencesOf).map((x) => x.trim()))]
    .filter((x) => words(x) >= 4 && words(x) <= 60 && !dev.has(x.toLowerCase()));
  const chosen = shuffled(all, 13).slice(0, Number(values.sentences));
  const ids: number[] = [];
  for (const sentence of chosen) for (const id of tok.encode(sentence).ids) ids.push(id);
  writeU16Xz(join(out, "distill.u16.xz"), ids);
  console.log(`distill: ${chosen.length} sentences (of ${all.length}), ${ids.length} tokens`);
}

/**
 * Lexical paraphrase pairs from WordNet 3.0 (the database files of Debian's wordnet-base), the word-for-word
 * knowledge a retrieval query needs ("kids" → "children"): (1) a synset's words ↔ its definition
 * ("child, kid, youngster" ↔ "a young person of either sex"); (2) a sentence ↔ the same sentence with one or two
 * words replaced by another word of their most frequent sense (base forms only, so no inflection is broken).
 */
function wordnetPairs(dir: string, sentences: string[], rand: () => number): { a: string; b: string }[] {
  const synsets = new Map<string, { words: string[]; gloss: string }>();
  const tagged = new Map<string, number>();
  const nounSense = new Map<string, string>();
  // frequent words are mostly function words or ambiguous across parts of speech ("good", "have"): never swapped
  const counts = new Map<string, number>();
  for (const sentence of sentences) for (const t of sentence.split(" ")) counts.set(t, (counts.get(t) ?? 0) + 1);
  const frequent = new Set([...counts.entries()].sort((x, y) => y[1] - x[1]).slice(0, 600).map(([t]) => t));
  for (const pos of ["noun", "verb", "adj"]) {
    for (const line of readFileSync(join(dir, `data.${pos}`), "utf8").split("\n")) {
      if (!/^\d{8} /.test(line)) continue;
      const [head, gloss = ""] = line.split(" | ");
      const f = head.split(" ");
      const n = parseInt(f[3], 16);
      const words = Array.from({ length: n }, (_, i) => f[4 + 2 * i].replace(/\(.*\)$/, "").replace(/_/g, " ").toLowerCase());
      synsets.set(`${pos}:${f[0]}`, { words: [...new Set(words)], gloss: gloss.split(";")[0].trim() });
    }
    for (const line of readFileSync(join(dir, `index.${pos}`), "utf8").split("\n")) {
      if (!line || line.startsWith(" ")) continue;
      const f = line.trim().split(" ");
      const senses = Number(f[2]);
      // tagsense_cnt: how often the word was seen in this part of speech in the sense-tagged corpus
      tagged.set(`${pos}:${f[0]}`, Number(f[f.length - senses - 1]));
      if (pos === "noun") nounSense.set(f[0], `${pos}:${f[f.length - senses]}`);
    }
  }
  // swaps use words that are mostly nouns, by their first sense (film → movie, kid → child): a word read more
  // often as a verb or adjective ("chase", "good") is left alone
  const firstSense = new Map<string, string>();
  for (const [lemma, sense] of nounSense) {
    const noun = tagged.get(`noun:${lemma}`) ?? 0;
    // "-ing"/"-ed" nouns ("passing", "coming") are mostly verb forms in running text
    if (!/^[a-z]{3,}$/.test(lemma) || /(ing|ed)$/.test(lemma) || frequent.has(lemma) || noun === 0) continue;
    if (noun > (tagged.get(`verb:${lemma}`) ?? 0) && noun > (tagged.get(`adj:${lemma}`) ?? 0)) firstSense.set(lemma, sense);
  }
  const out: { a: string; b: string }[] = [];
  for (const { words, gloss } of synsets.values()) {
    if (words.length >= 2 && gloss.split(" ").length >= 3 && gloss.length <= 200) out.push({ a: words.join(", "), b: gloss });
  }
  const glossPairs = out.length;
  for (const sentence of sentences) {
    const tokens = sentence.split(" ");
    const candidates = tokens.flatMap((t, i) => {
      const s = firstSense.get(t);
      const alternatives = s ? synsets.get(s)!.words.filter((w) => w !== t && /^[a-z]+$/.test(w)) : [];
      return alternatives.length ? [{ i, alternatives }] : [];
    });
    if (candidates.length === 0) continue;
    const swapped = tokens.slice();
    for (let k = 0; k < Math.min(2, candidates.length); k++) {
      const c = candidates[Math.floor(rand() * candidates.length)];
      swapped[c.i] = c.alternatives[Math.floor(rand() * c.alternatives.length)];
    }
    out.push({ a: sentence, b: swapped.join(" ") });
    if (out.length - glossPairs === 60_000) break;
  }
  console.log(`wordnet: ${glossPairs} synset-definition pairs, ${out.length - glossPairs} word-swap pairs, e.g.\n${out.slice(glossPairs, glossPairs + 6).map((p) => `  ${p.a}\n  ↔ ${p.b}`).join("\n")}`);
  return out;
}

const step = positionals[0];
if (step === "vocab") buildVocab();
else if (step === "classify") buildClassification();
else if (step === "embed") buildEmbed();
else if (step === "distill") buildDistill();
else if (step === "pretrain") buildPretrain();
else {
  console.error("usage: node train/prepare_reviews.ts vocab|pretrain|classify|embed|distill [options]");
  process.exit(2);
}
