/**
 * `npm run fuzz [-- --url U --seed S --n N --concurrency C --only I]`: the seeded HTTP fuzzer
 * (scripts/lib/fuzz.ts) against a running Worker: `npm run dev` (default http://127.0.0.1:8787) or a
 * deployed URL. Prints the answers by status and the defect classes with examples (reproduce one with
 * `--seed S --only <index>`), writes bench/results/fuzz-<seed>.json, and exits 1 when any defect was found.
 * With API_TOKEN in the environment (or .dev.vars) every request but those that test Authorization carries it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, readDevVars } from "./lib/config.ts";
import { type FuzzCase, defectCount, runFuzz, toRequest } from "./lib/fuzz.ts";

function options(argv: string[]) {
  const o = { url: "http://127.0.0.1:8787", seed: 1, n: 2000, concurrency: 8, only: undefined as number | undefined, abortBodies: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    const int = () => {
      const x = Number(v);
      if (!Number.isInteger(x) || x < 0) throw new Error(`${a}: expected a non-negative integer, got ${v}`);
      i++;
      return x;
    };
    if (a === "--url") (o.url = v ?? o.url), i++;
    else if (a === "--seed") o.seed = int();
    else if (a === "--n") o.n = int();
    else if (a === "--concurrency") o.concurrency = Math.max(1, int());
    else if (a === "--only") o.only = int();
    else if (a === "--no-abort") o.abortBodies = false;
    else throw new Error(`unknown option ${a} (--url, --seed, --n, --concurrency, --only, --no-abort)`);
  }
  return o;
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  const token = process.env.API_TOKEN || readDevVars().vars.API_TOKEN;
  try {
    await fetch(new URL("/healthz", o.url));
  } catch {
    console.error(`[fuzz] ${o.url} does not answer: start the Worker with \`npm run dev\` or pass --url`);
    return 2;
  }
  const send = (c: FuzzCase) => {
    const req = toRequest(c, o.url);
    if (token && !("authorization" in c.headers)) req.headers.set("authorization", `Bearer ${token}`);
    return fetch(req, { signal: AbortSignal.timeout(30_000) });
  };
  const t0 = performance.now();
  console.log(`[fuzz] ${o.only !== undefined ? `case ${o.only}` : `${o.n} requests`} of seed ${o.seed} → ${o.url} (concurrency ${o.concurrency})`);
  // a body stream that fails is the client's own failure: fetch rejects, which is not a defect of the Worker
  const report = await runFuzz(o.seed, o.n, send, { concurrency: o.concurrency, only: o.only, options: { abortBodies: o.abortBodies }, expectFailure: (c) => c.body === "abort-mid-body" });
  const seconds = (performance.now() - t0) / 1000;
  console.log(`[fuzz] ${report.cases} requests in ${seconds.toFixed(1)} s; by status: ${JSON.stringify(report.byStatus)}`);
  const n = defectCount(report);
  if (n === 0) console.log("[fuzz] no defects");
  for (const [cls, d] of Object.entries(report.defects)) {
    console.log(`[fuzz] DEFECT ${cls}: ${d.count}`);
    for (const e of d.examples) console.log(`         case ${e.index} (${e.kind}): ${e.detail}`);
  }
  const dir = join(REPO, "bench/results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `fuzz-${o.seed}.json`);
  writeFileSync(file, JSON.stringify({ url: o.url, n: o.n, concurrency: o.concurrency, seconds, when: new Date().toISOString(), ...report }, null, 1) + "\n");
  console.log(`[fuzz] wrote bench/results/fuzz-${o.seed}.json`);
  return n === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[fuzz] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
