/**
 * bench/results/latest.json for the HTTP and cold-path benchmarks (bench/http.ts, bench/cold.ts): the same
 * entry shape as bench/run.ts ({ name, unit, median, min, max, runs, suite, run }). Merging keeps every
 * existing entry except those with the same suite and name as a new one (so kernel, model, http and cold
 * figures live side by side); `run` is BENCH_RUN_ID when set, else the start time.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { type Measurement, median as harnessMedian } from "./harness.ts";

export type Entry = Measurement & { suite: string; run: string };

export const RESULTS = new URL("./results/latest.json", import.meta.url);

export function median(xs: number[]): number {
  return xs.length === 0 ? NaN : harnessMedian(xs);
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** An entry over repeated runs: median, min and max of one figure per run. */
export function entry(suite: string, run: string, name: string, unit: string, perRun: number[]): Entry {
  return { name, unit, median: median(perRun), min: Math.min(...perRun), max: Math.max(...perRun), runs: perRun.length, suite, run };
}

/** Keeps existing entries unless ours has the same suite and name, or (replaceSuite) the same suite. */
export function mergeInto(existing: Entry[], ours: Entry[], replaceSuite = false): Entry[] {
  const key = (e: Entry) => `${e.suite}\u0000${e.name}`;
  const mine = new Set(ours.map(key));
  const suites = new Set(ours.map((e) => e.suite));
  return [...existing.filter((e) => !mine.has(key(e)) && !(replaceSuite && suites.has(e.suite))), ...ours];
}

export function writeResults(ours: Entry[], replaceSuite = false): number {
  let existing: Entry[] = [];
  try {
    const v = JSON.parse(readFileSync(RESULTS, "utf8")) as unknown;
    if (Array.isArray(v)) existing = v as Entry[];
  } catch {
    // none yet
  }
  const merged = mergeInto(existing, ours, replaceSuite);
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(merged, null, 1)}\n`);
  return merged.length;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));

/** A markdown table of entries. */
export function table(entries: Entry[]): string {
  const rows = entries.map((e) => `| ${e.name} | ${fmt(e.median)} | ${fmt(e.min)} | ${fmt(e.max)} | ${e.unit} | ${e.runs} |`);
  return ["| figure | median | min | max | unit | runs |", "| --- | ---: | ---: | ---: | --- | ---: |", ...rows].join("\n");
}

/** 1- and 5-minute load averages (other engineers share the 2 cores). */
export function loadAverage(): string {
  try {
    const [one, five] = readFileSync("/proc/loadavg", "utf8").split(" ");
    return `load average ${one} (1 min), ${five} (5 min)`;
  } catch {
    return "load average unknown";
  }
}
