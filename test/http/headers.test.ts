import { OpenAPIHono } from "@hono/zod-openapi";
import { timing } from "hono/timing";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../src/http/env.ts";
import { PhaseClock, phaseTimer } from "../../src/middleware/phase-timer/index.ts";
import { setup } from "./helpers.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("X-Request-Id", () => {
  it("should generate a UUID and put it in problem bodies too", async () => {
    const { request } = setup();
    const ok = await request("/healthz");
    expect(ok.headers.get("X-Request-Id")).toMatch(UUID);
    const err = await request("/nope");
    const id = err.headers.get("X-Request-Id");
    expect(id).toMatch(UUID);
    expect(id).not.toBe(ok.headers.get("X-Request-Id"));
    expect((await err.json<{ request_id: string }>()).request_id).toBe(id);
  });

  it("should echo a well-formed incoming id and replace a bad one", async () => {
    const { request } = setup();
    expect((await request("/healthz", { headers: { "X-Request-Id": "trace-42_a=" } })).headers.get("X-Request-Id")).toBe("trace-42_a=");
    for (const bad of ["has space", "x".repeat(256), "<script>"]) {
      expect((await request("/healthz", { headers: { "X-Request-Id": bad } })).headers.get("X-Request-Id")).toMatch(UUID);
    }
  });
});

describe("Server-Timing", () => {
  it("should carry tokenize, fetch and compute spans on inference routes, in that order, then total", async () => {
    const { post } = setup();
    for (const [path, body] of [
      ["/v1/classify", { text: "x" }],
      ["/v1/embed", { text: "x" }],
      ["/v1/fill-mask", { text: "[MASK]" }],
    ] as const) {
      const header = (await post(path, body)).headers.get("Server-Timing") ?? "";
      const names = header.split(",").map((m) => m.trim().split(";")[0]);
      expect(names).toEqual(["tokenize", "fetch", "compute", "total"]);
      expect(header).toMatch(/fetch;dur=\d+\.\d;desc="Weight fetch \(R2 and cache\)"/);
    }
  });

  it("should carry only total where the service is not called", async () => {
    const { request, post } = setup();
    for (const res of [await request("/healthz"), await post("/v1/classify", { text: "" }), await request("/nope")]) {
      expect(res.headers.get("Server-Timing")).toMatch(/^total;dur=\d+\.\d;desc="Total Response Time"$/);
    }
  });

  it("should sum repeated spans, count overlapping spans of one phase once, and never count a moment twice", () => {
    let t = 0;
    const clock = new PhaseClock(() => t);
    clock.start("fetch"); // 0
    t = 5;
    clock.end("fetch"); // +5
    clock.start("compute"); // 5
    t = 7;
    clock.start("fetch"); // 7
    clock.start("fetch"); // nested
    t = 10;
    clock.end("fetch"); // still open
    t = 12;
    clock.end("fetch"); // +5
    clock.end("tokenize"); // end without start: ignored
    t = 20;
    const totals = clock.close(); // compute open 5..20 = 15, less the fetch inside it (7..12) → 10
    expect(Object.fromEntries(totals)).toEqual({ fetch: 10, compute: 10 });
    // the phases add up to the time some phase was open (0..20)
    expect([...totals.values()].reduce((a, b) => a + b, 0)).toBe(20);
  });

  it("should give a load inside other phases to load alone", () => {
    let t = 0;
    const clock = new PhaseClock(() => t);
    clock.start("compute"); // 0
    t = 1;
    clock.start("fetch"); // 1
    t = 2;
    clock.start("load"); // 2: load wins over fetch and compute
    t = 9;
    clock.end("load"); // 9
    t = 10;
    clock.end("fetch"); // fetch 1..2 and 9..10
    t = 13;
    clock.end("compute"); // compute 0..1 and 10..13
    expect(Object.fromEntries(clock.close())).toEqual({ compute: 4, fetch: 2, load: 7 });
  });

  it("should write the phases through hono/timing, also when the handler throws", async () => {
    let t = 100;
    const app = new OpenAPIHono<AppEnv>();
    app.use(timing({ total: false }));
    app.use(phaseTimer({ now: () => t, precision: 2 }));
    app.get("/ok", (c) => {
      const timer = c.get("phaseTimer");
      timer.start("compute");
      timer.start("tokenize");
      t += 1.5;
      timer.end("tokenize");
      t += 2.25;
      timer.end("compute");
      return c.text("ok");
    });
    app.get("/boom", (c) => {
      c.get("phaseTimer").start("fetch");
      t += 4;
      throw new Error("R2 timeout");
    });
    app.onError((_, c) => c.text("failed", 503));
    expect((await app.request("/ok")).headers.get("Server-Timing")).toBe('tokenize;dur=1.50;desc="Tokenize",compute;dur=2.25;desc="Encoder and head (without fetch)"');
    const boom = await app.request("/boom");
    expect(boom.status).toBe(503);
    expect(boom.headers.get("Server-Timing")).toBe('fetch;dur=4.00;desc="Weight fetch (R2 and cache)"');
  });
});

describe("CORS", () => {
  it("should allow any origin by default and expose the useful headers", async () => {
    const { request } = setup();
    const res = await request("/v1/models", { headers: { Origin: "https://app.example" } });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const exposed = (res.headers.get("Access-Control-Expose-Headers") ?? "").split(",");
    expect(exposed).toEqual(expect.arrayContaining(["X-Request-Id", "Server-Timing", "Retry-After", "WWW-Authenticate"]));
    expect(res.headers.get("Timing-Allow-Origin")).toBe("*");
  });

  it("should answer a preflight with methods, headers and max-age", async () => {
    const { request, service } = setup();
    const res = await request("/v1/classify", {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Methods")).toBe("GET,HEAD,POST,OPTIONS");
    expect(res.headers.get("Access-Control-Allow-Headers")).toBe("Authorization,Content-Type,X-Request-Id");
    expect(res.headers.get("Access-Control-Max-Age")).toBe("86400");
    expect(service.calls).toHaveLength(0);
  });

  it("should restrict origins to CORS_ORIGINS when set", async () => {
    const { request } = setup({ CORS_ORIGINS: "https://a.example, https://b.example" });
    const allowed = await request("/healthz", { headers: { Origin: "https://b.example" } });
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://b.example");
    expect(allowed.headers.get("Vary")).toContain("Origin");
    expect(allowed.headers.get("Timing-Allow-Origin")).toBe("https://b.example");
    const denied = await request("/healthz", { headers: { Origin: "https://evil.example" } });
    expect(denied.status).toBe(200);
    expect(denied.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(denied.headers.get("Timing-Allow-Origin")).toBeNull();
  });

  it("should put CORS headers on error responses", async () => {
    const { request } = setup({ API_TOKEN: "t" });
    const res = await request("/v1/models", { headers: { Origin: "https://app.example" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(res.headers.get("X-Request-Id")).toMatch(UUID);
    expect(res.headers.get("Server-Timing")).toContain("total;dur=");
  });
});
