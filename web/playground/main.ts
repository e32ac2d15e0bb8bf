/**
 * The playground at `/`: plain DOM code, bundled by scripts/build-web.ts. Every URL is relative to the page's
 * origin, so the same bundle works under `npm run dev` and on a deployed Worker.
 */
import { curlCommand, isSpecial, leaveOneOut } from "./text.ts";
import { pathSvg } from "./tree.ts";

interface LabelScore { label: string; score: number }
interface TokenExplanation { token: string; paths: number[][][] }
interface ClassifyResult { label: string; score: number; scores: LabelScore[]; explain?: { tokens: TokenExplanation[] } }
interface ClassifyResponse { model: { name: string }; results: ClassifyResult[] }
interface ModelInfo { name: string; kind: string }

const TOKEN_KEY = "ufb.apiToken";
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>("form");
const textEl = $<HTMLTextAreaElement>("text");
const modelEl = $<HTMLSelectElement>("model");
const tokenEl = $<HTMLInputElement>("token");
const statusEl = $("status");
const errorEl = $("error");
const curlEl = $("curl");

/** An API error: the problem+json `detail` (RFC 9457) when the body has one. */
class ApiError extends Error {}

async function api<T>(path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = tokenEl.value.trim();
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, { method: body === undefined ? "GET" : "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const p = (data ?? {}) as { detail?: string; title?: string; code?: string };
    throw new ApiError(`${res.status}${p.code ? ` ${p.code}` : ""}: ${p.detail ?? p.title ?? res.statusText}`);
  }
  return data as T;
}

function showError(err: unknown): void {
  errorEl.textContent = err instanceof Error ? err.message : String(err);
  errorEl.hidden = false;
}

function requestBody(): { text: string; explain: true; model?: string } {
  return { text: textEl.value, explain: true, ...(modelEl.value ? { model: modelEl.value } : {}) };
}

async function loadModels(): Promise<void> {
  try {
    const { models } = await api<{ models: ModelInfo[] }>("/v1/models");
    const keep = modelEl.value;
    modelEl.replaceChildren(new Option("(default model)", ""));
    for (const m of models.filter((m) => m.kind === "classifier")) modelEl.add(new Option(m.name, m.name, false, m.name === keep));
  } catch (err) {
    showError(err instanceof ApiError ? `Models: ${err.message}` : err);
  }
}

let current: TokenExplanation[] = [];

function drawTrees(index: number): void {
  const tok = current[index];
  const trees = $("trees");
  trees.replaceChildren();
  $("paths-h").textContent = `FFF paths of “${tok.token}”`;
  tok.paths.forEach((perTree, layer) =>
    perTree.forEach((path, tree) => {
      const fig = document.createElement("figure");
      fig.innerHTML = pathSvg(path, { layer, tree }); // numbers only (tree.ts)
      const cap = document.createElement("figcaption");
      cap.textContent = `layer ${layer + 1}${perTree.length > 1 ? `, tree ${tree + 1}` : ""}`;
      fig.append(cap);
      trees.append(fig);
    }),
  );
  for (const b of $("tokens").querySelectorAll("button")) b.setAttribute("aria-pressed", String(Number(b.dataset.index) === index));
}

function renderTokens(tokens: TokenExplanation[]): void {
  const box = $("tokens");
  box.replaceChildren();
  tokens.forEach((t, i) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "tok";
    b.dataset.index = String(i);
    b.setAttribute("aria-pressed", "false");
    const s = document.createElement("span");
    s.textContent = t.token;
    b.append(s);
    b.addEventListener("click", () => drawTrees(i));
    box.append(b);
  });
}

