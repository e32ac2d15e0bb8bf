/**
 * `npm run bench:cold [-- options]`: the Worker's cold path on the big synthetic package, in Node.
 *
 * Runs the Worker's own service code (ModelRegistry + WorkerInferenceService from src/service, options from
 * serviceOptions() as in the Worker) against an R2 stand-in (bench/cold-bucket.ts) that serves package folders
 * with 20 ms per operation and at most 6 operations in flight. Plain imports: the registry takes the compiled
 * kernels as an option (the Worker passes its imported module; here bench/wasm.node.ts compiles the file).
 *
 * The package, generated once and cached under packages/ (git-ignored):
 *   npx ufb synth packages/ufb-1x11-long --preset ultrafastbert-1x11-long --rows-per-block 16
 * Variants for the trade-off sweep: packages/ufb-1x11-long-td<d>-rpb<r>.
 *
 * Sections (all by default; name some to run only those):
 *   tiny     the packages in weights/ (the default, wrangler.toml MODEL, first): cold classify, R2 operations (target ≤ 50)
 *   main     1x11-long, Worker defaults: 1 word, 8, 32, 128 tokens (special tokens included); cold (fresh registry, 3 times) and warm
 *            (same text again; new texts after a warm-up): latency, R2 operations, bytes by segment, touched
 *            bytes (FFF records on the tokens' paths + their embedding rows) and the ratio fetched/touched
 *   prefetch 1x11-long: tier-0 (and tier-0+1) tiles of every layer read before the first request
 *   sweep    tile depth 2,3,4,6 × coalescing gap (maxGap) 0, 4 KiB, 32 KiB, 128 KiB at 8, 32, 128 tokens, cold
 *   rows     rows per embedding block 4, 16, 64, 256 (td 4): embedding bytes, manifest size, cold latency
 *   bandwidth the 32-token cold request when each read also costs bytes / (50 or 200 MB/s)
 *   memory   1x11-long under a mixed embed/fill-mask load: JS heap + kernel (wasm) memory
 *
 * Options: --quick (1 cold run, fewer warm texts, smaller sweep), --no-write.
 * Results: tables on stdout; entries in bench/results/latest.json (suite "cold", merged).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BucketOp, StandInBucket, type StandInOptions } from "./cold-bucket.ts";
import { type Entry, entry, loadAverage, median, table, writeResults } from "./http-results.ts";
import { TextTokenizer } from "../src/model/tokenizer.ts";
import { WorkerInferenceService } from "../src/service/inference.ts";
import { serviceOptions } from "../src/service/options.ts";
import { type LoadedModel, ModelRegistry, type RegistryOptions } from "../src/service/registry.ts";
import { parseManifest } from "../src/weights/format/manifest.ts";
import { kernelModule } from "./wasm.node.ts";

/** Every WebAssembly.Memory created from here on (the kernels'), to sum their sizes while loading and serving. */
const memories: WeakRef<WebAssembly.Memory>[] = [];
{
  const Native = WebAssembly.Memory;
  const Tracked = function (this: unknown, descriptor: WebAssembly.MemoryDescriptor) {
    const m = new Native(descriptor);
    memories.push(new WeakRef(m));
    return m;
  } as unknown as typeof WebAssembly.Memory;
  Tracked.prototype = Native.prototype;
  (WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = Tracked;
}
/** Bytes of the wasm memories created since memories[from] (one scenario's kernel; older ones may await GC). */
const wasmBytes = (from = 0) => memories.slice(from).reduce((n, r) => n + (r.deref()?.buffer.byteLength ?? 0), 0);

type Tokenizer = TextTokenizer;

const REPO = fileURLToPath(new URL("..", import.meta.url));
const SUITE = "cold";
const say = (line: string) => console.log(`[bench:cold] ${line}`);
const argv = process.argv.slice(2);
const QUICK = argv.includes("--quick");
const WRITE = !argv.includes("--no-write");
const SECTIONS = ["tiny", "main", "prefetch", "sweep", "rows", "bandwidth", "memory"];
const wanted = argv.filter((a) => !a.startsWith("--"));
for (const w of wanted) if (!SECTIONS.includes(w)) throw new Error(`unknown section ${w}; sections: ${SECTIONS.join(", ")}`);
for (const f of argv.filter((a) => a.startsWith("--"))) if (!["--quick", "--no-write"].includes(f)) throw new Error(`unknown option ${f}`);
const run = (s: string) => wanted.length === 0 || wanted.includes(s);
const RUN_ID = process.env.BENCH_RUN_ID || new Date().toISOString();
const entries: Entry[] = [];
const record = (name: string, unit: string, perRun: number[]) => entries.push(entry(SUITE, RUN_ID, name, unit, perRun));

// ---------- packages ----------

const BIG = "ufb-1x11-long";
function bigPackage(tileDepth = 4, rowsPerBlock = 16): string {
  const dir = join(REPO, "packages", tileDepth === 4 && rowsPerBlock === 16 ? BIG : `${BIG}-td${tileDepth}-rpb${rowsPerBlock}`);
  if (!existsSync(join(dir, "manifest.json"))) {
    const args = ["synth", dir, "--preset", "ultrafastbert-1x11-long", "--rows-per-block", String(rowsPerBlock), "--tile-depth", String(tileDepth), "--force"];
    say(`generating (once; cached under packages/): ufb ${args.join(" ").replace(REPO, "")}`);
    const r = spawnSync(process.execPath, [join(REPO, "bin/ufb.mjs"), ...args], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, SOURCE_DATE_EPOCH: "1764400000" } });
    if (r.status !== 0) throw new Error(`ufb synth failed (exit ${r.status})`);
  }
  return dir;
}

