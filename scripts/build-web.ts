/**
 * `npm run build:web`: bundles the playground (web/playground/) into public/, the Workers static assets
 * directory of wrangler.toml. public/ is a build output (git-ignored): `npm run dev`, `npm test` (pretest) and
 * `npm run deploy` run this first, so what is served always matches the sources.
 */
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { REPO } from "./lib/config.ts";

const src = join(REPO, "web/playground");
const out = join(REPO, "public");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(src, "main.ts")],
  outfile: join(out, "playground.js"),
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  logLevel: "warning",
});
copyFileSync(join(src, "index.html"), join(out, "index.html"));
copyFileSync(join(src, "playground.css"), join(out, "playground.css"));
let raw = 0;
let gz = 0;
for (const f of ["index.html", "playground.js", "playground.css"]) {
  const b = readFileSync(join(out, f));
  raw += b.length;
  gz += gzipSync(b).length;
}
console.log(`[build:web] public/: ${(raw / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gzip) in index.html, playground.js, playground.css`);
