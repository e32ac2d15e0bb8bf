import { HTTPException } from "hono/http-exception";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app.ts";
import { toProblem } from "../../src/http/errors.ts";
import { PROBLEMS, type ProblemCode } from "../../src/http/problem.ts";
import { Problem } from "../../src/http/schemas.ts";
import { UfbError, type ErrorCode } from "../../src/errors.ts";
import { PROBLEM_TYPE, setup } from "./helpers.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

const SERVICE_STATUS: [ErrorCode & ProblemCode, number][] = [
  ["model_not_found", 404],
  ["invalid_input", 422],
  ["unsupported_task", 422],
  ["weights_unavailable", 503],
  ["weights_corrupt", 502],
];

describe("service errors → problem+json", () => {
  for (const [route, body] of [
    ["/v1/classify", { text: "x" }],
    ["/v1/embed", { text: "x" }],
    ["/v1/fill-mask", { text: "[MASK]" }],
  ] as const) {
    it.each(SERVICE_STATUS)(`${route}: should map %s to %i`, async (code, status) => {
      const log = vi.spyOn(console, "error").mockImplementation(() => {});
      const { post, service } = setup();
      service.fail = code;
      const res = await post(route, body);
      expect(res.status).toBe(status);
      expect(res.headers.get("Content-Type")).toBe(PROBLEM_TYPE);
      const p = Problem.parse(await res.json());
      expect(p).toEqual({
        type: `tag:ultrafastbert-edge,2026:problem/${code}`,
        title: PROBLEMS[code].title,
        status,
        // 4xx: the thrown message (written for the client); 5xx: the table's public message (the thrown one is logged)
        detail: status >= 500 ? (PROBLEMS[code] as { message: string }).message : `fake ${code}`,
        code,
        request_id: res.headers.get("X-Request-Id"),
      });
      // 5xx are logged with the cause; 4xx are the client's business
      expect(log).toHaveBeenCalledTimes(status >= 500 ? 1 : 0);
    });
  }

  it("should add Retry-After to 503 only", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { post, service } = setup();
    service.fail = "weights_unavailable";
    expect((await post("/v1/classify", { text: "x" })).headers.get("Retry-After")).toBe("5");
    service.fail = "weights_corrupt";
    expect((await post("/v1/classify", { text: "x" })).headers.get("Retry-After")).toBeNull();
  });

  it("should map a failing service factory (async) like the service", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const app = createApp({ service: async () => Promise.reject(new UfbError("weights_unavailable", "no model configured")) });
    const res = await app.request("/v1/models", {}, {});
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "weights_unavailable", detail: PROBLEMS.weights_unavailable.message });
  });
});

describe("unexpected errors", () => {
  it("should answer 500 without the message or stack, and log both", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const { post, service } = setup();
    service.fail = "crash";
    const res = await post("/v1/classify", { text: "x" }, { "X-Request-Id": "req-500" });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("deadbeef");
    expect(text).not.toContain("fake-service");
    expect(text).not.toMatch(/\bat \S+ \(/);
    expect(JSON.parse(text)).toEqual({
      type: "tag:ultrafastbert-edge,2026:problem/internal_error",
      title: "Internal server error",
      status: 500,
      detail: "An unexpected error occurred; quote the request id when reporting it.",
      code: "internal_error",
      request_id: "req-500",
    });
    expect(log).toHaveBeenCalledTimes(1);
    const [line, err] = log.mock.calls[0];
    expect(line).toBe("[req-500] POST /v1/classify → 500 internal_error");
    expect((err as Error).message).toBe("kernel exploded at 0xdeadbeef");
  });

  it("should not leak a thrown non-Error value", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const app = createApp({
      service: () => {
        throw "secret string";
      },
    });
    const res = await app.request("/v1/models", { headers: { Origin: "https://a.example" } }, {});
    expect(res.status).toBe(500);
    expect(res.headers.get("Content-Type")).toBe(PROBLEM_TYPE);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const body = await res.text();
    expect(body).not.toContain("secret");
    expect(JSON.parse(body)).toMatchObject({ code: "internal_error", request_id: res.headers.get("X-Request-Id") });
  });
});

describe("unknown routes and methods", () => {
  // GET / is the playground page (test/worker/playground.test.ts); a file that is not there is a 404
  it.each([
    ["GET", "/no-such-page.html"],
    ["GET", "/v1"],
    ["GET", "/v1/classify/extra"],
    ["POST", "/v2/classify"],
    ["GET", "/healthz/"],
  ])("should answer 404 not_found for %s %s", async (method, path) => {
    const { request } = setup();
    const res = await request(path, { method });
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toBe(PROBLEM_TYPE);
    expect(await res.json()).toMatchObject({ code: "not_found", status: 404, detail: `No route for ${method} ${path}.` });
  });

  it.each([
    ["GET", "/v1/classify", "POST"],
    ["PUT", "/v1/embed", "POST"],
    ["DELETE", "/v1/fill-mask", "POST"],
    ["POST", "/v1/models", "GET, HEAD"],
    ["POST", "/healthz", "GET, HEAD"],
    ["DELETE", "/openapi.json", "GET, HEAD"],
  ])("should answer 405 for %s %s with Allow: %s", async (method, path, allow) => {
    const { request, service } = setup();
    const res = await request(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe(allow);
    expect(res.headers.get("Content-Type")).toBe(PROBLEM_TYPE);
    expect(await res.json()).toMatchObject({ code: "method_not_allowed", status: 405 });
    expect(service.calls).toHaveLength(0);
  });
});

describe("toProblem", () => {
  it("should keep bearerAuth's challenge (trap 1)", () => {
    const res = new Response(null, { status: 401, headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } });
    const p = toProblem(new HTTPException(401, { res }));
    expect(p.code).toBe("unauthorized");
    expect(p.headers["WWW-Authenticate"]).toBe('Bearer error="invalid_token"');
  });

  it("should map Hono's malformed-JSON exception and its 415", () => {
    expect(toProblem(new HTTPException(400, { message: "Malformed JSON in request body" })).code).toBe("malformed_json");
    expect(toProblem(new HTTPException(415, { message: "Unsupported Media Type" })).code).toBe("unsupported_media_type");
  });

  it("should recognise a UfbError from another module copy by name and code", () => {
    const e = Object.assign(new Error("gone"), { name: "UfbError", code: "weights_corrupt" });
    expect(toProblem(e)).toMatchObject({ code: "weights_corrupt", status: 502, message: "gone", detail: PROBLEMS.weights_corrupt.message });
    const other = Object.assign(new Error("x"), { name: "UfbError", code: "made_up" });
    expect(toProblem(other).code).toBe("internal_error");
  });
});