function defaultModel(): { name: string; dir: string } {
  const toml = readFileSync(join(REPO, "wrangler.toml"), "utf8");
  const m = /^\s*MODEL\s*=\s*"([^"@]+)/m.exec(toml);
  if (!m) throw new Error("wrangler.toml: no MODEL in [vars]");
  return { name: m[1], dir: join(REPO, "weights", m[1]) };
}

// ---------- texts ----------

/** Common English words; texts are drawn from them with a seeded PRNG (Zipf-like: earlier words more often). */
const COMMON = (
  "the of and to a in is it you that he was for on are with as i his they be at one have this from or had by " +
  "word but what some we can out other were all there when up use your how said an each she which do their time " +
  "if will way about many then them write would like so these her long make thing see him two has look more day " +
  "could go come did number sound no most people my over know water than call first who may down side been now " +
  "find any new work part take get place made live where after back little only round man year came show every " +
  "good me give our under name very through just form sentence great think say help low line differ turn cause " +
  "much mean before move right boy old too same tell does set three want air well also play small end put home " +
  "read hand port large spell add even land here must big high such follow act why ask men change went light kind " +
  "off need house picture try us again animal point mother world near build self earth father head stand own page " +
  "should country found answer school grow study still learn plant cover food sun four between state keep eye never " +
  "last let thought city tree cross farm hard start might story saw far sea draw left late run while press close night " +
  "real life few north open seem together next white children begin got walk example ease paper group always music " +
  "film movie actor scene plot funny boring beautiful moving slow"
).split(" ");

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

class Texts {
  private readonly words: string[];
  private readonly tok: Tokenizer;
  /** Special tokens the template adds to one text (crammedBERT: [SEP] only; BERT: [CLS] and [SEP]). */
  readonly specials: number;
  constructor(tok: Tokenizer) {
    this.tok = tok;
    this.specials = tok.encode("").ids.length;
    this.words = COMMON.filter((w) => tok.encode(w).ids.length === 1 + this.specials);
    if (this.words.length < 50) throw new Error(`only ${this.words.length} of the common words are single tokens in this tokenizer`);
  }
  /** A text of exactly `tokens` tokens, special tokens included (at least one word). */
  make(tokens: number, seed: number): { text: string; ids: number[] } {
    const r = rng(seed);
    const words = Array.from({ length: Math.max(1, tokens - this.specials) }, () => this.words[Math.floor(this.words.length * r() ** 2)]);
    const text = words.join(" ");
    const ids = this.tok.encode(text).ids;
    if (ids.length !== words.length + this.specials) throw new Error(`text of ${words.length} words has ${ids.length} tokens`);
    return { text, ids };
  }
  maskText(tokens: number, seed: number, mask: string): string {
    const w = this.make(tokens, seed).text.split(" ");
    w[Math.floor(w.length / 2)] = mask;
    return w.join(" ");
  }
}

