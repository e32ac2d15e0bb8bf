/**
 * `npm run dev [-- options]`: local development server with the default models.
 *
 *   1. builds the kernel (npm run asbuild → wasm/build/kernels.wasm, bundled by wrangler);
 *   2. puts the default packages weights/<MODEL>/ and weights/<EMBED_MODEL>/ (wrangler.toml [vars]) into the
 *      LOCAL R2 bucket that wrangler dev serves (.wrangler/state/v3), as models/<name>/<version>/… with the
 *      content version sha256(manifest.json)[:12], unless that version is already there; points
 *      models/<name>/current at it. Without weights/<MODEL>/ it stops; without weights/<EMBED_MODEL>/ it says
 *      so and serves the rest (embed requests that name no model then answer 404);
 *   3. starts `wrangler dev --ip 127.0.0.1 --port 8787` and stops it on Ctrl-C / SIGTERM.
 *
 * Options: --port <n> (default 8787), --ip <addr> (default 127.0.0.1), --no-build, --no-seed,
 * --seed-only (steps 1-2, then exit). Anything else is passed on to wrangler dev.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO, defaultModels, readDevVars, readWorkerConfig } from "./lib/config.ts";
import { seedDefaults } from "./lib/local-bucket.ts";
import { PackageDirError, fmtBytes } from "./lib/package.ts";
import { portInUse, startDev, waitReady } from "./lib/wrangler-dev.ts";

const say = (line: string) => console.log(`[dev] ${line}`);

function parseArgs(argv: string[]) {
  const o = { port: 8787, ip: "127.0.0.1", build: true, seed: true, seedOnly: false, rest: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new PackageDirError(`${a} needs a value`);
      return v;
    };
    if (a === "--port") {
      o.port = Number(value());
      if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new PackageDirError(`--port: expected 1-65535`);
    } else if (a === "--ip") o.ip = value();
    else if (a === "--no-build") o.build = false;
    else if (a === "--no-seed") o.seed = false;
    else if (a === "--seed-only") o.seedOnly = true;
    else o.rest.push(a);
  }
  return o;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const cfg = await readWorkerConfig();

  if (o.build) {
    say("building the kernel: npm run asbuild");
    const r = spawnSync("npm", ["run", "--silent", "asbuild"], { cwd: REPO, stdio: "inherit" });
    if (r.status !== 0) {
      say(`npm run asbuild failed (exit ${r.status}); fix the kernel build or run with --no-build`);
      return 1;
    }
  }
  if (!existsSync(join(REPO, "wasm/build/kernels.wasm"))) {
    say("wasm/build/kernels.wasm is missing: run npm run asbuild");
    return 1;
  }

  if (o.seed) {
    const t0 = performance.now();
    const { seeded, missing } = await seedDefaults(defaultModels(cfg), { log: say });
    for (const d of missing) {
      const dir = join("weights", d.spec.split("@")[0]);
      say(`wrangler.toml ${d.variable} = "${d.spec}", but ${dir}/manifest.json does not exist.`);
      if (d.variable === "MODEL") {
        say(`put the package there (ufb convert / ufb synth), or change MODEL, or run with --no-seed to serve what the local bucket holds`);
        return 1;
      }
      // the classifier still serves every route; only embed requests that name no model need this package
      say(`serving without it: /v1/embed, /embed and /v1/embeddings without a model answer 404 model_not_found (name "${cfg.modelName}" for the classifier's vectors); put the package there (train/README.md) or change EMBED_MODEL`);
    }
    for (const r of seeded) {
      const pinned = r.model.spec.includes("@");
      say(`default model for ${r.model.role}: ${r.name} (wrangler.toml ${r.model.variable}) from ${relative(REPO, r.pkg.dir)}/: ${fmtBytes(r.pkg.totalBytes)}, version ${r.version}${pinned ? ` (pinned in ${r.model.variable})` : " (sha256 of manifest.json)"}`);
      for (const x of r.repaired) say(`repaired ${x.key} (${x.problem})`);
      if (r.alreadyThere && r.written.length === 0) say(`local bucket ${cfg.bucket} already holds ${r.name}@${r.version} (current); every object verified (size and sha256)`);
    }
    const written = seeded.reduce((n, r) => n + r.written.length, 0);
    if (written > 0) say(`local bucket ${cfg.bucket}: wrote ${written} object(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s (.wrangler/state/v3/r2)`);
  } else {
    say("--no-seed: serving whatever the local bucket holds");
  }
  if (o.seedOnly) return 0;

  const dev = readDevVars();
  if (dev.vars.API_TOKEN) say(`API_TOKEN is set in ${dev.file}: /v1/* needs 'Authorization: Bearer <that token>' (/healthz and /openapi.json do not)`);
  else say(`API_TOKEN is not set (no ${dev.file ?? ".dev.vars"} entry): the API is open, as in local development; see docs/deploy.md`);

  if (await portInUse(o.port, o.ip)) {
    say(`${o.ip}:${o.port} is already in use (another wrangler dev?). Stop it, or use: npm run dev -- --port <n>`);
    return 1;
  }
  say(`starting wrangler dev --ip ${o.ip} --port ${o.port}${o.rest.length ? ` ${o.rest.join(" ")}` : ""}`);
  // rate limiting off: wrangler simulates the binding and every local client (fuzz, bench:load) shares one
  // counter; `npm run dev -- --var RATE_LIMIT:on` turns it on (a later --var wins)
  say("rate limiting is off locally (RATE_LIMIT=off); npm run dev -- --var RATE_LIMIT:on turns it on");
  const server = startDev({ ip: o.ip, port: o.port, vars: { RATE_LIMIT: "off" }, args: o.rest, output: "inherit" });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => void server.stop());
  // `kill <npm PID>` ends npm and its shell but not us (edge-stack.md §11): when we are orphaned, stop too.
  const parent = process.ppid;
  const orphanCheck = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(orphanCheck);
      say("parent process (npm) ended: stopping wrangler dev");
      void server.stop();
    }
  }, 500);
  orphanCheck.unref();
  waitReady(server).then(
    () => {
      const auth = dev.vars.API_TOKEN ? ` -H "authorization: Bearer $API_TOKEN"` : "";
      say(`ready on ${server.url}  (Ctrl-C stops wrangler and workerd)`);
      say(`try: curl -s ${server.url}/v1/classify${auth} -H 'content-type: application/json' -d '{"text":"a gripping, beautifully shot film"}'`);
      say(`     curl -s ${server.url}/v1/embed${auth} -H 'content-type: application/json' -d '{"texts":["the cat sat on the mat","a cat was sitting on a mat"]}'`);
      say(`     curl -s ${server.url}/v1/models${auth}   ·   curl -s ${server.url}/healthz   ·   curl -s ${server.url}/openapi.json`);
    },
    () => {},
  );
  const code = await server.exited;
  return code ?? 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`[dev] error: ${e instanceof PackageDirError || e instanceof Error ? e.message : String(e)}`);
    if (process.env.UFB_DEBUG === "1") console.error(e);
    process.exit(1);
  },
);
