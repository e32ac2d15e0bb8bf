/**
 * `npm run bench:http [-- options]`: the Worker over HTTP on loopback, as a client sees it.
 *
 * Builds the kernel, seeds the default model into the local R2 bucket (as `npm run dev`), starts
 * `wrangler dev` on a free 127.0.0.1 port, sends a bounded load with fetch (keep-alive, bounded concurrency,
 * bounded count and time), stops wrangler (SIGTERM to its CLI process), and prints/writes:
 *
 *   warm   p50/p95/p99 latency of sequential requests (concurrency 1) and throughput at concurrency C,
 *          each repeated R times (entries: median, min, max over the repeats); GET /healthz latency in the same
 *          loop as the transport baseline (loopback + wrangler dev's proxy + Hono, no model work), and the
 *          Worker's own `Server-Timing: total` (ms resolution);
 *   cold   the first request after a fresh start of wrangler dev with the local bucket, K starts per text
 *          (the isolate is started by a GET /healthz first, so "cold" = model not loaded: manifest, tokenizer,
 *          dense weights and the tiles the tokens touch come from the local R2; wasm compile is not included).
 *
 * Texts: "short" ≈ 20 tokens and "long" = the model's max_seq_length (128), made by adding words until the
 * Worker's own token count (`results[0].tokens`) reaches the target, so they fit whatever model is the default.
 *
 * Options: --quick (fewer requests, 1 repeat, 2 cold starts), --no-build, --no-write, --repeats R (3),
 * --requests N (sequential requests per repeat, 300), --seconds S (time cap per phase, 15),
 * --concurrency C (8), --cold-starts K (3 per text), --model <name> (serve weights/<name>/ instead of wrangler.toml's
 * MODEL, via --var MODEL:<name>; its entries go to suite "http.<name>"). The requests are POST /v1/classify, or
 * POST /v1/embed (entries "embed.…") when the package is an embedding model, served as EMBED_MODEL
 * (--var EMBED_MODEL:<name>, the requests name no model: the path a default embed request takes).
 * Results: a markdown table on stdout; entries in bench/results/latest.json (suite "http", merged).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, readDevVars, readWorkerConfig } from "../scripts/lib/config.ts";
import { seedLocalBucket } from "../scripts/lib/local-bucket.ts";
import { readPackageDir } from "../scripts/lib/package.ts";
import { type DevServer, startDevOnFreePort } from "../scripts/lib/wrangler-dev.ts";
import { type Entry, entry, loadAverage, median, percentile, table, writeResults } from "./http-results.ts";

let SUITE = "http";
/** What the requests ask: classify, or embed for an embedding package (main() decides from the manifest). */
let TASK: "classify" | "embed" = "classify";
const route = () => (TASK === "embed" ? "/v1/embed" : "/v1/classify");
const log = (line: string) => console.log(`[bench:http] ${line}`);

interface Options {
  /** A package in weights/<model>/ instead of wrangler.toml's MODEL (served with --var MODEL:<model>). */
  model: string | undefined;
  quick: boolean;
  build: boolean;
  write: boolean;
  repeats: number;
  requests: number;
  seconds: number;
  concurrency: number;
  coldStarts: number;
}