/** Tokens per request; 1 = one word (plus the template's special tokens). */
const LENGTHS = [1, 8, 32, 128] as const;
const label = (n: number) => (n === 1 ? "1 word" : `${n} tokens`);

// ---------- one measured request ----------

interface Variant {
  /** Package folder and the model name used in the bucket. */
  dir: string;
  name: string;
  kind: "mlm" | "classifier" | "embedding";
  stand?: StandInOptions;
  registry?: Partial<RegistryOptions>;
  /** Tiers of every layer's trees read before the first request (0 = none). */
  prefetchTiers?: number;
}

interface Sample {
  ms: number;
  /** Part of ms spent in registry.model(): the model load (manifest, tokenizer, dense) when cold, ~0 when warm. */
  loadMs: number;
  /** Bucket operations of the load. */
  loadOps: number;
  /** All bucket operations (get, head, list) the request caused. */
  ops: number;
  /** Ranged reads of weights.bin (usage.r2_reads). */
  weightReads: number;
  bytes: { total: number; dense: number; embeddings: number; fff: number; other: number };
  touched: { embeddings: number; fff: number };
  peakInFlight: number;
}

interface Segs {
  dense: [number, number];
  embeddings: [number, number];
  fff: [number, number];
}

function segments(dir: string): Segs {
  const m = parseManifest(new Uint8Array(readFileSync(join(dir, "manifest.json"))));
  const seg = (k: string) => m.segments.filter((s) => s.kind === k);
  const span = (list: { offset: number; length: number }[]): [number, number] => [Math.min(...list.map((s) => s.offset)), Math.max(...list.map((s) => s.offset + s.length))];
  return { dense: span(seg("dense") as never), embeddings: span(seg("embeddings") as never), fff: span(seg("fff") as never) };
}

function byteSplit(ops: BucketOp[], segs: Segs): Sample["bytes"] {
  const b = { total: 0, dense: 0, embeddings: 0, fff: 0, other: 0 };
  const inside = (o: number, [a, z]: [number, number]) => o >= a && o < z;
  for (const op of ops) {
    b.total += op.length;
    if (!op.key.endsWith("/weights.bin") || op.offset === undefined) b.other += op.length;
    else if (inside(op.offset, segs.dense)) b.dense += op.length;
    else if (inside(op.offset, segs.embeddings)) b.embeddings += op.length;
    else if (inside(op.offset, segs.fff)) b.fff += op.length;
    else b.other += op.length;
  }
  return b;
}

class Bench {
  readonly v: Variant;
  readonly bucket: StandInBucket;
  readonly segs: Segs;
  readonly tok: Tokenizer;
  readonly texts: Texts;
  registry!: ModelRegistry;
  service!: WorkerInferenceService;

  private constructor(v: Variant, bucket: StandInBucket, tok: Tokenizer) {
    this.v = v;
    this.bucket = bucket;
    this.segs = segments(v.dir);
    this.tok = tok;
    this.texts = new Texts(tok);
  }

  static async create(v: Variant): Promise<Bench> {
    const bucket = new StandInBucket(v.stand);
    await bucket.addPackage(v.name, "v1", v.dir);
    const m = parseManifest(new Uint8Array(readFileSync(join(v.dir, "manifest.json"))));
    const tok = TextTokenizer.fromJsonText(readFileSync(join(v.dir, "tokenizer.json"), "utf8"), m.config.maxSeqLength);
    return new Bench(v, bucket, tok);
  }

  /** A new isolate: new registry, kernel memory and caches (the bucket stays). */
  fresh(): void {
    // CACHE_API off: the R2 path of a cold isolate in a data center that has not served the model yet (or on
    // *.workers.dev); with the Cache API (docs/streaming.md) a later cold isolate finds the dense segment there.
    const base = serviceOptions({ WEIGHTS: this.bucket, MODEL: this.v.name, CACHE_API: "off" });
    this.registry = new ModelRegistry({ ...base, kernelModule: kernelModule(), ...this.v.registry });
    this.service = new WorkerInferenceService(this.registry);
  }