async function attribute(tokens: TokenExplanation[], label: string): Promise<void> {
  const note = $("attr-note");
  const { texts, positions } = leaveOneOut(tokens.map((t) => t.token));
  const content = tokens.filter((t) => !isSpecial(t.token)).length;
  if (positions.length === 0) {
    note.textContent = "No attributions: removing the only token would leave no text.";
    return;
  }
  note.textContent = "Computing attributions…";
  try {
    const out = await api<ClassifyResponse>("/v1/classify", { texts, ...(modelEl.value ? { model: modelEl.value } : {}) });
    // log-odds, not the probability: a confident model sits at 0.999…, where removing any token barely moves p
    const scoreOf = (r: ClassifyResult) => {
      const p = Math.min(1 - 1e-12, Math.max(1e-12, r.scores.find((s) => s.label === label)?.score ?? 0));
      return Math.log(p / (1 - p));
    };
    const base = scoreOf(out.results[0]);
    const deltas = positions.map((_, k) => base - scoreOf(out.results[k + 1]));
    const max = Math.max(1e-9, ...deltas.map(Math.abs));
    positions.forEach((pos, k) => {
      const b = $("tokens").querySelector<HTMLButtonElement>(`button[data-index="${pos}"]`)!;
      const d = deltas[k];
      const bar = document.createElement("span");
      bar.className = `bar ${d >= 0 ? "pos" : "neg"}`;
      bar.style.width = `${Math.round((Math.abs(d) / max) * 48)}px`;
      const v = document.createElement("span");
      v.className = "d attr";
      v.textContent = `${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(2)}`;
      b.append(bar, v);
      b.setAttribute("aria-label", `${tokens[pos].token}: removing it changes the log-odds of ${label} by ${(-d).toFixed(2)}`);
    });
    note.textContent = positions.length < content ? `Attributed the first ${positions.length} of ${content} tokens (one request holds at most 32 texts).` : "";
  } catch (err) {
    note.textContent = `Attributions failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function classify(): Promise<void> {
  errorEl.hidden = true;
  statusEl.textContent = "Classifying…";
  try {
    const out = await api<ClassifyResponse>("/v1/classify", requestBody());
    const r = out.results[0];
    $("result").hidden = false;
    $("label").textContent = `${r.label} (${r.score.toFixed(3)}) — ${out.model.name}`;
    $("label").dataset.label = r.label;
    $("attr-label").textContent = r.label;
    const tbody = $("scores").querySelector("tbody")!;
    tbody.replaceChildren(
      ...r.scores.map((s) => {
        const tr = document.createElement("tr");
        for (const v of [s.label, s.score.toFixed(4)]) tr.append(Object.assign(document.createElement("td"), { textContent: v }));
        return tr;
      }),
    );
    current = r.explain?.tokens ?? [];
    renderTokens(current);
    const first = current.findIndex((t) => !isSpecial(t.token));
    if (current.length) drawTrees(first >= 0 ? first : 0);
    statusEl.textContent = "Done.";
    await attribute(current, r.label);
  } catch (err) {
    statusEl.textContent = "";
    $("result").hidden = true;
    showError(err);
  }
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  void classify();
});
// Ctrl/Cmd+Enter in the text area classifies (Enter alone adds a line)
textEl.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit();
});
$("copy").addEventListener("click", async () => {
  const cmd = curlCommand(new URL("/v1/classify", location.href).href, requestBody(), tokenEl.value.trim());
  curlEl.textContent = cmd;
  curlEl.hidden = false;
  try {
    await navigator.clipboard.writeText(cmd);
    statusEl.textContent = "curl command copied.";
  } catch {
    statusEl.textContent = "Clipboard not available: copy the command below.";
  }
});
// the token lives for this tab only (sessionStorage), never in localStorage or a cookie
tokenEl.value = sessionStorage.getItem(TOKEN_KEY) ?? "";
tokenEl.addEventListener("change", () => {
  const v = tokenEl.value.trim();
  if (v) sessionStorage.setItem(TOKEN_KEY, v);
  else sessionStorage.removeItem(TOKEN_KEY);
  errorEl.hidden = true;
  void loadModels();
});
void loadModels();
