/**
 * `npm run bench:load [-- --url U --requests N --rounds R --mix all|classify|health --concurrency C --seconds S --every K
 * --pid P --heap [--inspector-port I] --no-build]`: a bounded load on the Worker, as a careful operator would run it
 * before a release.
 *
 * Without --url it builds the kernel, seeds the default model into the local R2 bucket and starts
 * `wrangler dev` on a free port (as bench/http.ts does, rate limiting off), then stops it. It sends N requests
 * (default 4000) at concurrency C (default 32), stopping early after S seconds (default 60), from a fixed mix:
 * classify short / long / several texts, embed, tokens, a 422 (no content) and a 400 (malformed JSON), each
 * with its expected status (`--mix classify`: the three classify requests only; `--mix health`: GET /healthz
 * only, the control that does no model work). With `--rounds R` it does
 * that R times against the same server, one report per round, one memory series counting requests across
 * rounds (issue 11's "2 × 10,000 at concurrency 32": --requests 10000 --rounds 2 --mix classify).
 * Every K requests (default 250) it reads GET /healthz?verbose=1: the isolate's
 * kernel memory and block cache (the memory series). With --pid P it also samples that process's RSS
 * (the local workerd; on Linux), which holds the simulator as well as the isolate. With --heap it also forces a full
 * GC in the Worker's isolate through wrangler dev's inspector (scripts/lib/inspector.ts; port I, default 9229 with
 * --url; the bench's own server gets a free one) and records the live JS heap: the one figure that a leak in our
 * TypeScript would grow. The forced GCs pause the isolate, so latency is measured without --heap.
 *
 * Prints errors by status (an answer other than the expected one), p50/p95/p99 latency, throughput and
 * the memory series, and writes bench/results/load-<time>.json.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, readDevVars, readWorkerConfig } from "../scripts/lib/config.ts";
import { seedLocalBucket } from "../scripts/lib/local-bucket.ts";
import { readPackageDir } from "../scripts/lib/package.ts";
import { IsolateInspector } from "../scripts/lib/inspector.ts";
import { type DevServer, startDevOnFreePort } from "../scripts/lib/wrangler-dev.ts";

const log = (line: string) => console.log(`[bench:load] ${line}`);

interface Options {
  url: string | undefined;
  requests: number;
  concurrency: number;
  seconds: number;
  every: number;
  build: boolean;
  pid: number | undefined;
  rounds: number;
  mix: "all" | "classify" | "health";
  heap: boolean;
  inspectorPort: number | undefined;
}

function options(argv: string[]): Options {
  const o: Options = { url: undefined, requests: 4000, concurrency: 32, seconds: 60, every: 250, build: true, pid: undefined, rounds: 1, mix: "all", heap: false, inspectorPort: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const int = (min: number, max: number) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${a}: expected an integer in [${min}, ${max}]`);
      return v;
    };
    if (a === "--url") o.url = argv[++i];
    else if (a === "--requests") o.requests = int(1, 10_000_000);
    else if (a === "--concurrency") o.concurrency = int(1, 1024);
    else if (a === "--seconds") o.seconds = int(1, 86_400);
    else if (a === "--every") o.every = int(1, 1_000_000);
    else if (a === "--pid") o.pid = int(1, 2 ** 31);
    else if (a === "--rounds") o.rounds = int(1, 100);
    else if (a === "--mix") {
      const m = argv[++i];
      if (m !== "all" && m !== "classify" && m !== "health") throw new Error(`--mix: expected all, classify or health, got ${m}`);
      o.mix = m;
    } else if (a === "--heap") o.heap = true;
    else if (a === "--inspector-port") o.inspectorPort = int(1, 65535);
    else if (a === "--no-build") o.build = false;
    else throw new Error(`unknown option ${a} (--url, --requests, --rounds, --mix, --concurrency, --seconds, --every, --pid, --heap, --inspector-port, --no-build)`);
  }
  return o;
}

/** The request mix: [weight, name, path, body, expected status]. Bounded: texts ≤ 128 tokens, ≤ 4 texts. */
const LONG = "a thoughtful, patient and often very funny film about people who keep choosing each other ".repeat(6);
const MIX: [number, string, string, string, number][] = [
  [40, "classify short", "/v1/classify", JSON.stringify({ text: "a warm, funny and moving film" }), 200],
  [15, "classify long", "/v1/classify", JSON.stringify({ text: LONG }), 200],
  [15, "classify x4", "/v1/classify", JSON.stringify({ texts: ["dull", "great acting", "it is what it is", "never again"] }), 200],
  [15, "embed", "/v1/embed", JSON.stringify({ texts: ["first sentence", "second one"] }), 200],
  [5, "tokenize", "/tokenize", JSON.stringify({ inputs: "how many tokens is this" }), 200],
  [5, "no content", "/v1/classify", JSON.stringify({ text: "\u200b\u200b" }), 422],
  [5, "malformed", "/v1/classify", '{"text": "oops', 400],
];
/** The control: GET /healthz, no model work at all; whatever memory grows under it is not the model's. */
const HEALTH: [number, string, string, string, number][] = [[1, "health", "/healthz", "", 200]];
function picker(mix: Options["mix"]) {
  const entries = mix === "health" ? HEALTH : mix === "classify" ? MIX.filter((m) => m[2] === "/v1/classify" && m[4] === 200) : MIX;
  const total = entries.reduce((a, m) => a + m[0], 0);
  // deterministic interleaving: request i takes the slot (i * 37) mod total of the weighted list
  return (i: number) => {
    let slot = (i * 37) % total;
    for (const m of entries) {
      if (slot < m[0]) return m;
      slot -= m[0];
    }
    return entries[0]!;
  };
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);