  async request(text: string): Promise<{ reads: number }> {
    // a package without a classification head is asked what it can do, by name (embed requests default to EMBED_MODEL)
    const r = this.v.kind !== "classifier" ? await this.service.embed([text], { model: this.v.name }) : await this.service.classify([text], {});
    return { reads: r.usage.r2Reads };
  }

  /** One request (cold after fresh()), with its bucket operations, bytes and the bytes its paths touched. */
  async measure(text: string, ids: number[], prefetch = false): Promise<Sample> {
    this.bucket.resetLog();
    const t0 = performance.now();
    const model = await this.registry.model(); // what the request's first step does; timed apart (model load when cold)
    const loadMs = performance.now() - t0;
    const loadOps = this.bucket.ops.length;
    if (prefetch && this.v.prefetchTiers) await prefetchTiers(model, this.v.prefetchTiers);
    const { reads } = await this.request(text);
    const ms = performance.now() - t0;
    const ops = this.bucket.ops.slice();
    const peakInFlight = this.bucket.peakInFlight;
    const touched = await this.touched(ids);
    return { ms, loadMs, loadOps, ops: ops.length, weightReads: reads, bytes: byteSplit(ops, this.segs), touched, peakInFlight };
  }

  /** Bytes of the FFF records on the tokens' paths (union per layer and tree) and of their embedding rows. */
  async touched(ids: number[]): Promise<Sample["touched"]> {
    const model: LoadedModel = await this.registry.model();
    const paths = await model.engine.run({ sequences: [{ ids }], paths: true });
    const g = model.pkg.fff;
    let records = 0;
    for (const layer of paths.paths!) {
      for (let t = 0; t < g.trees; t++) {
        const nodes = new Set<number>();
        for (const pos of layer[0]) for (const n of pos[t]) nodes.add(n);
        records += nodes.size;
      }
    }
    return { fff: records * g.recordBytes, embeddings: new Set(ids).size * model.pkg.embeddings.rowBytes };
  }
}

/**
 * Reads the tiles of the first `tiers` tiers of every tree of every layer (one ensure per layer, all layers
 * at once). Called between requests, never during one: it uses the store outside the engine's run queue.
 */
async function prefetchTiers(model: LoadedModel, tiers: number): Promise<void> {
  const fff = model.engine.weights.fff as unknown as { ensure(l: number, t: number, nodes: Iterable<number>): Promise<void>; release(l: number): void };
  const g = model.pkg.fff;
  const roots: number[] = [];
  for (const tier of g.tiers.slice(0, tiers)) for (let i = 0; i < tier.tiles; i++) roots.push(2 ** tier.firstLevel - 1 + i);
  await Promise.all(
    Array.from({ length: model.pkg.config.numLayers }, async (_, l) => {
      for (let t = 0; t < g.trees; t++) await fff.ensure(l, t, roots);
      fff.release(l);
    }),
  );
}

const fmtMs = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const MB = (x: number) => (x / 1e6).toFixed(2);
const ratio = (s: Sample) => (s.bytes.embeddings + s.bytes.fff) / (s.touched.embeddings + s.touched.fff);

function row(cells: (string | number)[]): string {
  return `| ${cells.join(" | ")} |`;
}

// ---------- sections ----------

async function coldSamples(b: Bench, n: number, seed: number, repeats: number, prefetch = false): Promise<Sample[]> {
  const { text, ids } = b.texts.make(n, seed);
  const out: Sample[] = [];
  for (let i = 0; i < repeats; i++) {
    b.fresh();
    out.push(await b.measure(text, ids, prefetch));
  }
  return out;
}

