/**
 * A seeded HTTP fuzzer for the Worker's API: generates requests (methods, paths, headers, bodies that are
 * broken in the ways clients break them) and checks every answer against the API's promises
 * (docs/api.md): never a 5xx, never a stack, internal path or "Error:" in a body, every native error is
 * application/problem+json with a `code`, every compatible-route error is its API's JSON error body, and
 * never a 200 for a text that has no content token.
 *
 * Plain web-standard code (no Node, no Worker globals): `npm run fuzz` (scripts/fuzz.ts) drives a URL with
 * it, and test/worker/fuzz.test.ts runs a fixed-seed subset against the app inside workerd. The same seed
 * gives the same requests, so a defect is reproduced with `--seed S --only I`.
 */

import { mulberry32 as rng } from "../../src/cli/random.ts";

/** mulberry32 (src/cli/random.ts): small, fast, good enough for test-case choice. */
export { rng };

export interface FuzzCase {
  index: number;
  /** What the generator meant to break (the defect report groups by it). */
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Bytes, or a stream that fails part-way (a client that closes mid-body; in-process runs only). */
  body?: Uint8Array | "abort-mid-body";
  /** Every text of the body has no content token: a 200 from an inference route is a defect. */
  noContent?: boolean;
}

export interface FuzzOptions {
  /** Also generate bodies that fail part-way (a ReadableStream that errors); over a real socket that is the client's own failure. */
  abortBodies?: boolean;
}

/** Inference routes whose 200 would mean a text was classified or embedded. */
const INFERENCE = ["/v1/classify", "/v1/embed", "/predict", "/embed", "/v1/embeddings"];
const NATIVE_POST = ["/v1/classify", "/v1/embed", "/v1/fill-mask"];
const COMPAT_POST = ["/embed", "/predict", "/tokenize", "/v1/embeddings", "/models/default", "/models/default/pipeline/feature-extraction", "/ai/run/@cf/ufb/default"];
const GETS = ["/healthz", "/healthz?verbose=1", "/healthz?verbose=2", "/openapi.json", "/v1/models", "/v1/models/default", "/v1/models/nope", "/info"];
const JUNK_PATHS = ["/", "/v1", "/v1/", "/v1/classify/", "/v1//classify", "/v1/classify?x=%ZZ", "/%2e%2e/%2e%2e/etc/passwd", "/v1/models/%00", "/v1/models/" + "a".repeat(3000), "/ai/run/", "/models//", "/v2/classify", "/V1/CLASSIFY", "/v1/classify%20"];

/** Texts with no content token: whitespace, zero-width and format characters, controls, lone surrogates. */
const NO_CONTENT = ["\u200b", "\u200b\u200c\u200d\ufeff", "\u2060\u2061", " \t\n\r ", "\u0000\u0001\u001f", "\ud800", "\udfff\ud800", "\u00ad", "\u202e\u202d", "\u180e", "\ufe0f\ufe0f"];
/** Texts with content and the unicode a tokenizer must survive. */
const CONTENT = [
  "a warm, funny and moving film",
  "dull",
  "ok 👍🏽 👨‍👩‍👧",
  "e\u0301e\u0301 combining",
  "مرحبا بالعالم",
  "日本語のテキスト",
  "x".repeat(8192),
  "word ".repeat(600),
  "[MASK] is great",
  "The movie was [MASK].",
  "\u0000 null inside",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
  "a\ud800b",
];
const WEIRD_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, "", " ", [], {}, [[]], [null], [1, 2], { text: "x" }, "9".repeat(400)];
const FIELDS = ["text", "texts", "inputs", "input", "top_k", "explain", "model", "normalize", "truncate", "encoding_format", "dimensions", "user", "parameters", "raw_scores", "__proto__", "constructor"];

const enc = new TextEncoder();