function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

interface MemorySample {
  afterRequests: number;
  seconds: number;
  wasmMiB?: number;
  cacheUsedMiB?: number;
  cacheBudgetMiB?: number;
  cacheEntries?: number;
  evictions?: number;
  rssMiB?: number;
  /** Live JS heap of the Worker's isolate after a forced full GC (--heap). */
  jsHeapMiB?: number;
}

/** One round of `o.requests` requests; `before` requests were sent in earlier rounds (the memory series counts on). */
async function load(base: string, o: Options, token: string | undefined, pid: number | undefined, before = 0, inspector?: IsolateInspector) {
  const pickMix = picker(o.mix);
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const byName: Record<string, number[]> = {};
  const memory: MemorySample[] = [];
  const t0 = performance.now();
  const sample = async (done: number) => {
    const s: MemorySample = { afterRequests: before + done, seconds: (performance.now() - t0) / 1000 };
    try {
      const r = await fetch(new URL("/healthz?verbose=1", base), { headers: auth });
      const m = ((await r.json()) as { memory?: { models: { wasmBytes: number; cache: { usedBytes: number; budgetBytes: number; entries: number; evictions: number } }[] } }).memory;
      if (m) {
        const MiB = 1024 * 1024;
        s.wasmMiB = m.models.reduce((a, x) => a + x.wasmBytes, 0) / MiB;
        s.cacheUsedMiB = m.models.reduce((a, x) => a + x.cache.usedBytes, 0) / MiB;
        s.cacheBudgetMiB = m.models.reduce((a, x) => a + x.cache.budgetBytes, 0) / MiB;
        s.cacheEntries = m.models.reduce((a, x) => a + x.cache.entries, 0);
        s.evictions = m.models.reduce((a, x) => a + x.cache.evictions, 0);
      }
    } catch {
      // the series has a gap; the error counts below say whether the Worker was failing
    }
    if (pid !== undefined) s.rssMiB = rssMiB(pid);
    if (inspector) {
      const poke = async () => void (await (await fetch(new URL("/healthz", base), { headers: auth })).arrayBuffer());
      try {
        s.jsHeapMiB = (await inspector.liveHeapBytes(poke)) / (1024 * 1024);
      } catch (err) {
        // a gap in the heap column, said once per sample; the load itself goes on
        log(`live JS heap after ${before + done} requests: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    memory.push(s);
  };
  if (before === 0) await sample(0);
  let next = 0;
  let done = 0;
  let nextSample = o.every;
  const deadline = t0 + o.seconds * 1000;
  const worker = async () => {
    while (next < o.requests && performance.now() < deadline) {
      const [, name, path, body, expected] = pickMix(next++);
      const t = performance.now();
      let status: string;
      try {
        const r = body === ""
          ? await fetch(new URL(path, base), { headers: auth, signal: AbortSignal.timeout(30_000) })
          : await fetch(new URL(path, base), { method: "POST", headers: { "content-type": "application/json", ...auth }, body, signal: AbortSignal.timeout(30_000) });
        await r.arrayBuffer();
        status = r.status === expected ? "ok" : String(r.status);
      } catch (err) {
        status = err instanceof Error && err.name === "TimeoutError" ? "timeout" : "no answer";
      }
      const ms = performance.now() - t;
      if (status === "ok") {
        latencies.push(ms);
        (byName[name] ??= []).push(ms);
      } else errors[status] = (errors[status] ?? 0) + 1;
      done++;
      if (done >= nextSample) {
        nextSample += o.every;
        await sample(done);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  if (memory.at(-1)?.afterRequests !== before + done) await sample(done);
  latencies.sort((a, b) => a - b);
  const perName = Object.fromEntries(Object.entries(byName).map(([k, v]) => (v.sort((a, b) => a - b), [k, { n: v.length, p50: pct(v, 50), p95: pct(v, 95), p99: pct(v, 99) }])));
  return { requests: done, seconds, throughput: done / seconds, errors, p50: pct(latencies, 50), p95: pct(latencies, 95), p99: pct(latencies, 99), perName, memory };
}

/** The workerd process under a wrangler dev CLI (its child), for the RSS series. */
function workerdPid(server: DevServer): number | undefined {
  const r = spawnSync("pgrep", ["-P", String(server.child.pid), "-f", "workerd"], { encoding: "utf8" });
  const direct = Number(r.stdout.trim().split("\n")[0]);
  if (direct) return direct;
  // wrangler may start workerd under an intermediate process
  const all = spawnSync("pgrep", ["-f", "workerd serve"], { encoding: "utf8" }).stdout.trim().split("\n").map(Number).filter(Boolean);
  return all.length === 1 ? all[0] : undefined;
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const token = process.env.API_TOKEN || readDevVars().vars.API_TOKEN;
  let server: DevServer | undefined;
  let base = o.url;
  let pid = o.pid;
  let inspector: IsolateInspector | undefined;
  try {
    if (!base) {
      if (o.build) {
        // the kernel, and public/ (wrangler.toml [assets] names it: wrangler dev needs the folder)
        for (const script of ["asbuild", "build:web"]) {
          log(`npm run ${script}`);
          if (spawnSync("npm", ["run", "--silent", script], { cwd: REPO, stdio: "inherit" }).status !== 0) throw new Error(`npm run ${script} failed`);
        }
      }
      const cfg = await readWorkerConfig();
      const [name, pinned] = cfg.model.split("@");
      const pkg = readPackageDir(join(REPO, "weights", name!));
      await seedLocalBucket(pkg, { name: name!, version: pinned ?? pkg.contentVersion, log });
      const logFile = join(mkdtempSync(join(tmpdir(), "ufb-bench-load-")), "wrangler.log");
      server = await startDevOnFreePort({ output: { logFile }, args: ["--log-level", "warn"], vars: { RATE_LIMIT: "off" }, inspector: o.heap }, 180);
      base = server.url;
      pid ??= workerdPid(server);
      log(`wrangler dev on ${base} (log ${logFile})${pid ? `, workerd pid ${pid}` : ""}`);
    }
    if (o.heap) {
      const inspectorPort = server?.inspectorPort ?? o.inspectorPort ?? 9229;
      inspector = await IsolateInspector.connect(inspectorPort);
      log(`live JS heap through the inspector on port ${inspectorPort} (a full GC at every sample)`);
    }
    const rounds = [];
    for (let round = 1; round <= o.rounds; round++) {
      const before = rounds.reduce((n, x) => n + x.requests, 0);
      log(`${o.rounds > 1 ? `round ${round}/${o.rounds}: ` : ""}${o.requests} requests (mix ${o.mix}) at concurrency ${o.concurrency} (at most ${o.seconds} s) → ${base}`);
      const r = await load(base, o, token, pid, before, inspector);
      rounds.push(r);
      log(`${r.requests} requests in ${r.seconds.toFixed(1)} s: ${r.throughput.toFixed(1)} req/s; errors ${JSON.stringify(r.errors)}`);
      log(`latency of expected answers: p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
      for (const [k, v] of Object.entries(r.perName)) log(`  ${k.padEnd(15)} n=${String(v.n).padStart(5)} p50 ${v.p50.toFixed(1)} p95 ${v.p95.toFixed(1)} p99 ${v.p99.toFixed(1)} ms`);
    }
    const memory = rounds.flatMap((r) => r.memory);
    log(`memory series (after requests: wasm MiB / cache used of budget MiB, entries, evictions / workerd RSS MiB${o.heap ? " / live JS heap MiB" : ""}):`);
    for (const s of memory) {
      const heap = o.heap ? ` / ${s.jsHeapMiB?.toFixed(2) ?? "-"}` : "";
      log(`  ${String(s.afterRequests).padStart(6)}  ${s.wasmMiB?.toFixed(1) ?? "-"} / ${s.cacheUsedMiB?.toFixed(1) ?? "-"} of ${s.cacheBudgetMiB?.toFixed(0) ?? "-"}, ${s.cacheEntries ?? "-"}, ${s.evictions ?? "-"} / ${s.rssMiB?.toFixed(0) ?? "-"}${heap}`);
    }
    const dir = join(REPO, "bench/results");
    mkdirSync(dir, { recursive: true });
    const file = `load-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
    const result = o.rounds === 1 ? rounds[0]! : { rounds: rounds.map(({ memory: _, ...r }) => r), memory };
    writeFileSync(join(dir, file), JSON.stringify({ url: o.url ?? "npm run dev (local)", options: o, mix: MIX.map(([w, n, p, , e]) => ({ weight: w, name: n, path: p, expected: e })), ...result }, null, 1) + "\n");
    log(`wrote bench/results/${file}`);
  } finally {
    inspector?.close();
    await server?.stop();
  }
}

main().catch((err) => {
  console.error(`[bench:load] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
