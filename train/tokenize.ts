// Tokenizes a corpus with the engine's own tokenizer code (src/model/tokenizer.ts: our pre-normalization,
// then @huggingface/tokenizers), so that training sees exactly the ids the Worker will produce.
//
//   node train/tokenize.ts --tokenizer train/tokenizer/ufb-uncased-v2/tokenizer.json --in file.txt --out ids.u16
//        [--sep-id N | --sep-id none] [--batch 2000]
//
// Input: UTF-8, one text per line ("\r\n" accepted). Output: uint16 little-endian ids; for every line its
// ids without template tokens, then the separator (default: the tokenizer's <sep>). Every line, empty or
// not, ends with exactly one separator, so line k of the input is the text before the k-th separator.
// Node 24 runs this file directly (type stripping); with an older global node use `npx node`.
import { createReadStream, openSync, readFileSync, writeSync, closeSync } from "node:fs";
import { createInterface } from "node:readline";
import { TextTokenizer } from "../src/model/tokenizer.ts";

function usage(msg?: string): never {
  if (msg) console.error(`tokenize: ${msg}`);
  console.error("usage: node train/tokenize.ts --tokenizer tokenizer.json --in file.txt --out ids.u16 [--sep-id N|none] [--batch N]");
  process.exit(2);
}

const argv = process.argv.slice(2);
const opts: Record<string, string> = {};
for (let i = 0; i < argv.length; i += 2) {
  if (!argv[i].startsWith("--") || argv[i + 1] === undefined) usage(`bad argument ${argv[i]}`);
  opts[argv[i].slice(2)] = argv[i + 1];
}
for (const k of Object.keys(opts)) if (!["tokenizer", "in", "out", "sep-id", "batch"].includes(k)) usage(`unknown option --${k}`);
if (!opts.tokenizer || !opts.in || !opts.out) usage();

// max length only matters for encode(); encodeBatch does not truncate
const tok = TextTokenizer.fromJsonText(readFileSync(opts.tokenizer, "utf8"), Number.MAX_SAFE_INTEGER, { cacheLimit: 2_000_000 });
if (tok.vocabSize > 65536) usage(`vocabulary of ${tok.vocabSize} does not fit uint16`);
const sep = opts["sep-id"] === "none" ? null : opts["sep-id"] !== undefined ? Number(opts["sep-id"]) : tok.special.sep;
if (sep !== null && (sep === undefined || !Number.isInteger(sep) || sep < 0 || sep > 65535)) usage(`bad --sep-id ${opts["sep-id"]}`);
const batchSize = Number(opts.batch ?? 2000);

const fd = openSync(opts.out, "w");
let lines = 0;
let tokens = 0;
let chars = 0;
const t0 = performance.now();
let lastReport = t0;

function flush(batch: string[]): void {
  const ids = tok.encodeBatch(batch, { addSpecialTokens: false });
  let n = 0;
  for (const x of ids) n += x.length + (sep === null ? 0 : 1);
  const out = new Uint16Array(n);
  let k = 0;
  for (const x of ids) {
    out.set(x, k);
    k += x.length;
    if (sep !== null) out[k++] = sep;
  }
  // Uint16Array is little-endian on every platform Node runs on (x86, arm64)
  writeSync(fd, new Uint8Array(out.buffer));
  lines += batch.length;
  tokens += k;
  const now = performance.now();
  // plain lines, not a TTY progress bar: these runs are mostly logged to files
  if (now - lastReport > 10_000) {
    lastReport = now;
    console.error(`tokenize: ${lines} texts, ${tokens} ids, ${(lines / ((now - t0) / 1000)).toFixed(0)} texts/s`);
  }
}

const rl = createInterface({ input: createReadStream(opts.in, { encoding: "utf8" }), crlfDelay: Infinity });
let batch: string[] = [];
for await (const line of rl) {
  chars += line.length;
  batch.push(line);
  if (batch.length >= batchSize) {
    flush(batch);
    batch = [];
  }
}
if (batch.length) flush(batch);
closeSync(fd);
const s = (performance.now() - t0) / 1000;
console.error(`tokenize: ${lines} texts, ${chars} chars, ${tokens} ids (separators included) in ${s.toFixed(2)} s: `
  + `${(lines / s).toFixed(0)} texts/s, ${(chars / s / 1e6).toFixed(2)} M chars/s`);
