import { describe, expect, it } from "vitest";
import { PROBLEM_TYPE, setup } from "./helpers.ts";

const TOKEN = "s3cret-token_1.2~+/=";

describe("bearer auth on /v1/*", () => {
  it("should be off when API_TOKEN is unset or empty", async () => {
    for (const bindings of [{}, { API_TOKEN: "" }]) {
      const { request } = setup(bindings);
      expect((await request("/v1/models")).status).toBe(200);
    }
  });

  describe("with API_TOKEN set", () => {
    it("should answer 401 with the challenge when the token is missing", async () => {
      const { request, service } = setup({ API_TOKEN: TOKEN });
      const res = await request("/v1/models");
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="ultrafastbert-edge"');
      expect(res.headers.get("Content-Type")).toBe(PROBLEM_TYPE);
      expect(await res.json()).toMatchObject({ status: 401, code: "unauthorized", title: "Unauthorized", request_id: res.headers.get("X-Request-Id") });
      expect(service.calls).toHaveLength(0);
    });

    it.each([["wrong"], [TOKEN.slice(0, -1)], ["x" + TOKEN], [TOKEN.toUpperCase()]])("should answer 401 invalid_token for %j", async (token) => {
      const { request, service } = setup({ API_TOKEN: TOKEN });
      const res = await request("/v1/models", { headers: { Authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token"');
      expect(await res.json()).toMatchObject({ code: "unauthorized", detail: "The bearer token is not valid." });
      expect(service.calls).toHaveLength(0);
    });

    it("should accept the right token, with any case of the scheme", async () => {
      const { request, post } = setup({ API_TOKEN: TOKEN });
      expect((await request("/v1/models", { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await request("/v1/models", { headers: { Authorization: `bearer ${TOKEN}` } })).status).toBe(200);
      expect((await post("/v1/classify", { text: "x" }, { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    });

    it("should treat another scheme as no credentials (RFC 6750 §3.1)", async () => {
      const { request } = setup({ API_TOKEN: TOKEN });
      const res = await request("/v1/models", { headers: { Authorization: `Basic ${btoa(`user:${TOKEN}`)}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="ultrafastbert-edge"');
    });

    it.each([["Bearer "], ["Bearer a b"], ["Bearer tok!en"]])("should answer 400 invalid_authorization for %j", async (header) => {
      const { request } = setup({ API_TOKEN: TOKEN });
      const res = await request("/v1/models", { headers: { Authorization: header } });
      expect(res.status).toBe(400);
      expect(res.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_request"');
      expect(await res.json()).toMatchObject({ code: "invalid_authorization" });
    });

    it("should check the token before the body, its size or the method", async () => {
      const { request, post } = setup({ API_TOKEN: TOKEN });
      expect((await post("/v1/classify", "{broken")).status).toBe(401);
      expect((await post("/v1/classify", JSON.stringify({ text: "a".repeat(100_000) }))).status).toBe(401);
      expect((await request("/v1/classify")).status).toBe(401);
      expect((await request("/v1/classify", { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
    });

    it("should leave /healthz, /openapi.json, unknown routes and CORS preflight open", async () => {
      const { request } = setup({ API_TOKEN: TOKEN });
      expect((await request("/healthz")).status).toBe(200);
      expect((await request("/openapi.json")).status).toBe(200);
      expect((await request("/nope")).status).toBe(404);
      const pre = await request("/v1/classify", {
        method: "OPTIONS",
        headers: { Origin: "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type" },
      });
      expect(pre.status).toBe(204);
    });

    it("should read the token per request from the bindings", async () => {
      const { app, env } = setup();
      const a = await app.request("/v1/models", { headers: { Authorization: "Bearer one" } }, { ...env, API_TOKEN: "one" });
      const b = await app.request("/v1/models", { headers: { Authorization: "Bearer one" } }, { ...env, API_TOKEN: "two" });
      expect([a.status, b.status]).toEqual([200, 401]);
    });
  });
});
