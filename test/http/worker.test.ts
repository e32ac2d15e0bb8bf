import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

// The Worker entry (src/index.ts) with its own service wiring; only routes that do not depend on it.
describe("Worker entry", () => {
  it("should serve /healthz and /openapi.json through exports.default.fetch", async () => {
    const health = await exports.default.fetch("https://worker.example/healthz");
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const doc = await exports.default.fetch("https://worker.example/openapi.json");
    expect(((await doc.json()) as { openapi: string; servers: { url: string }[] })).toMatchObject({ openapi: "3.1.0", servers: [{ url: "https://worker.example" }] });
  });

  it("should answer problem+json for unknown routes", async () => {
    const res = await exports.default.fetch("https://worker.example/missing");
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  });
});
