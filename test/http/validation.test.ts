import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/http/limits.ts";
import { Problem } from "../../src/http/schemas.ts";
import { codePoints } from "../../src/http/texts.ts";
import { PROBLEM_TYPE, setup } from "./helpers.ts";

async function problem(res: Response) {
  expect(res.headers.get("Content-Type")).toBe(PROBLEM_TYPE);
  return Problem.parse(await res.json());
}

describe("request validation", () => {
  describe("400 malformed_json", () => {
    it.each([
      ["truncated", '{"text": "a'],
      ["trailing comma", '{"text": "a",}'],
      ["single quotes", "{'text': 'a'}"],
      ["empty body", ""],
    ])("should answer 400 for a %s body", async (_, raw) => {
      const { post, service } = setup();
      const res = await post("/v1/classify", raw);
      expect(res.status).toBe(400);
      const p = await problem(res);
      expect(p.code).toBe("malformed_json");
      expect(p.title).toBe("Malformed JSON");
      expect(p.type).toBe("tag:ultrafastbert-edge,2026:problem/malformed_json");
      expect(p.request_id).toBe(res.headers.get("X-Request-Id"));
      expect(service.calls).toHaveLength(0);
    });

    it("should say where the JSON breaks", async () => {
      const { post } = setup();
      const p = await problem(await post("/v1/classify", '{"text": }'));
      expect(p.detail).toMatch(/^The request body is not valid JSON: Unexpected token '\}'.*[^.]\.$/);
    });
  });

  describe("400 invalid_request", () => {
    it.each([
      ["text is a number", { text: 3 }, "#/text", /expected string/],
      ["texts is a string", { texts: "a" }, "#/texts", /expected array/],
      ["texts has a number", { texts: ["a", 2] }, "#/texts/1", /texts\[1\]: .*expected string/],
      ["top_k is 0", { text: "a", top_k: 0 }, "#/top_k", />=1/],
      ["top_k is fractional", { text: "a", top_k: 1.5 }, "#/top_k", /expected int/],
      ["explain is a string", { text: "a", explain: "yes" }, "#/explain", /expected boolean/],
      ["model has a slash", { text: "a", model: "../etc" }, "#/model", /letters, digits/],
      ["model is empty", { text: "a", model: "" }, "#/model", /letters, digits/],
      ["an unknown field", { text: "a", topk: 3 }, "#/topk", /^topk: unknown field/],
      ["both text and texts", { text: "a", texts: ["b"] }, "#", /exactly one of `text`/],
      ["neither text nor texts", { model: "sst2-tiny" }, "#", /exactly one of `text`/],
      ["an array body", ["a"], "#", /expected object/],
      ["a null body", null, "#", /expected object/],
    ])("should answer 400 when %s", async (_, body, pointer, message) => {
      const { post, service } = setup();
      const res = await post("/v1/classify", body);
      expect(res.status).toBe(400);
      const p = await problem(res);
      expect(p.code).toBe("invalid_request");
      expect(p.errors?.[0].pointer).toBe(pointer);
      expect(p.errors?.[0].detail).toMatch(message);
      expect(p.detail).toMatch(message);
      expect(service.calls).toHaveLength(0);
    });

    it("should list every invalid field", async () => {
      const { post } = setup();
      const p = await problem(await post("/v1/classify", { texts: [1, "a", 2], top_k: -1 }));
      expect(p.errors?.map((e) => e.pointer)).toEqual(["#/texts/0", "#/texts/2", "#/top_k"]);
      expect(p.detail).toContain("(and 2 more; see errors)");
    });
  });

  describe("415 unsupported_media_type", () => {
    it.each([
      ["form encoding (curl -d)", "application/x-www-form-urlencoded"],
      ["text/plain", "text/plain"],
    ])("should answer 415 for %s", async (_, type) => {
      const { post } = setup();
      const res = await post("/v1/classify", { text: "a" }, { "Content-Type": type });
      expect(res.status).toBe(415);
      const p = await problem(res);
      expect(p.code).toBe("unsupported_media_type");
      expect(p.detail).toContain(type);
    });

    it("should answer 415 without a Content-Type", async () => {
      const { request } = setup();
      const res = await request("/v1/embed", { method: "POST", body: new TextEncoder().encode('{"text":"a"}') });
      expect(res.status).toBe(415);
      expect((await problem(res)).detail).toContain("no Content-Type");
    });

    it("should accept JSON with a charset and +json media types", async () => {
      const { post } = setup();
      expect((await post("/v1/classify", { text: "a" }, { "Content-Type": "application/json; charset=utf-8" })).status).toBe(200);
      expect((await post("/v1/classify", { text: "a" }, { "Content-Type": "application/vnd.api+json" })).status).toBe(200);
    });
  });

  describe("413 payload_too_large", () => {
    const big = JSON.stringify({ text: "a".repeat(LIMITS.maxBodyBytes) });

    it("should answer 413 on Content-Length before reading the body", async () => {
      const { post, service } = setup();
      const res = await post("/v1/classify", big);
      expect(res.status).toBe(413);
      expect((await problem(res)).code).toBe("payload_too_large");
      expect(service.calls).toHaveLength(0);
    });

    it("should answer 413 for a streamed body without Content-Length", async () => {
      const { request } = setup();
      const bytes = new TextEncoder().encode(big);
      const body = new ReadableStream<Uint8Array>({
        start(ctrl) {
          for (let i = 0; i < bytes.length; i += 4096) ctrl.enqueue(bytes.subarray(i, i + 4096));
          ctrl.close();
        },
      });
      const res = await request("/v1/classify", { method: "POST", headers: { "Content-Type": "application/json" }, body });
      expect(res.status).toBe(413);
      expect((await problem(res)).code).toBe("payload_too_large");
    });

    it("should accept a body just under the limit", async () => {
      const { post } = setup();
      const text = "a ".repeat((LIMITS.maxTextChars - 2) / 2);
      const body = JSON.stringify({ texts: Array.from({ length: 7 }, () => text) });
      expect(body.length).toBeLessThan(LIMITS.maxBodyBytes);
      expect((await post("/v1/classify", body)).status).toBe(200);
    });
  });

  describe("422 texts", () => {
    it("should answer 422 no_texts for an empty texts array", async () => {
      const { post, service } = setup();
      const res = await post("/v1/classify", { texts: [] });
      expect(res.status).toBe(422);
      const p = await problem(res);
      expect(p.code).toBe("no_texts");
      expect(p.errors).toEqual([{ pointer: "#/texts", detail: "must contain at least 1 text" }]);
      expect(service.calls).toHaveLength(0);
    });

    it(`should answer 422 too_many_texts above ${LIMITS.maxTexts} texts, and accept exactly ${LIMITS.maxTexts}`, async () => {
      const { post, service } = setup();
      const ok = await post("/v1/embed", { texts: Array.from({ length: LIMITS.maxTexts }, (_, i) => `t${i}`) });
      expect(ok.status).toBe(200);
      const res = await post("/v1/embed", { texts: Array.from({ length: LIMITS.maxTexts + 1 }, (_, i) => `t${i}`) });
      expect(res.status).toBe(422);
      const p = await problem(res);
      expect(p.code).toBe("too_many_texts");
      expect(p.detail).toBe(`texts has ${LIMITS.maxTexts + 1} items; at most ${LIMITS.maxTexts} are allowed per request.`);
      expect(service.calls).toHaveLength(1);
    });

    it("should answer 422 empty_text with every offending index", async () => {
      const { post, service } = setup();
      const res = await post("/v1/fill-mask", { texts: ["[MASK] ok", "", "fine", " \n\t "] });
      expect(res.status).toBe(422);
      const p = await problem(res);
      expect(p.code).toBe("empty_text");
      expect(p.errors).toEqual([
        { pointer: "#/texts/1", detail: "texts[1] is empty or only whitespace" },
        { pointer: "#/texts/3", detail: "texts[3] is empty or only whitespace" },
      ]);
      expect(p.detail).toContain("texts[1]");
      expect(service.calls).toHaveLength(0);
    });

    it("should answer 422 empty_text for a single empty text", async () => {
      const { post } = setup();
      const p = await problem(await post("/v1/classify", { text: "" }));
      expect(p).toMatchObject({ status: 422, code: "empty_text", errors: [{ pointer: "#/text", detail: "text is empty or only whitespace" }] });
    });

    it("should answer 422 text_too_long, counting code points", async () => {
      const { post } = setup();
      // 8192 emoji = 16384 UTF-16 units but 8192 characters: allowed
      const emoji = "😀".repeat(LIMITS.maxTextChars);
      expect(codePoints(emoji)).toBe(LIMITS.maxTextChars);
      expect((await post("/v1/classify", { text: emoji })).status).toBe(200);
      const res = await post("/v1/classify", { texts: ["ok", "b".repeat(LIMITS.maxTextChars + 1)] });
      expect(res.status).toBe(422);
      const p = await problem(res);
      expect(p.code).toBe("text_too_long");
      expect(p.errors).toEqual([{ pointer: "#/texts/1", detail: `texts[1] has ${LIMITS.maxTextChars + 1} characters; at most ${LIMITS.maxTextChars} are allowed` }]);
    });
  });
});
