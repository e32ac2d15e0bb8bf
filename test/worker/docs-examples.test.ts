/**
 * Every curl example of docs/api.md runs as written against the Worker (its entry point, serving the
 * shipped default package as `npm run dev` does) and answers the status its `# → …` line promises (and the
 * problem code, where the line names one). A doc example that drifts from the API fails here.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import apiDoc from "../../docs/api.md?raw";
import { TINY_EMBEDDING, putPackage, synthPackage } from "../helpers/r2.ts";

interface Example {
  command: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Accepted answers: a status, and the problem code when the doc names one. */
  expect: { status: number; code?: string }[];
}

/** Shell words of a command line, with single and double quotes (what the examples use). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function examples(markdown: string): Example[] {
  const out: Example[] = [];
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block[1].replace(/\\\n\s*/g, " ").split("\n");
    lines.forEach((line, i) => {
      if (!line.startsWith("curl ")) return;
      const w = words(line).slice(1);
      const ex: Example = { command: line, method: "GET", url: "", headers: {}, expect: [] };
      for (let k = 0; k < w.length; k++) {
        if (w[k] === "-H") {
          const [name, ...value] = w[++k].split(":");
          ex.headers[name.trim()] = value.join(":").trim();
        } else if (w[k] === "-d") {
          ex.body = w[++k];
          ex.method = "POST";
        } else if (w[k] === "-X") ex.method = w[++k];
        else if (w[k].startsWith("http")) ex.url = w[k];
      }
      const promise = lines[i + 1]?.match(/^# → (.*)$/)?.[1] ?? "";
      for (const alt of promise.split("; ")) {
        const m = alt.match(/^(\d{3})(?: ([a-z_]+))?/);
        if (m) ex.expect.push({ status: Number(m[1]), ...(m[2] && m[2] !== "on" ? { code: m[2] } : {}) });
      }
      out.push(ex);
    });
  }
  return out;
}

const EXAMPLES = examples(apiDoc);

beforeAll(async () => {
  const shipped = async (name: string, file: string) => {
    const res = await env.PACKAGES.fetch(`http://packages/${name}/${file}`);
    if (!res.ok) return null;
    return new Uint8Array(await res.arrayBuffer());
  };
  const put = async (name: string) => {
    const [manifest, tokenizer, weights] = await Promise.all(["manifest.json", "tokenizer.json", "weights.bin"].map((f) => shipped(name, f)));
    if (!manifest || !tokenizer || !weights) return false;
    await putPackage(env.WEIGHTS, name, "1", { manifest: new TextDecoder().decode(manifest), tokenizer, weights });
    return true;
  };
  if (!(await put(env.MODEL))) throw new Error(`weights/${env.MODEL}/ is missing`);
  // the embedding package is trained apart and lands in weights/ later: until then a synthetic one answers
  if (!(await put(env.EMBED_MODEL))) await putPackage(env.WEIGHTS, env.EMBED_MODEL, "1", await synthPackage(TINY_EMBEDDING, { seed: 1 }));
});

describe("docs/api.md examples", () => {
  it("has curl examples for every route group, each with the answer it promises", () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(12);
    for (const path of ["/v1/classify", "/v1/embed", "/v1/fill-mask", "/v1/models", "/healthz", "/models/", "/predict", "/embed", "/tokenize", "/info", "/v1/embeddings", "/ai/run/"]) {
      expect(EXAMPLES.some((e) => e.url.includes(path)), path).toBe(true);
    }
    for (const e of EXAMPLES) expect(e.expect.length, `no "# → status" line after: ${e.command}`).toBeGreaterThan(0);
  });

  it.each(EXAMPLES.map((e) => [e.command, e] as const))("%s", async (_, e) => {
    // the examples use the dev server's address; the Worker entry answers any host
    const res = await exports.default.fetch(new Request(e.url, { method: e.method, headers: e.headers, body: e.body }));
    const text = await res.text();
    const code = res.status >= 400 ? (JSON.parse(text) as { code?: string; error?: { code?: string } }) : undefined;
    const got = { status: res.status, code: code?.code ?? code?.error?.code };
    const ok = e.expect.some((x) => x.status === got.status && (x.code === undefined || x.code === got.code));
    expect(ok, `got ${got.status} ${got.code ?? ""} ${text.slice(0, 200)}; the doc promises ${JSON.stringify(e.expect)}`).toBe(true);
  });
});
