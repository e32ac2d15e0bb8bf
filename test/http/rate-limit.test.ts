/**
 * Abuse limits: several API tokens at once (rotation) and rate limiting through the Workers rate-limiting
 * binding. The limiter is a stand-in that implements the binding's interface (`limit({ key })` →
 * `{ success }`) with its own fixed-window count, so the test decides independently what must pass.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { limitKey } from "../../src/middleware/rate-limit/index.ts";
import { PROBLEM_TYPE, setup } from "./helpers.ts";

/** A fixed window of `limit` requests per key that never ends (the test runs inside one window). */
class StandInLimiter implements RateLimit {
  readonly keys: string[] = [];
  private readonly counts = new Map<string, number>();
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  async limit({ key }: RateLimitOptions): Promise<RateLimitOutcome> {
    this.keys.push(key);
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return { success: n <= this.max };
  }
}

describe("rate limiting", () => {
  it("is off in the test runtime (vitest.config.ts) although wrangler.toml's binding exists", async () => {
    expect((env as { RATE_LIMIT?: string }).RATE_LIMIT).toBe("off");
    const { post } = setup({ RATE_LIMITER: new StandInLimiter(0) });
    expect((await post("/v1/classify", { text: "fine" })).status).toBe(200);
    // with neither the switch nor a binding: not limited either
    const open = setup({ RATE_LIMITER: undefined, RATE_LIMIT: "on" });
    expect((await open.post("/v1/classify", { text: "fine" })).status).toBe(200);
  });

  it("answers 429 rate_limited with Retry-After once a client address is over its limit (open API)", async () => {
    const limiter = new StandInLimiter(3);
    const errors = vi.spyOn(console, "error");
    const { post, service } = setup({ RATE_LIMIT: "on", RATE_LIMITER: limiter, RATE_LIMIT_PERIOD_S: "10" });
    const from = (ip: string) => post("/v1/classify", { text: "fine" }, { "CF-Connecting-IP": ip });
    for (let i = 0; i < 3; i++) expect((await from("203.0.113.7")).status).toBe(200);
    const res = await from("203.0.113.7");
    expect(res.status).toBe(429);
    expect(res.headers.get("Content-Type")).toBe(PROBLEM_TYPE);
    expect(res.headers.get("Retry-After")).toBe("10");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 429, code: "rate_limited", title: "Too many requests", request_id: res.headers.get("X-Request-Id") });
    expect(body.detail).toContain("client address");
    expect(errors).not.toHaveBeenCalled(); // the client's doing, not logged as an error
    errors.mockRestore();
    // another address has its own counter
    expect((await from("198.51.100.1")).status).toBe(200);
    // the limited request never reached the service
    expect(service.calls).toHaveLength(4);
    expect(new Set(limiter.keys)).toEqual(new Set(["ip:203.0.113.7", "ip:198.51.100.1"]));
  });

  it("counts per API token, never by the token itself, and checks the token first", async () => {
    const limiter = new StandInLimiter(2);
    const { post } = setup({ RATE_LIMIT: "on", RATE_LIMITER: limiter, API_TOKENS: "old-key,new-key" });
    const as = (token: string, ip = "203.0.113.9") => post("/v1/classify", { text: "fine" }, { Authorization: `Bearer ${token}`, "CF-Connecting-IP": ip });
    expect((await as("old-key")).status).toBe(200);
    expect((await as("old-key", "198.51.100.2")).status).toBe(200); // same token from elsewhere: same counter
    const limited = await as("old-key");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("60"); // the default period
    expect(await limited.text()).not.toContain("old-key");
    expect((await as("new-key")).status).toBe(200);
    // a wrong token is 401 and does not get a counter
    expect((await as("guess")).status).toBe(401);
    expect(limiter.keys).toHaveLength(4);
    for (const k of limiter.keys) {
      expect(k).toMatch(/^token:[0-9a-f]{32}$/);
      expect(k).not.toContain("key");
    }
    expect(new Set(limiter.keys).size).toBe(2);
  });

  it("limits the compatible routes too, in their own error shape", async () => {
    const { post } = setup({ RATE_LIMIT: "on", RATE_LIMITER: new StandInLimiter(0) });
    const res = await post("/v1/embeddings", { input: "x", model: "m" });
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toBe("60");
    expect(await res.json()).toMatchObject({ error: { type: "rate_limit_error" } });
  });

  it("does not limit /healthz or /openapi.json", async () => {
    const { request } = setup({ RATE_LIMIT: "on", RATE_LIMITER: new StandInLimiter(0) });
    expect((await request("/healthz")).status).toBe(200);
    expect((await request("/openapi.json")).status).toBe(200);
  });

  it("keys: a token's key is a hash of it; the address otherwise", async () => {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("abc")));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    expect(await limitKey("Bearer abc", "1.2.3.4", true)).toBe("token:" + hex.slice(0, 32));
    expect(await limitKey("Bearer abc", "1.2.3.4", false)).toBe("ip:1.2.3.4");
    expect(await limitKey(undefined, undefined, false)).toBe("ip:unknown");
  });
});

describe("several API tokens (rotation)", () => {
  it("accepts each of API_TOKENS and API_TOKEN, and nothing else", async () => {
    const { request } = setup({ API_TOKENS: " first , second,,", API_TOKEN: "third" });
    const get = (t: string) => request("/v1/models", { headers: { Authorization: `Bearer ${t}` } });
    for (const t of ["first", "second", "third"]) expect((await get(t)).status).toBe(200);
    for (const t of ["firs", "secondthird", "first.second", "fourth"]) {
      const res = await get(t);
      expect(res.status).toBe(401);
      const text = await res.text();
      for (const secret of ["first", "second", "third"]) expect(text).not.toContain(secret);
    }
    expect((await request("/v1/models")).status).toBe(401);
  });

  it("is off when API_TOKENS holds only blanks and API_TOKEN is unset", async () => {
    const { request } = setup({ API_TOKENS: " , ,", API_TOKEN: "" });
    expect((await request("/v1/models")).status).toBe(200);
  });
});

describe("GET /healthz?verbose=1 with API tokens", () => {
  it("needs the token for the memory block, not for plain liveness", async () => {
    const { request } = setup({ API_TOKENS: "k1" });
    expect((await request("/healthz")).status).toBe(200);
    expect((await request("/healthz?verbose=1")).status).toBe(401);
    const res = await request("/healthz?verbose=1", { headers: { Authorization: "Bearer k1" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", memory: { models: [], isolateLimitBytes: 128 * 1024 * 1024 } });
  });
});
