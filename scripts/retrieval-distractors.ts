/**
 * `node scripts/retrieval-distractors.ts`: writes test/data/retrieval/distractors.txt, the distractor
 * sentences of the retrieval check of `ufb eval` (see test/data/retrieval/README.md). Deterministic: the same
 * sources give the same file, so the committed file can be rebuilt and checked.
 *
 * Sources: all sentences of test/data/fill-mask-reviews.txt, a seeded choice of SST-2 dev sentences
 * (test/data/sst2-dev.tsv) and of Wikipedia sentences (wikitext-2-raw wiki.test.raw in ../shared/data, split at
 * sentence ends), plus the hand-written hard negatives of test/data/retrieval/hard-negatives.jsonl.
 * With --check it writes nothing and exits 1 when the committed file differs from what it would write.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mulberry32 } from "../src/cli/random.ts";
import { REPO } from "./lib/config.ts";

const SEED = 20261214;
const SST2 = 300;
const WIKI = 400;
const MIN_WORDS = 8;
const MAX_WORDS = 40;

const OUT = join(REPO, "test/data/retrieval");
const WIKI_FILE = ["shared/data", "../shared/data"].map((d) => join(REPO, d, "corpus/wikitext-2-raw/wiki.test.raw")).find((p) => existsSync(p));
if (!WIKI_FILE) throw new Error("wikitext-2-raw/wiki.test.raw not found under shared/data or ../shared/data");


function shuffle<T>(items: T[], rand: () => number): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const words = (s: string) => s.split(/\s+/).filter((w) => w !== "").length;
const fits = (s: string) => words(s) >= MIN_WORDS && words(s) <= MAX_WORDS;

/** wikitext-2's tokenisation undone far enough to read as ordinary text (" @-@ " → "-", " , " → ", " …). */
function detokenize(s: string): string {
  return s
    .replace(/ @([-.,])@ /g, "$1")
    .replace(/ ([.,;:!?)'])/g, "$1")
    .replace(/\( /g, "(")
    .replace(/ n't/g, "n't")
    .replace(/" ([^"]*?) "/g, '"$1"')
    .trim();
}

function wikiSentences(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (t === "" || t.startsWith("=")) continue; // headings
    // wikitext keeps " . " between sentences; a capital (or quote) after it starts the next one
    for (const s of detokenize(t).split(/(?<=[.!?])\s+(?=["A-Z])/)) if (fits(s) && !s.includes("<unk>")) out.push(s);
  }
  return out;
}

const rand = mulberry32(SEED);
const reviews = readFileSync(join(REPO, "test/data/fill-mask-reviews.txt"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "");
const sst2 = readFileSync(join(REPO, "test/data/sst2-dev.tsv"), "utf8").split("\n").slice(1).map((l) => l.split("\t")[0].trim()).filter(fits);
const wiki = wikiSentences(readFileSync(WIKI_FILE, "utf8"));
const hard = readFileSync(join(OUT, "hard-negatives.jsonl"), "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => (JSON.parse(l) as { text: string }).text);
const relevant = new Set(
  readFileSync(join(OUT, "queries.jsonl"), "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => (JSON.parse(l) as { relevant: string }).relevant),
);

const chosen = [...reviews, ...shuffle(sst2, rand).slice(0, SST2), ...shuffle(wiki, rand).slice(0, WIKI), ...hard];
// one copy of each sentence, none equal to a relevant sentence; shuffled so no source sits in one block
const distractors = shuffle([...new Set(chosen)].filter((s) => !relevant.has(s)), rand);
const text = distractors.join("\n") + "\n";
if (process.argv.includes("--check")) {
  const same = readFileSync(join(OUT, "distractors.txt"), "utf8") === text;
  console.log(`distractors.txt: ${same ? "as the sources give it" : "DIFFERS from what the sources give; run node scripts/retrieval-distractors.ts"}`);
  process.exit(same ? 0 : 1);
}
writeFileSync(join(OUT, "distractors.txt"), text);
console.log(`distractors.txt: ${distractors.length} sentences (${reviews.length} reviews, ${SST2} SST-2 dev, ${WIKI} wikitext, ${hard.length} hard negatives; ${chosen.length - distractors.length} duplicates dropped)`);
