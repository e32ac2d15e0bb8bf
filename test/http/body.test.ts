/** Broken request bodies (issue 11, item 3): the client's fault, answered 400, never a 500 or a log entry. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PROBLEM_TYPE, setup } from "./helpers.ts";

let errors: unknown[][] = [];
beforeEach(() => {
  errors = [];
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void errors.push(a));
});
afterEach(() => vi.restoreAllMocks());

/** A body stream that sends `first` and then fails, as when the client closes the connection mid-body. */
function abortedBody(first: string): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(new TextEncoder().encode(first));
      } else controller.error(new TypeError("Network connection lost."));
    },
  });
}

describe("a body that ends early", () => {
  for (const withLength of [false, true]) {
    it(`answers 400 incomplete_body, logs no error (${withLength ? "with" : "without"} Content-Length)`, async () => {
      const { request, service } = setup();
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (withLength) headers["content-length"] = "40";
      const res = await request("/v1/classify", { method: "POST", headers, body: abortedBody('{"text": "a half-sent'), duplex: "half" } as RequestInit);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toBe(PROBLEM_TYPE);
      const body = (await res.json()) as any;
      expect(body.code).toBe("incomplete_body");
      expect(res.headers.get("retry-after")).toBeNull();
      expect(JSON.stringify(body)).not.toMatch(/Network connection lost|\.ts\b|\bat /);
      expect(errors).toEqual([]);
      expect(service.calls.length).toBe(0);
    });
  }
});

describe("invalid UTF-8 in a JSON body", () => {
  it("answers 400 malformed_json naming UTF-8 and where, instead of replacing the bytes with U+FFFD", async () => {
    const { request, service } = setup();
    const prefix = new TextEncoder().encode('{"text": "caf');
    const bytes = new Uint8Array([...prefix, 0xc3, 0x28, ...new TextEncoder().encode('"}')]); // 0xC3 0x28: not UTF-8
    const res = await request("/v1/classify", { method: "POST", headers: { "content-type": "application/json" }, body: bytes });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.code).toBe("malformed_json");
    expect(body.detail).toMatch(/UTF-8/);
    expect(body.detail).toContain(`offset ${prefix.length}`);
    expect(res.headers.get("content-type")).toBe(PROBLEM_TYPE);
    expect(res.headers.get("retry-after")).toBeNull();
    expect(errors).toEqual([]);
    expect(service.calls.length).toBe(0);
  });

  it("still accepts valid multi-byte UTF-8", async () => {
    const { post } = setup();
    expect((await post("/v1/classify", { text: "café 😀 naïve" })).status).toBe(200);
  });
});