export function generateCase(seed: number, index: number, options: FuzzOptions = {}): FuzzCase {
  const r = rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const json = (v: unknown) => enc.encode(JSON.stringify(v));
  const post = (path: string, body: Uint8Array | "abort-mid-body", kind: string, extra: Partial<FuzzCase> = {}): FuzzCase => ({
    index,
    kind,
    method: "POST",
    path,
    headers: { "content-type": "application/json" },
    body,
    ...extra,
  });
  const anyPost = () => pick(r() < 0.6 ? NATIVE_POST : COMPAT_POST);
  const textBody = (path: string, text: unknown): unknown => {
    if (path === "/v1/embeddings") return { input: text, model: "default" };
    if (path.startsWith("/models/") || path === "/embed" || path === "/predict" || path === "/tokenize" || path.startsWith("/ai/run/")) {
      return path.startsWith("/ai/run/") ? { text } : { inputs: text };
    }
    return r() < 0.5 ? { text } : { texts: Array.isArray(text) ? text : [text] };
  };

  const kinds = [
    "valid",
    "no-content",
    "mixed-content",
    "wrong-types",
    "unknown-fields",
    "deep-nesting",
    "huge-numbers",
    "invalid-utf8",
    "truncated-json",
    "wrong-content-type",
    "oversize",
    "empty-body",
    "random-bytes",
    "method",
    "path",
    "headers",
    "get",
    ...(options.abortBodies ? ["abort-mid-body"] : []),
  ] as const;
  const kind = pick(kinds);
  const path = anyPost();
  switch (kind) {
    case "valid": {
      const texts = Array.from({ length: 1 + Math.floor(r() * 4) }, () => pick(CONTENT));
      const body = textBody(path, texts.length === 1 ? texts[0] : texts) as Record<string, unknown>;
      if (r() < 0.3 && NATIVE_POST.includes(path)) body.top_k = Math.floor(r() * 5);
      return post(path, json(body), kind);
    }
    case "no-content": {
      // joined with a space: "\ud800" + "\udfff" would make a valid surrogate pair, a real character
      const texts = Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(NO_CONTENT) + (r() < 0.5 ? " " + pick(NO_CONTENT) : ""));
      return post(path, json(textBody(path, texts.length === 1 ? texts[0] : texts)), kind, { noContent: INFERENCE.includes(path) });
    }
    case "mixed-content":
      return post(path, json(textBody(path, [pick(CONTENT), pick(NO_CONTENT)])), kind);
    case "wrong-types": {
      const field = pick(FIELDS);
      return post(path, json(r() < 0.3 ? pick(WEIRD_VALUES) : { [field]: pick(WEIRD_VALUES) }), kind);
    }
    case "unknown-fields": {
      const body = textBody(path, pick(CONTENT)) as Record<string, unknown>;
      body[pick(["extra", "Text", "TEXTS", "texts ", "__proto__", "prototype", "x".repeat(300)])] = pick(WEIRD_VALUES);
      // a duplicated key, written by hand (JSON.stringify cannot)
      const text = JSON.stringify(body);
      return post(path, enc.encode(r() < 0.3 ? text.replace(/^\{/, '{"text":1,') : text), kind);
    }
    case "deep-nesting": {
      const depth = pick([64, 256, 1000, 5000, 20000]);
      const open = r() < 0.5 ? "[" : '{"a":';
      const close = open === "[" ? "]" : "}";
      const inner = open.repeat(depth) + "1" + close.repeat(depth);
      return post(path, enc.encode(r() < 0.5 ? `{"text":${inner}}` : inner), kind);
    }
    case "huge-numbers": {
      const num = pick(["1e400", "-1e400", "123456789012345678901234567890", "1.7976931348623157e309", "0.0000000000000000000000001", "-0", "1E+2", "9".repeat(5000)]);
      const field = pick(["top_k", "text", "texts", "dimensions", "truncate"]);
      return post(path, enc.encode(`{"text":"fine","${field}":${num}}`), kind);
    }
    case "invalid-utf8": {
      const bad = pick([[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf], [0xfe, 0xff]]);
      const head = enc.encode('{"text":"ab');
      const tail = enc.encode('cd"}');
      const b = new Uint8Array(head.length + bad.length + tail.length);
      b.set(head);
      b.set(bad, head.length);
      b.set(tail, head.length + bad.length);
      return post(path, b, kind);
    }
    case "truncated-json": {
      const full = JSON.stringify(textBody(path, [pick(CONTENT), pick(CONTENT)]));
      return post(path, enc.encode(full.slice(0, Math.floor(r() * full.length))), kind);
    }
    case "wrong-content-type": {
      const c = post(path, json(textBody(path, pick(CONTENT))), kind);
      const ct = pick(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", "application/jsonx", "", "application/problem+json", "*/*"]);
      if (ct === "") delete c.headers["content-type"];
      else c.headers["content-type"] = ct;
      return c;
    }
    case "oversize": {
      const n = pick([65 * 1024, 70 * 1024, 300 * 1024]);
      return post(path, json(textBody(path, "a ".repeat(n / 2))), kind);
    }
    case "empty-body":
      return post(path, new Uint8Array(0), kind);
    case "random-bytes":
      return post(path, Uint8Array.from({ length: Math.floor(r() * 512) }, () => Math.floor(r() * 256)), kind);
    case "method":
      return { index, kind, method: pick(["PUT", "DELETE", "PATCH", "GET", "OPTIONS", "HEAD"]), path: pick([...NATIVE_POST, ...COMPAT_POST, ...GETS]), headers: { "content-type": "application/json" }, body: undefined };
    case "path":
      return { index, kind, method: pick(["GET", "POST"]), path: pick(JUNK_PATHS), headers: { "content-type": "application/json" }, body: undefined };
    case "headers": {
      const c = post(path, json(textBody(path, pick(CONTENT))), kind);
      const [k, v] = pick([
        ["authorization", "Bearer"],
        ["authorization", "Bearer " + "a".repeat(5000)],
        ["authorization", "Basic Zm9vOmJhcg=="],
        ["authorization", "Bearer tok en"],
        ["x-request-id", "x".repeat(300)],
        ["x-request-id", "../../etc"],
        ["origin", "https://evil.example"],
        ["accept", "text/html"],
        // (no content-length that differs from the body: fetch clients refuse to send it)
        ["content-encoding", "gzip"],
        // (no transfer-encoding: fetch clients refuse to send it, so it never reaches the Worker)
        ["content-type", "application/json; charset=utf-16"],
      ] as const);
      c.headers[k] = v;
      return c;
    }
    case "get":
      return { index, kind, method: "GET", path: pick(GETS), headers: {}, body: undefined };
    case "abort-mid-body":
      return post(path, "abort-mid-body", kind);
  }
  throw new Error(`fuzz: no generator for ${String(kind)}`);
}

/** The stream of an "abort-mid-body" case: a few bytes of JSON, then an error, as a client that closes. */
export function abortingBody(): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(enc.encode('{"texts":["a warm'));
      } else controller.error(new Error("client closed the connection"));
    },
  });
}

