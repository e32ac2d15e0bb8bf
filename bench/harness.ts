/**
 * Benchmark harness: suites register themselves, `runSuites` runs them and collects measurements.
 * Timing: warm-up (at least `warmupRuns` calls and `warmupMs`), then `runs` samples; each sample times
 * `batch` back-to-back calls and reports the time per call. Median, min and max are over the samples.
 * The machine is shared and noisy: compare medians, and measure pairs that are compared in the same
 * loop (see `measurePair`).
 */
export interface Measurement {
  name: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  /** number of samples */
  runs: number;
}

export interface TimingOptions {
  /** samples (default 15) */
  runs?: number;
  /** calls per sample (default: chosen so a sample takes ≥ 2 ms) */
  batch?: number;
  /** warm-up calls (default 5) and milliseconds (default 200), whichever takes longer */
  warmupRuns?: number;
  warmupMs?: number;
}

export interface Timing {
  /** ms per call, one per sample, in run order */
  samples: number[];
  median: number;
  min: number;
  max: number;
  batch: number;
}

export interface SuiteContext {
  /** Times fn (ms per call). */
  time(fn: () => void, options?: TimingOptions): Timing;
  /** Records a measurement (also printed in the table). */
  record(m: Measurement): void;
  /** Records a timing in `unit` ("ms" or "us"). */
  recordTime(name: string, t: Timing, unit?: "ms" | "us"): void;
  /** Records a rate: `work` units per call / time, e.g. GMAC/s with work in GMAC. */
  recordRate(name: string, unit: string, work: number, t: Timing): void;
  /** Free-form progress line. */
  log(line: string): void;
  /** --quick: fewer samples */
  readonly quick: boolean;
}

export type Suite = (ctx: SuiteContext) => void | Promise<void>;

const suites = new Map<string, Suite>();

/** Registers a suite under a unique name; `npm run bench -- <name>…` runs a subset. */
export function registerSuite(name: string, suite: Suite): void {
  if (suites.has(name)) throw new Error(`bench suite ${JSON.stringify(name)} is registered twice`);
  suites.set(name, suite);
}

export function suiteNames(): string[] {
  return [...suites.keys()];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

export function summarize(samples: number[], batch = 1): Timing {
  return { samples, median: median(samples), min: Math.min(...samples), max: Math.max(...samples), batch };
}

function timeFn(fn: () => void, o: TimingOptions, quick: boolean): Timing {
  const runs = o.runs ?? (quick ? 5 : 15);
  const warmupRuns = o.warmupRuns ?? 5;
  const warmupMs = o.warmupMs ?? (quick ? 50 : 200);
  const t0 = performance.now();
  let calls = 0;
  while (calls < warmupRuns || performance.now() - t0 < warmupMs) {
    fn();
    calls++;
  }
  const perCall = (performance.now() - t0) / calls;
  const batch = o.batch ?? Math.max(1, Math.ceil(2 / Math.max(perCall, 1e-6)));
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const s = performance.now();
    for (let b = 0; b < batch; b++) fn();
    samples.push((performance.now() - s) / batch);
  }
  return summarize(samples, batch);
}

/**
 * Times a and b alternately (a sample of a, then a sample of b, …) so that drift in machine load hits
 * both alike; also returns the per-sample ratio a/b.
 */
export function measurePair(a: () => void, b: () => void, o: { runs?: number; batchA?: number; batchB?: number; warmupMs?: number }, quick: boolean) {
  const runs = o.runs ?? (quick ? 5 : 21);
  const wa = timeFn(a, { runs: 1, warmupMs: o.warmupMs, batch: o.batchA }, quick);
  const wb = timeFn(b, { runs: 1, warmupMs: o.warmupMs, batch: o.batchB }, quick);
  const ba = o.batchA ?? wa.batch, bb = o.batchB ?? wb.batch;
  const sa: number[] = [], sb: number[] = [], ratio: number[] = [];
  for (let r = 0; r < runs; r++) {
    let s = performance.now();
    for (let i = 0; i < ba; i++) a();
    sa.push((performance.now() - s) / ba);
    s = performance.now();
    for (let i = 0; i < bb; i++) b();
    sb.push((performance.now() - s) / bb);
    ratio.push(sa[r] / sb[r]);
  }
  return { a: summarize(sa, ba), b: summarize(sb, bb), ratio: summarize(ratio) };
}

/** Runs the named suites (all when names is empty) in registration order. */
export async function runSuites(names: string[], opts: { quick?: boolean; log?: (s: string) => void } = {}): Promise<Array<Measurement & { suite: string }>> {
  const quick = !!opts.quick;
  const log = opts.log ?? ((s: string) => console.log(s));
  for (const n of names) if (!suites.has(n)) throw new Error(`unknown bench suite ${JSON.stringify(n)}; known: ${suiteNames().join(", ")}`);
  const out: Array<Measurement & { suite: string }> = [];
  for (const [suite, fn] of suites) {
    if (names.length && !names.includes(suite)) continue;
    log(`## ${suite}`);
    const ctx: SuiteContext = {
      quick,
      time: (f, o = {}) => timeFn(f, o, quick),
      record: (m) => {
        out.push({ ...m, suite });
        log(`  ${m.name}: ${fmt(m.median)} ${m.unit} (min ${fmt(m.min)}, max ${fmt(m.max)}, ${m.runs} runs)`);
      },
      recordTime: (name, t, unit = "ms") => {
        const k = unit === "us" ? 1000 : 1;
        ctx.record({ name, unit, median: t.median * k, min: t.min * k, max: t.max * k, runs: t.samples.length });
      },
      recordRate: (name, unit, work, t) => {
        // rate from time: the fastest sample is the max rate
        ctx.record({ name, unit, median: work / (t.median / 1000), min: work / (t.max / 1000), max: work / (t.min / 1000), runs: t.samples.length });
      },
      log: (s) => log(`  ${s}`),
    };
    await fn(ctx);
  }
  return out;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** A markdown table of measurements. */
export function table(ms: Array<Measurement & { suite?: string }>): string {
  const rows = ["| suite | name | median | min | max | unit | runs |", "| --- | --- | ---: | ---: | ---: | --- | ---: |"];
  for (const m of ms) rows.push(`| ${m.suite ?? ""} | ${m.name} | ${fmt(m.median)} | ${fmt(m.min)} | ${fmt(m.max)} | ${m.unit} | ${m.runs} |`);
  return rows.join("\n");
}