async function sectionTiny(): Promise<void> {
  const def = defaultModel();
  const dirs = [def.name, ...readdirSync(join(REPO, "weights")).filter((d) => d !== def.name && existsSync(join(REPO, "weights", d, "manifest.json")))];
  console.log(`\n## small packages in weights/ (default: ${def.name}): cold request, R2 stand-in 20 ms/op, 6 in flight, Worker defaults\n`);
  console.log(row(["package", "tokens", "cold ms (median)", "R2 operations", "of which weights.bin reads", "bytes fetched"]));
  console.log(row(["---", "---:", "---:", "---:", "---:", "---:"]));
  const variants: { name: string; whole?: number }[] = [];
  for (const name of dirs) {
    variants.push({ name });
    const m = parseManifest(new Uint8Array(readFileSync(join(REPO, "weights", name, "manifest.json"))));
    const layer = Math.max(...m.segments.filter((x) => x.kind === "fff").map((x) => x.length));
    // a layer above the whole-layer threshold is read tile by tile, tree by tree: also try reading it whole
    if (layer > 256 * 1024 && layer <= 4 * 2 ** 20) variants.push({ name, whole: 2 ** Math.ceil(Math.log2(layer)) });
  }
  for (const { name, whole } of variants) {
    const dir = join(REPO, "weights", name);
    const kind = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")).config.kind;
    const b = await Bench.create({ dir, name, kind, registry: whole ? { wholeLayerBytes: whole } : undefined });
    const what = `${name}${name === def.name ? " (default)" : ""}${whole ? `, wholeLayerBytes ${whole / 2 ** 20} MiB` : ""}`;
    for (const n of [20, 128]) {
      const s = await coldSamples(b, n, 7, QUICK ? 1 : 3);
      console.log(row([what, n, fmtMs(median(s.map((x) => x.ms))), s[0].ops, s[0].weightReads, MB(s[0].bytes.total) + " MB"]));
      const p = `${name}${whole ? `.whole${whole}` : ""}.cold.t${n}`;
      record(`${p}.latency`, "ms", s.map((x) => x.ms));
      record(`${p}.r2_operations`, "count", s.map((x) => x.ops));
      record(`${p}.bytes`, "bytes", s.map((x) => x.bytes.total));
    }
  }
}

async function sectionMain(): Promise<void> {
  const b = await Bench.create({ dir: bigPackage(), name: BIG, kind: "mlm" });
  const repeats = QUICK ? 1 : 3;
  console.log(`\n## ${BIG} (td 4, 16 rows/block), Worker defaults (maxGap 4 KiB, cache 48 MiB), R2 stand-in 20 ms/op, 6 in flight\n`);
  console.log(row(["tokens", "cold ms (model load + request)", "R2 ops", "weights reads", "fetched MB (dense / emb / fff / other)", "touched MB (emb + fff)", "fetched/touched (emb+fff)", "warm same text: ms, ops", "warm new text: ms, ops, MB"]));
  console.log(row(["---", "---:", "---:", "---:", "---", "---:", "---:", "---", "---"]));
  for (const n of LENGTHS) {
    const cold = await coldSamples(b, n, 100 + n, repeats);
    const c = cold[0];
    // warm, same text: the isolate of the last cold sample
    const { text, ids } = b.texts.make(n, 100 + n);
    const same = await b.measure(text, ids);
    // warm, new texts after a warm-up of mixed requests
    for (let i = 0; i < (QUICK ? 5 : 20); i++) await b.request(b.texts.make([8, 16, 32, 64][i % 4], 5000 + i).text);
    const fresh: Sample[] = [];
    for (let i = 0; i < (QUICK ? 3 : 7); i++) {
      const t = b.texts.make(n, 9000 + 31 * n + i);
      fresh.push(await b.measure(t.text, t.ids));
    }
    const medOps = median(fresh.map((x) => x.ops));
    console.log(
      row([
        label(n),
        `${fmtMs(median(cold.map((x) => x.ms)))} (${fmtMs(median(cold.map((x) => x.loadMs)))} + ${fmtMs(median(cold.map((x) => x.ms - x.loadMs)))})`,
        `${c.ops} (${c.loadOps} + ${c.ops - c.loadOps})`,
        c.weightReads,
        `${MB(c.bytes.total)} (${MB(c.bytes.dense)} / ${MB(c.bytes.embeddings)} / ${MB(c.bytes.fff)} / ${MB(c.bytes.other)})`,
        MB(c.touched.embeddings + c.touched.fff),
        ratio(c).toFixed(2),
        `${fmtMs(same.ms)}, ${same.ops}`,
        `${fmtMs(median(fresh.map((x) => x.ms)))}, ${medOps}, ${MB(median(fresh.map((x) => x.bytes.total)))}`,
      ]),
    );
    const p = `${BIG}.t${n}`;
    record(`${p}.cold.latency`, "ms", cold.map((x) => x.ms));
    record(`${p}.cold.model_load`, "ms", cold.map((x) => x.loadMs));
    record(`${p}.cold.r2_operations`, "count", cold.map((x) => x.ops));
    record(`${p}.cold.bytes_fetched`, "bytes", cold.map((x) => x.bytes.total));
    record(`${p}.cold.bytes_emb_fff`, "bytes", cold.map((x) => x.bytes.embeddings + x.bytes.fff));
    record(`${p}.cold.bytes_touched`, "bytes", cold.map((x) => x.touched.embeddings + x.touched.fff));
    record(`${p}.cold.fetched_over_touched`, "x", cold.map(ratio));
    record(`${p}.warm_same.latency`, "ms", [same.ms]);
    record(`${p}.warm_same.r2_operations`, "count", [same.ops]);
    record(`${p}.warm_new.latency`, "ms", fresh.map((x) => x.ms));
    record(`${p}.warm_new.r2_operations`, "count", fresh.map((x) => x.ops));
    record(`${p}.warm_new.bytes_fetched`, "bytes", fresh.map((x) => x.bytes.total));
  }
}

