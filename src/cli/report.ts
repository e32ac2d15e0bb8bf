/** Text the CLI prints about a package. */
import { fffLevels, fffNodesPerTree } from "../weights/format/config.ts";
import { fffGeometry } from "../weights/format/spec.ts";
import type { Manifest } from "../weights/format/manifest.ts";

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]} (${n} B)`;
}

export function describeModel(m: Manifest): string {
  const c = m.config;
  const n = fffNodesPerTree(c);
  const head =
    c.kind === "classifier"
      ? `classifier (${c.pooler} pooler, ${c.classifierDim} → ${c.numLabels} labels: ${c.labels!.join(", ")})`
      : c.kind === "embedding"
        ? `embedding (${c.pooler} pooler${c.normalize === "l2" ? ", L2-normalised" : ""}, ${c.hiddenSize} dimensions)`
        : "mlm (tied decoder)";
  return [
    `  model      ${m.name}: ${head}`,
    `  encoder    ${c.numLayers} layers, hidden ${c.hiddenSize}, ${c.numHeads} heads × ${c.headDim}, FFF ${c.fffTrees}×${c.fffDepth} (${c.fffTrees} tree(s) of ${n} nodes), vocab ${c.vocabSize}, max_seq ${c.maxSeqLength}, eps ${c.normEps}`,
  ].join("\n");
}

export function describeQuantization(m: Manifest): string | null {
  const e = m.quantization.maxAbsError;
  if (m.quantization.dtype !== "q8") return null;
  const f = (v: number | null) => (v === null ? "-" : v.toExponential(2));
  return `  q8 max |w − q·scale|: fff in ${f(e.fffIn)}, fff out ${f(e.fffOut)}, embeddings ${f(e.embeddings)}, dense ${f(e.dense)}`;
}

/** Neurons and bytes a token touches per layer. */
export function perTokenCosts(m: Manifest) {
  const c = m.config;
  const fff = m.segments.find((s) => s.kind === "fff");
  const emb = m.segments.find((s) => s.kind === "embeddings");
  if (!fff || fff.kind !== "fff" || !emb || emb.kind !== "embeddings") throw new Error("manifest without fff or embeddings segments");
  const g = fffGeometry({ hidden: c.hiddenSize, trees: c.fffTrees, levels: fffLevels(c), dtype: m.quantization.dtype, tileDepth: fff.tileDepth });
  const recordsPerToken = g.trees * g.levels;
  const tilesPerToken = g.trees * g.tiers.length;
  const tileBytesPerToken = g.trees * g.tiers.reduce((a, t) => a + t.tileBytes, 0);
  return {
    geometry: g,
    neuronsPerLayer: g.trees * g.nodesPerTree,
    neuronsPerToken: recordsPerToken,
    recordsPerToken,
    recordBytesPerToken: recordsPerToken * g.recordBytes,
    tilesPerToken,
    tileBytesPerToken,
    embeddingRowBytes: emb.rowBytes,
    embeddingBlockBytes: emb.rowBytes * emb.rowsPerBlock,
  };
}

/** How often a plain progress line is printed when stderr is not a terminal (CI logs, pipes, files). */
export const PLAIN_PROGRESS_EVERY_MS = 5000;

/**
 * onProgress for the writer: on a terminal one status line rewritten in place; otherwise (CI logs, pipes)
 * plain lines, the first at once and then at most one per `everyMs`, so a long job shows it is alive
 * without flooding the log.
 */
export function progressLine(command: string, options: { everyMs?: number; stream?: NodeJS.WriteStream } = {}): (message: string) => void {
  const out = options.stream ?? process.stderr;
  if (out.isTTY) return (message) => out.write(`\rufb ${command}: writing ${message}\x1b[K`);
  const every = options.everyMs ?? PLAIN_PROGRESS_EVERY_MS;
  let last = -Infinity;
  return (message) => {
    const now = performance.now();
    if (now - last < every) return;
    last = now;
    out.write(`ufb ${command}: writing ${message}\n`);
  };
}

export function clearProgress(): void {
  if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
}
