/**
 * The playground's files through the Worker's entry point (wrangler.toml: the Worker runs first and hands
 * GET/HEAD to the ASSETS binding): the page and its script are served as files; a wrong method or a missing
 * file is the app's problem+json, never the assets layer's empty 405 (found by `npm run fuzz`: POST /).
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const call = (path: string, init?: RequestInit) => exports.default.fetch(new Request(`http://worker${path}`, init));

describe("playground files through the Worker", () => {
  it("GET / is the page, GET /playground.js its script, HEAD / has no body", async () => {
    const page = await call("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain("playground.js");
    const script = await call("/playground.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    const head = await call("/", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("POST / is a problem+json 405 that names the allowed methods", async () => {
    const res = await call("/", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(405);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.headers.get("allow")).toMatch(/GET/);
    const body = (await res.json()) as { code: string; status: number };
    expect([body.code, body.status]).toEqual(["method_not_allowed", 405]);
  });

  it("a file that is not there is a problem+json 404, and so is POST to a file", async () => {
    for (const [path, method] of [["/no-such-file.js", "GET"], ["/playground.js", "POST"]] as const) {
      const res = await call(path, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(((await res.json()) as { code: string }).code).toBe("not_found");
    }
  });
});