async function sectionPrefetch(): Promise<void> {
  console.log(`\n## ${BIG}: prefetching the top tiers of every layer before the first request (td 4, maxGap 4 KiB)\n`);
  console.log(row(["prefetch", "tokens", "cold ms", "R2 ops", "fetched MB (emb+fff)", "fetched/touched", "warm new text: ms, ops"]));
  console.log(row(["---", "---:", "---:", "---:", "---:", "---:", "---"]));
  for (const tiers of [0, 1, 2]) {
    const b = await Bench.create({ dir: bigPackage(), name: BIG, kind: "mlm", prefetchTiers: tiers });
    for (const n of QUICK ? [8, 32] : LENGTHS) {
      const cold = await coldSamples(b, n, 100 + n, QUICK ? 1 : 3, true);
      const c = cold[0];
      for (let i = 0; i < 10; i++) await b.request(b.texts.make([8, 16, 32, 64][i % 4], 5000 + i).text);
      const warm: Sample[] = [];
      for (let i = 0; i < 5; i++) {
        const t = b.texts.make(n, 9000 + 31 * n + i);
        warm.push(await b.measure(t.text, t.ids));
      }
      const what = tiers === 0 ? "none" : tiers === 1 ? "tier 0 (15 records/layer)" : "tiers 0-1 (255 records/layer)";
      console.log(row([what, label(n), fmtMs(median(cold.map((x) => x.ms))), c.ops, MB(c.bytes.embeddings + c.bytes.fff), ratio(c).toFixed(2), `${fmtMs(median(warm.map((x) => x.ms)))}, ${median(warm.map((x) => x.ops))}`]));
      const p = `${BIG}.prefetch${tiers}.t${n}`;
      record(`${p}.cold.latency`, "ms", cold.map((x) => x.ms));
      record(`${p}.cold.r2_operations`, "count", cold.map((x) => x.ops));
      record(`${p}.cold.fetched_over_touched`, "x", cold.map(ratio));
      record(`${p}.warm_new.r2_operations`, "count", warm.map((x) => x.ops));
    }
  }
}