function options(argv: string[]): Options {
  const o: Options = { model: undefined, quick: false, build: true, write: true, repeats: 3, requests: 300, seconds: 15, concurrency: 8, coldStarts: 3 };
  const num = (i: number, min: number, max: number) => {
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${argv[i]}: expected an integer in [${min}, ${max}]`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") Object.assign(o, { quick: true, repeats: 1, requests: 60, seconds: 5, coldStarts: 2 });
    else if (a === "--no-build") o.build = false;
    else if (a === "--no-write") o.write = false;
    else if (a === "--repeats") o.repeats = num(i++, 1, 10);
    else if (a === "--requests") o.requests = num(i++, 10, 5000);
    else if (a === "--seconds") o.seconds = num(i++, 1, 60);
    else if (a === "--concurrency") o.concurrency = num(i++, 1, 64);
    else if (a === "--cold-starts") o.coldStarts = num(i++, 1, 10);
    else if (a === "--model") {
      o.model = argv[++i];
      if (!o.model || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(o.model)) throw new Error("--model: expected a package name in weights/");
    }
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** Words for the generated texts (plain English; any WordPiece vocabulary splits them into a few pieces). */
const WORDS = (
  "a gripping and beautifully shot film about a family that finds its way home after years of silence " +
  "the actors give warm funny and moving performances while the story takes its time and never feels slow " +
  "some scenes drag and the music is too loud but the ending is honest and earned and i would watch it again " +
  "with friends on a rainy evening because it made me laugh think and care about people i had never met before"
).split(" ");

const textOf = (n: number) => Array.from({ length: n }, (_, i) => WORDS[i % WORDS.length]).join(" ");

interface Reply {
  ms: number;
  status: number;
  serverMs: number | undefined;
  body: string;
}

class Client {
  readonly base: string;
  private readonly headers: Record<string, string>;
  constructor(base: string, token: string | undefined) {
    this.base = base;
    this.headers = { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) };
  }
  async post(path: string, body: unknown): Promise<Reply> {
    const t0 = performance.now();
    const res = await fetch(`${this.base}${path}`, { method: "POST", headers: this.headers, body: JSON.stringify(body), signal: AbortSignal.timeout(120_000) });
    const text = await res.text();
    const ms = performance.now() - t0;
    const total = /(?:^|,)\s*total;dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "");
    return { ms, status: res.status, serverMs: total ? Number(total[1]) : undefined, body: text };
  }
  /** GET /healthz: the same HTTP path through wrangler dev and the Hono app, no model work (transport baseline). */
  async healthz(): Promise<Reply> {
    const t0 = performance.now();
    const res = await fetch(`${this.base}/healthz`);
    const body = await res.text();
    return { ms: performance.now() - t0, status: res.status, serverMs: undefined, body };
  }
  async get(path: string): Promise<unknown> {
    const res = await fetch(`${this.base}${path}`, { headers: this.headers });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }
}

/** One request of the benchmark's task (classify or embed) and what its answer says about tokens and reads. */
async function infer(client: Client, text: string): Promise<Reply & { tokens: number; reads: number; bytes: number }> {
  const r = await client.post(route(), { text });
  if (r.status !== 200) throw new Error(`POST ${route()}: ${r.status} ${r.body.slice(0, 300)}`);
  const j = JSON.parse(r.body) as { results: { tokens: number }[]; usage: { r2_reads: number; bytes_fetched: number } };
  return { ...r, tokens: j.results[0].tokens, reads: j.usage.r2_reads, bytes: j.usage.bytes_fetched };
}

/** The shortest generated text with at least `target` tokens (special tokens included). */
async function fitText(client: Client, target: number): Promise<{ text: string; tokens: number }> {
  let lo = 1;
  let hi = 1;
  while ((await infer(client, textOf(hi))).tokens < target) {
    lo = hi + 1;
    hi *= 2;
    if (hi > 4096) throw new Error(`cannot reach ${target} tokens`);
  }
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((await infer(client, textOf(mid))).tokens >= target) hi = mid;
    else lo = mid + 1;
  }
  const text = textOf(hi);
  return { text, tokens: (await infer(client, text)).tokens };
}

interface LoadRun {
  latencies: number[];
  server: number[];
  errors: number;
  /** what the first failed request got: its status and body, or the fetch error */
  firstError?: string;
  seconds: number;
}

/** `count` requests of the task (or until `seconds` pass), `concurrency` at a time; `text` null = GET /healthz. */
async function load(client: Client, text: string | null, count: number, seconds: number, concurrency: number): Promise<LoadRun> {
  const run: LoadRun = { latencies: [], server: [], errors: 0, seconds: 0 };
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let issued = 0;
  const worker = async () => {
    while (issued < count && performance.now() < deadline) {
      issued++;
      try {
        const r = text === null ? await client.healthz() : await client.post(route(), { text });
        if (r.status !== 200) {
          run.errors++;
          run.firstError ??= `HTTP ${r.status} ${r.body.slice(0, 200)}`;
        } else {
          run.latencies.push(r.ms);
          if (r.serverMs !== undefined) run.server.push(r.serverMs);
        }
      } catch (e) {
        run.errors++;
        run.firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  run.seconds = (performance.now() - t0) / 1000;
  return run;
}

let serverVars: Record<string, string> = {};

async function withServer<T>(logFile: string, work: (server: DevServer, client: Client) => Promise<T>, vars?: Record<string, string>): Promise<T> {
  const server = await startDevOnFreePort({ output: { logFile }, args: ["--log-level", "warn"], vars: { ...serverVars, ...vars } }, 180);
  try {
    return await work(server, new Client(server.url, readDevVars().vars.API_TOKEN));
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const run = process.env.BENCH_RUN_ID || new Date().toISOString();
  if (o.build) {
    log("npm run asbuild");
    const r = spawnSync("npm", ["run", "--silent", "asbuild"], { cwd: REPO, stdio: "inherit" });
    if (r.status !== 0) throw new Error("npm run asbuild failed");
  }
  const cfg = await readWorkerConfig();
  const [name, pinned] = (o.model ?? cfg.model).split("@");
  const pkg = readPackageDir(join(REPO, "weights", name));
  const kind = (JSON.parse(readFileSync(join(pkg.dir, "manifest.json"), "utf8")) as { config: { kind: string } }).config.kind;
  TASK = kind === "embedding" ? "embed" : "classify";
  const modelVars: Record<string, string> = o.model ? { [TASK === "embed" ? "EMBED_MODEL" : "MODEL"]: o.model } : {};
  const seeded = await seedLocalBucket(pkg, { name, version: pinned ?? pkg.contentVersion, log });
  log(`default model ${name}@${seeded.version} in the local bucket (${seeded.written.length ? `wrote ${seeded.written.length} objects` : "already there"}); requests: POST ${route()}`);
  // the bench is one client sending thousands of requests: the Worker's per-client rate limit (wrangler.toml) would
  // answer most of them 429, so it is off here; its own cost is one binding call, measured by nothing below
  serverVars = { RATE_LIMIT: "off", ...modelVars };
  if (o.model) SUITE = `http.${o.model}`;
  const logFile = join(mkdtempSync(join(tmpdir(), "ufb-bench-http-")), "wrangler.log");
  log(`wrangler dev output → ${logFile}; ${loadAverage()}`);

  const entries: Entry[] = [];
  const texts: { kind: "short" | "long"; text: string; tokens: number }[] = [];

  // warm: one server, texts fitted, warm-up, then R repeats of (sequential latency, throughput) per text
  await withServer(logFile, async (server, client) => {
    // a failed request means something else than the model is being measured (a 429 of the rate limiter, a server
    // that went down): stop with what failed instead of writing NaN medians as if they were measurements
    const check = async (phase: string, ...runs: LoadRun[]) => {
      const failed = runs.find((r) => r.errors > 0);
      if (!failed) return;
      const exit = await Promise.race([server.exited, new Promise<"running">((resolve) => setTimeout(() => resolve("running"), 100))]);
      throw new Error(
        `${phase}: ${runs.reduce((n, r) => n + r.errors, 0)} requests failed, the first with ${failed.firstError}; ` +
          `wrangler dev ${exit === "running" ? "still running" : `exited (${exit})`}; its output: ${logFile}`,
      );
    };
    const models = (await client.get("/v1/models")) as { models: { name: string; config: { max_seq_length: number } }[] };
    const maxLen = models.models.find((m) => m.name === name)?.config.max_seq_length ?? 128;
    for (const [kind, target] of [["short", 20], ["long", Math.min(128, maxLen)]] as const) {
      const fit = await fitText(client, target);
      texts.push({ kind, ...fit });
      log(`${kind} text: ${fit.tokens} tokens (${fit.text.split(" ").length} words)`);
    }
    for (const t of texts) await check(`warm-up, ${t.kind} text`, await load(client, t.text, o.quick ? 10 : 50, 10, 1)); // JIT, caches
    const per: Record<string, number[]> = {};
    const add = (k: string, v: number) => (per[k] ??= []).push(v);
    await load(client, null, 20, 5, 1);
    for (let r = 0; r < o.repeats; r++) {
      const base = await load(client, null, o.requests, o.seconds / 2, 1);
      await check(`repeat ${r + 1}/${o.repeats}, GET /healthz`, base);
      add("healthz.warm.p50|ms", percentile(base.latencies, 50));
      add("healthz.warm.p99|ms", percentile(base.latencies, 99));
      for (const t of texts) {
        const seq = await load(client, t.text, o.requests, o.seconds, 1);
        const thr = await load(client, t.text, o.requests * 4, o.seconds / 2, o.concurrency);
        await check(`repeat ${r + 1}/${o.repeats}, ${t.kind} text`, seq, thr);
        const p = `${TASK}.${t.kind}.warm`;
        add(`${p}.p50|ms`, percentile(seq.latencies, 50));
        add(`${p}.p95|ms`, percentile(seq.latencies, 95));
        add(`${p}.p99|ms`, percentile(seq.latencies, 99));
        add(`${p}.server_total.p50|ms`, percentile(seq.server, 50));
        add(`${p}.throughput.c${o.concurrency}|req/s`, thr.latencies.length / thr.seconds);
        add(`${p}.c${o.concurrency}.p50|ms`, percentile(thr.latencies, 50));
        add(`${p}.c${o.concurrency}.p99|ms`, percentile(thr.latencies, 99));
        add(`${p}.errors|count`, seq.errors + thr.errors);
        add(`${p}.requests|count`, seq.latencies.length);
        log(`repeat ${r + 1}/${o.repeats} ${t.kind}: p50 ${percentile(seq.latencies, 50).toFixed(2)} ms, p99 ${percentile(seq.latencies, 99).toFixed(2)} ms (${seq.latencies.length} sequential), ${(thr.latencies.length / thr.seconds).toFixed(0)} req/s at c=${o.concurrency}; ${loadAverage()}`);
      }
    }
    for (const [k, v] of Object.entries(per)) {
      const [n, unit] = k.split("|");
      entries.push(entry(SUITE, run, n, unit, v));
    }
  });

  // cold: a fresh wrangler dev per sample; GET /healthz starts the isolate, then the first request loads the model.
  // Twice: as configured (the local Cache API persists under .wrangler/state, so a restarted isolate finds the
  // dense segment and whole small layers there, as a new isolate in a data center that served the model would),
  // and with CACHE_API=off (every byte from the local R2: a data center's first isolate, or *.workers.dev).
  for (const mode of [{ suffix: "", vars: undefined, what: "Cache API as configured" }, { suffix: ".r2_only", vars: { CACHE_API: "off" }, what: "CACHE_API=off" }]) {
    for (const t of texts) {
      const ms: number[] = [];
      const server: number[] = [];
      const reads: number[] = [];
      const bytes: number[] = [];
      const second: number[] = [];
      for (let k = 0; k < o.coldStarts; k++) {
        await withServer(
          logFile,
          async (_s, client) => {
            const first = await infer(client, t.text);
            const next = await infer(client, t.text);
            ms.push(first.ms);
            server.push(first.serverMs ?? NaN);
            reads.push(first.reads);
            bytes.push(first.bytes);
            second.push(next.ms);
            log(`cold start ${k + 1}/${o.coldStarts} ${t.kind} (${mode.what}): first request ${first.ms.toFixed(1)} ms (usage: ${first.reads} R2 reads, ${(first.bytes / 1024).toFixed(0)} KiB; the model load is not in usage), second ${next.ms.toFixed(1)} ms`);
          },
          mode.vars,
        );
      }
      const p = `${TASK}.${t.kind}.cold${mode.suffix}`;
      entries.push(entry(SUITE, run, `${p}.first_request`, "ms", ms));
      entries.push(entry(SUITE, run, `${p}.first_request.server_total`, "ms", server));
      entries.push(entry(SUITE, run, `${p}.second_request`, "ms", second));
      entries.push(entry(SUITE, run, `${p}.usage_r2_reads`, "count", reads));
      entries.push(entry(SUITE, run, `${p}.usage_bytes_fetched`, "bytes", bytes));
    }
  }

  console.log(`\n# bench:http ${run}: model ${name}@${seeded.version}, texts ${texts.map((t) => `${t.kind}=${t.tokens} tokens`).join(", ")}; ${loadAverage()}\n`);
  console.log(table(entries));
  if (o.write) log(`wrote ${writeResults(entries, true)} entries to bench/results/latest.json (suite ${SUITE} replaced, others kept)`);
  const short = entries.find((e) => e.name === `${TASK}.short.warm.p50`);
  const p99 = entries.find((e) => e.name === `${TASK}.short.warm.p99`);
  if (short && p99) log(`targets (short, warm): p50 ${median([short.median]).toFixed(2)} ms (≤ 10), p99 ${p99.median.toFixed(2)} ms (≤ 30)`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`[bench:http] error: ${e instanceof Error ? (process.env.UFB_DEBUG === "1" ? e.stack : e.message) : String(e)}`);
    process.exit(1);
  },
);