/** A Request for a case against a base URL. */
export function toRequest(c: FuzzCase, base: string): Request {
  const init: RequestInit & { duplex?: "half" } = { method: c.method, headers: c.headers };
  if (c.body !== undefined && c.method !== "GET" && c.method !== "HEAD") {
    init.body = c.body === "abort-mid-body" ? abortingBody() : (c.body as Uint8Array<ArrayBuffer>);
    if (c.body === "abort-mid-body") init.duplex = "half";
  }
  return new Request(new URL(c.path, base), init);
}

/** Patterns that must never reach a client: a stack frame, a source path, an Error's toString. */
const LEAKS: [string, RegExp][] = [
  ["stack frame", /\n\s+at [^\n]+\(?[^\n]*:\d+:\d+/],
  ["source path", /(?:\/(?:src|node_modules|work|home|root|tmp|Users)\/[\w.-]+)|(?:[\w-]+\.(?:ts|js|mjs):\d+)/],
  ['"Error:"', /\b(?:Type|Range|Syntax|Reference)?Error: /],
];

export interface Defect {
  index: number;
  kind: string;
  class: string;
  detail: string;
}

/** The defects one answer shows (none when it keeps every promise). */
export function checkResponse(c: FuzzCase, status: number, headers: Headers, body: string): Defect[] {
  const out: Defect[] = [];
  const d = (cls: string, detail: string) => out.push({ index: c.index, kind: c.kind, class: cls, detail: `${c.method} ${c.path.slice(0, 80)} → ${status}: ${detail}` });
  if (status >= 500) d("5xx", body.slice(0, 200));
  for (const [name, re] of LEAKS) {
    // /openapi.json documents the API (its text may say "Error:" in descriptions); it is not an error body
    if (c.path.startsWith("/openapi.json") && status === 200) break;
    const m = re.exec(body);
    if (m) d(`leak: ${name}`, JSON.stringify(m[0]));
  }
  const type = (headers.get("content-type") ?? "").split(";")[0]!.trim();
  if (status >= 400 && c.method !== "HEAD") {
    const route = c.path.split("?")[0]!;
    const compat = /^\/(embed|predict|tokenize|info|v1\/embeddings)$/.test(route) || /^\/(models|ai\/run)\//.test(route);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      d("error body not JSON", body.slice(0, 120));
    }
    if (parsed !== undefined) {
      const p = parsed as Record<string, unknown>;
      if (compat) {
        if (type !== "application/json" && type !== "application/problem+json") d("compat error content-type", type);
        if (!("error" in p) && !("errors" in p) && !("code" in p)) d("compat error without error", body.slice(0, 120));
      } else {
        if (type !== "application/problem+json") d("error not problem+json", type || "(none)");
        if (typeof p.code !== "string" || p.code === "") d("problem without code", body.slice(0, 120));
        if (p.status !== status) d("problem status differs", `${String(p.status)} vs ${status}`);
      }
    }
  }
  if (c.noContent && status === 200) d("200 for a text without content", body.slice(0, 120));
  if (status === 429 && !headers.get("retry-after")) d("429 without Retry-After", "");
  return out;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  /** Defect class → count and the first few examples. */
  defects: Record<string, { count: number; examples: Defect[] }>;
  /** Requests that got no answer (a reset or a client-side failure), by message. */
  failures: Record<string, number>;
}

