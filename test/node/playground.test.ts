/**
 * The playground at `/` against a real `wrangler dev` (static assets + the Worker, as `npm run dev` serves
 * them), driven in Debian's Chromium with playwright-core (no browser download: the system binary).
 *
 * Needs public/ (npm run build:web) and wasm/build/ (npm run asbuild): `npm test`'s pretest builds both.
 * The Chromium part is skipped, with a message, where no Chromium is installed (`.ci/run` installs it).
 * PLAYGROUND_SCREENSHOT=docs/playground.png npx vitest run test/node/playground.test.ts refreshes the README's
 * screenshot; without it the screenshot goes to a temporary folder.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, readDevVars, readWorkerConfig } from "../../scripts/lib/config.ts";
import { seedLocalBucket } from "../../scripts/lib/local-bucket.ts";
import { readPackageDir } from "../../scripts/lib/package.ts";
import { type DevServer, startDevOnFreePort } from "../../scripts/lib/wrangler-dev.ts";

/** Debian's package puts it here; CHROMIUM names another binary. */
const CHROMIUM = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p): p is string => !!p && existsSync(p));
if (!CHROMIUM) console.warn("[playground.test] SKIPPING the browser test: no Chromium found (install Debian's `chromium`, or set CHROMIUM=/path/to/chromium)");

// the flags this sandbox needs: no sandbox as root, and no background connections (the network is closed)
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const tmp = mkdtempSync(join(tmpdir(), "ufb-playground-"));
const token = readDevVars().vars.API_TOKEN ?? "";
const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
let server: DevServer;
let layers = 0;
let levels = 0;
let trees = 0;
let labels: string[] = [];

beforeAll(async () => {
  const cfg = await readWorkerConfig();
  const [name, pinned] = cfg.model.split("@");
  // a bucket of its own (--persist-to), so the test neither depends on nor changes the developer's .wrangler/state
  const pkg = readPackageDir(join(REPO, "weights", name));
  await seedLocalBucket(pkg, { name, version: pinned ?? pkg.contentVersion, persistPath: join(tmp, "state/v3") });
  server = await startDevOnFreePort({ output: { logFile: join(tmp, "wrangler.log") }, args: ["--persist-to", join(tmp, "state"), "--log-level", "warn"] }, 180);
  const { models } = (await (await fetch(`${server.url}/v1/models`, { headers: auth })).json()) as {
    models: { name: string; labels: string[]; config: { num_layers: number; fff_depth: number; fff_trees: number } }[];
  };
  const m = models.find((x) => x.name === name)!;
  layers = m.config.num_layers;
  levels = m.config.fff_depth + 1;
  trees = m.config.fff_trees;
  labels = m.labels;
}, 300_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("static assets and the Worker side by side", () => {
  it("GET / is the page (text/html) and /v1/* still reaches the Worker", async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain("<title>UltraFastBERT playground</title>");
    const js = await fetch(`${server.url}/playground.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    const res = await fetch(`${server.url}/v1/classify`, { method: "POST", headers: { "Content-Type": "application/json", ...auth }, body: JSON.stringify({ text: "a fine film" }) });
    expect(res.status).toBe(200);
    expect(labels).toContain(((await res.json()) as { results: { label: string }[] }).results[0].label);
    // an unknown API path is still the Worker's problem+json 404, not a page
    const missing = await fetch(`${server.url}/v1/nope`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });
});

describe.skipIf(!CHROMIUM)("the page in Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    // launch() gives every run a fresh, empty profile (its own temporary --user-data-dir)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 60_000);
  afterAll(async () => browser?.close());

  it("classifies, draws the paths, attributes, copies curl, and shows a 422", async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${server.url}/`);
    if (token) {
      await page.fill("#token", token);
      await page.dispatchEvent("#token", "change");
    }
    // the model selector is filled from GET /v1/models
    await page.waitForFunction(() => (document.getElementById("model") as HTMLSelectElement).options.length > 1, null, { timeout: 30_000 });

    await page.fill("#text", "a gorgeous, witty, seductive movie.");
    await page.click("#classify");
    await page.waitForSelector("#result:not([hidden])", { timeout: 60_000 });
    expect(labels).toContain(await page.getAttribute("#label", "data-label"));
    expect(await page.locator("#scores tbody tr").count()).toBe(labels.length);

    // one SVG per layer and tree, each with exactly the path's nodes lit (one per level)
    for (let l = 0; l < layers; l++) {
      expect(await page.locator(`svg.fff-path[data-layer="${l}"]`).count()).toBe(trees);
      expect(await page.locator(`svg.fff-path[data-layer="${l}"] circle.node.lit`).count()).toBe(trees * levels);
    }
    // another token redraws the picture
    await page.locator("#tokens button").nth(2).click();
    expect(await page.locator("#tokens button").nth(2).getAttribute("aria-pressed")).toBe("true");

    // leave-one-out: every content token gets a score change
    const content = await page.locator("#tokens button").evaluateAll((bs) => bs.filter((b) => !/^(\[\w+\]|<\/?\w+>)$/.test(b.querySelector("span")!.textContent!)).length);
    expect(content).toBeGreaterThan(3);
    await page.waitForFunction((n) => document.querySelectorAll("#tokens .attr").length === n, content, { timeout: 60_000 });
    for (const t of await page.locator("#tokens .attr").allTextContents()) expect(t).toMatch(/^[+−]\d+\.\d{2}$/);

    await page.click("#copy");
    const curl = (await page.textContent("#curl"))!;
    expect(curl).toContain(`'${server.url}/v1/classify'`);
    expect(curl).toContain(`'{"text":"a gorgeous, witty, seductive movie.","explain":true`);

    await page.screenshot({ path: process.env.PLAYGROUND_SCREENSHOT ? join(REPO, process.env.PLAYGROUND_SCREENSHOT) : join(tmp, "playground.png"), fullPage: true });

    // a text with no content: the problem+json detail, from the keyboard (Ctrl+Enter in the text area)
    await page.fill("#text", "\u200b");
    await page.focus("#text");
    await page.keyboard.press("Control+Enter");
    await page.waitForSelector("#error:not([hidden])", { timeout: 30_000 });
    const shown = (await page.textContent("#error"))!;
    expect(shown).toMatch(/^422 no_content: /);
    expect(shown.length).toBeGreaterThan("422 no_content: ".length + 10);
    expect(await page.isHidden("#result")).toBe(true);
    expect(errors).toEqual([]);
  }, 240_000);
});