async function sectionSweep(): Promise<void> {
  console.log(`\n## ${BIG}: tile depth × coalescing gap, cold request (one sample each; reads and bytes are deterministic)\n`);
  console.log(row(["tile depth", "maxGap", "tokens", "cold ms", "R2 ops", "fetched MB (emb+fff)", "fetched/touched", "manifest KB"]));
  console.log(row(["---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]));
  const depths = QUICK ? [3, 4, 6] : [2, 3, 4, 6];
  const gaps = QUICK ? [0, 4096] : [0, 4096, 32768, 131072];
  for (const td of depths) {
    const dir = bigPackage(td, 16);
    const manifestKB = readFileSync(join(dir, "manifest.json")).length / 1000;
    for (const gap of gaps) {
      const b = await Bench.create({ dir, name: BIG, kind: "mlm", registry: { maxGap: gap } });
      for (const n of QUICK ? [32] : [8, 32, 128]) {
        const [c] = await coldSamples(b, n, 100 + n, 1);
        console.log(row([td, gap, n, fmtMs(c.ms), c.ops, MB(c.bytes.embeddings + c.bytes.fff), ratio(c).toFixed(2), manifestKB.toFixed(0)]));
        const p = `${BIG}.td${td}.gap${gap}.t${n}`;
        record(`${p}.cold.latency`, "ms", [c.ms]);
        record(`${p}.cold.r2_operations`, "count", [c.ops]);
        record(`${p}.cold.fetched_over_touched`, "x", [ratio(c)]);
      }
    }
  }
}

async function sectionRows(): Promise<void> {
  console.log(`\n## ${BIG}: rows per embedding block (td 4, maxGap 4 KiB), cold request\n`);
  console.log(row(["rows/block", "block KB", "manifest KB", "tokens", "cold ms", "R2 ops", "embedding MB fetched", "embedding MB touched"]));
  console.log(row(["---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]));
  for (const rpb of QUICK ? [16, 256] : [4, 16, 64, 256]) {
    const dir = bigPackage(4, rpb);
    const manifestKB = readFileSync(join(dir, "manifest.json")).length / 1000;
    const b = await Bench.create({ dir, name: BIG, kind: "mlm" });
    for (const n of QUICK ? [32] : [8, 32, 128]) {
      const cold = await coldSamples(b, n, 100 + n, 1);
      const c = cold[0];
      console.log(row([rpb, ((rpb * 768) / 1000).toFixed(1), manifestKB.toFixed(0), n, fmtMs(c.ms), c.ops, MB(c.bytes.embeddings), MB(c.touched.embeddings)]));
      record(`${BIG}.rpb${rpb}.t${n}.cold.latency`, "ms", [c.ms]);
      record(`${BIG}.rpb${rpb}.t${n}.cold.embedding_bytes`, "bytes", [c.bytes.embeddings]);
    }
  }
}

async function sectionBandwidth(): Promise<void> {
  console.log(`\n## ${BIG}: 32-token cold request when reads also cost bytes / bandwidth (per read)\n`);
  console.log(row(["per-read bandwidth", "cold ms", "R2 ops"]));
  console.log(row(["---", "---:", "---:"]));
  for (const bw of [undefined, 200, 50]) {
    const b = await Bench.create({ dir: bigPackage(), name: BIG, kind: "mlm", stand: { bandwidthMBps: bw } });
    const cold = await coldSamples(b, 32, 132, QUICK ? 1 : 3);
    console.log(row([bw ? `${bw} MB/s` : "latency only", fmtMs(median(cold.map((x) => x.ms))), cold[0].ops]));
    record(`${BIG}.t32.cold.latency.bw${bw ?? "inf"}`, "ms", cold.map((x) => x.ms));
  }
}

interface MemPoint {
  heap: number;
  wasm: number;
  arrayBuffers: number;
  rss: number;
}

/** Samples memory every few ms while `work` runs (between its awaits; a pure-CPU stretch is not sampled). */
async function sampled<T>(work: () => Promise<T>): Promise<{ result: T; points: MemPoint[] }> {
  const points: MemPoint[] = [];
  const from = memories.length;
  const take = () => {
    const m = process.memoryUsage();
    points.push({ heap: m.heapUsed, wasm: wasmBytes(from), arrayBuffers: m.arrayBuffers, rss: m.rss });
  };
  const timer = setInterval(take, 5);
  try {
    const result = await work();
    take();
    return { result, points };
  } finally {
    clearInterval(timer);
  }
}

async function sectionMemory(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const MiB = (x: number) => (x / 2 ** 20).toFixed(1);
  const requests = QUICK ? 24 : 48;
  console.log(`\n## ${BIG}: isolate memory under load (${requests} requests, 1-128 tokens; mixed = every third a fill-mask)\n`);
  console.log(row(["CACHE_MB", "load", "wasm peak", "JS heap peak", "heap + wasm, peak", "+ ArrayBuffers, peak", "live after GC: heap + wasm", "same, heap minus the process baseline", "warm new 32-token text: R2 ops"]));
  console.log(row(["---:", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]));
  gc?.();
  const baseline = process.memoryUsage().heapUsed;
  say(`JS heap of this process before any model (Node, modules, tokenizer library): ${MiB(baseline)} MiB${gc ? " after GC" : ""}`);
  for (const cacheMb of QUICK ? [48, 16] : [48, 32, 16]) {
    for (const mixed of [false, true]) {
      gc?.();
      const b = await Bench.create({ dir: bigPackage(), name: BIG, kind: "mlm", registry: { cacheBytes: cacheMb * 2 ** 20 } });
      const mask = b.tok.token(b.tok.special.mask!)!;
      const r = rng(42);
      const from = memories.length;
      const { points } = await sampled(async () => {
        b.fresh(); // the kernel memory is created by the model load inside the first request
        for (let i = 0; i < requests; i++) {
          const n = [1, 8, 16, 32, 64, 128][Math.floor(r() * 6)];
          if (mixed && i % 3 === 2) await b.service.fillMask([b.texts.maskText(Math.max(n, 4), 700 + i, mask)], {});
          else await b.service.embed([b.texts.make(n, 700 + i).text], {});
        }
      });
      const warm: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = b.texts.make(32, 9100 + i);
        warm.push((await b.measure(t.text, t.ids)).ops);
      }
      gc?.();
      const live = process.memoryUsage().heapUsed + wasmBytes(from);
      const peak = (f: (p: MemPoint) => number) => Math.max(...points.map(f));
      const what = mixed ? "embed + fill-mask" : "embed only";
      console.log(row([cacheMb, what, MiB(peak((p) => p.wasm)), MiB(peak((p) => p.heap)), MiB(peak((p) => p.heap + p.wasm)), MiB(peak((p) => p.heap + p.wasm + p.arrayBuffers)), gc ? MiB(live) : "(no --expose-gc)", gc ? MiB(live - baseline) : "", median(warm)]));
      const p = `${BIG}.memory.cache${cacheMb}.${mixed ? "mixed" : "embed"}`;
      record(`${p}.wasm_peak`, "MiB", [peak((x) => x.wasm) / 2 ** 20]);
      record(`${p}.heap_plus_wasm_peak`, "MiB", [peak((x) => x.heap + x.wasm) / 2 ** 20]);
      record(`${p}.heap_wasm_arraybuffers_peak`, "MiB", [peak((x) => x.heap + x.wasm + x.arrayBuffers) / 2 ** 20]);
      if (gc) record(`${p}.live_after_gc`, "MiB", [live / 2 ** 20]);
      if (gc) record(`${p}.live_after_gc_minus_baseline`, "MiB", [(live - baseline) / 2 ** 20]);
      record(`${p}.warm_new_t32.r2_operations`, "count", warm);
    }
  }
}

// ---------- main ----------

if (!existsSync(join(REPO, "wasm/build/kernels.wasm"))) throw new Error("wasm/build/kernels.wasm is missing: run npm run asbuild");
say(`node ${process.version}; ${loadAverage()}; sections: ${(wanted.length ? wanted : SECTIONS).join(", ")}${QUICK ? " (quick)" : ""}`);
const t0 = performance.now();
if (run("tiny")) await sectionTiny();
if (run("main")) await sectionMain();
if (run("prefetch")) await sectionPrefetch();
if (run("sweep")) await sectionSweep();
if (run("rows")) await sectionRows();
if (run("bandwidth")) await sectionBandwidth();
if (run("memory")) await sectionMemory();
console.log(`\n# bench:cold ${RUN_ID}: ${((performance.now() - t0) / 1000).toFixed(0)} s; ${loadAverage()}\n`);
if (!QUICK || wanted.length) console.log(table(entries));
if (WRITE) say(`wrote ${writeResults(entries)} entries to bench/results/latest.json`);