export function newReport(seed: number): FuzzReport {
  return { seed, cases: 0, byStatus: {}, byKind: {}, defects: {}, failures: {} };
}

export function record(report: FuzzReport, c: FuzzCase, status: number | undefined, defects: Defect[], failure?: string): void {
  report.cases++;
  report.byKind[c.kind] = (report.byKind[c.kind] ?? 0) + 1;
  if (status !== undefined) report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
  if (failure !== undefined) report.failures[failure] = (report.failures[failure] ?? 0) + 1;
  for (const x of defects) {
    const e = (report.defects[x.class] ??= { count: 0, examples: [] });
    e.count++;
    if (e.examples.length < 3) e.examples.push(x);
  }
}

/** Runs cases [from, to) of a seed through `send` (at `concurrency` at once) and returns the report. */
export async function runFuzz(
  seed: number,
  n: number,
  send: (c: FuzzCase) => Promise<Response>,
  o: { concurrency?: number; options?: FuzzOptions; only?: number; expectFailure?: (c: FuzzCase) => boolean } = {},
): Promise<FuzzReport> {
  const report = newReport(seed);
  const indices = o.only !== undefined ? [o.only] : Array.from({ length: n }, (_, i) => i);
  let next = 0;
  const worker = async () => {
    while (next < indices.length) {
      const c = generateCase(seed, indices[next++]!, o.options);
      let res: Response;
      try {
        res = await send(c);
      } catch (err) {
        // a client whose own body stream fails may not get an answer: that is the client's failure, not ours
        if (o.expectFailure?.(c)) record(report, c, undefined, []);
        else record(report, c, undefined, [{ index: c.index, kind: c.kind, class: "no answer", detail: String(err).slice(0, 120) }], String(err).slice(0, 80));
        continue;
      }
      const text = await res.text();
      record(report, c, res.status, checkResponse(c, res.status, res.headers, text));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 1) }, worker));
  return report;
}

export function defectCount(report: FuzzReport): number {
  return Object.values(report.defects).reduce((a, d) => a + d.count, 0);
}
