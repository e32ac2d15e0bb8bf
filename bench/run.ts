/**
 * Benchmark runner: `npm run bench` (asbuild, then this file), or `npx -c 'node bench/run.ts [options] [suite…]'`.
 *
 *   suite…        run only these suites (default: all registered), e.g. kernels.gemm kernels.fff
 *   --quick       fewer samples (smoke run)
 *   --list        print the suite names and exit
 *   --no-write    do not touch bench/results/latest.json
 *
 * Adding a suite (e.g. the model/encoder benchmarks):
 *   1. create bench/<name>.ts that calls `registerSuite("encoder.forward", async (ctx) => { … })` from
 *      ./harness.ts; inside, use `ctx.time(fn)` and `ctx.recordTime / recordRate / record`;
 *   2. import it below (import order = run order).
 * `loadKernel()` from ./wasm.node.ts gives a Kernel over the compiled module.
 *
 * Output: a markdown table on stdout, and every figure in bench/results/latest.json as an array of
 * { name, unit, median, min, max, runs, suite, run }. `run` identifies the benchmark run that produced an
 * entry (BENCH_RUN_ID, default the start time). A suite that runs replaces its own older entries; entries
 * of suites that did not run (other suites, bench:http, bench:cold) are kept.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { runSuites, suiteNames, table, type Measurement } from "./harness.ts";
import "./kernels.ts";
import "./encoder.ts";
import "./workerd.ts";

type Entry = Measurement & { suite: string; run: string };

const RESULTS = new URL("./results/latest.json", import.meta.url);

function readResults(): Entry[] {
  try {
    const v = JSON.parse(readFileSync(RESULTS, "utf8")) as unknown;
    return Array.isArray(v) ? (v as Entry[]) : [];
  } catch {
    return [];
  }
}

/** Keeps the entries of the same run that this write does not replace, then appends ours. */
export function mergeResults(existing: Entry[], ours: Entry[]): Entry[] {
  // a suite that ran replaces all of its own older entries; other suites' entries (bench:http,
  // bench:cold, suites not selected this time) stay, each with the `run` that produced it
  const suites = new Set(ours.map((e) => e.suite));
  return [...existing.filter((e) => !suites.has(e.suite)), ...ours];
}

async function main(argv: string[]): Promise<void> {
  const flags = new Set(argv.filter((a) => a.startsWith("--")));
  const names = argv.filter((a) => !a.startsWith("--"));
  for (const f of flags) if (!["--quick", "--list", "--no-write"].includes(f)) throw new Error(`unknown option ${f}`);
  if (flags.has("--list")) {
    console.log(suiteNames().join("\n"));
    return;
  }
  const run = process.env.BENCH_RUN_ID || new Date().toISOString();
  console.log(`# bench run ${run} (node ${process.version}, ${flags.has("--quick") ? "quick" : "full"})`);
  const results = await runSuites(names, { quick: flags.has("--quick") });
  const entries: Entry[] = results.map((m) => ({ ...m, run }));
  console.log(`\n${table(entries)}\n`);
  if (!flags.has("--no-write")) {
    mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
    const merged = mergeResults(readResults(), entries);
    writeFileSync(RESULTS, `${JSON.stringify(merged, null, 1)}\n`);
    console.log(`wrote ${merged.length} entries to bench/results/latest.json`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  });
}
