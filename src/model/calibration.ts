/**
 * How far an int8 package strays from its f32 twin on the same inputs: FFF path agreement (the
 * discrete part that quantization can flip) and the largest output differences (the continuous part).
 */
import type { Engine, Sequence } from "./engine.ts";
import { l2Normalized } from "./tasks.ts";

export interface CalibrationReport {
  sequences: number;
  tokens: number;
  /** Path nodes (layer × token × tree × level) equal in both engines, over all nodes. */
  pathNodesEqual: number;
  pathNodes: number;
  maxAbsDiffHidden: number;
  /** What the output rows are: an embedding package's output is its sentence vector, not logits. */
  output: "classification logits" | "MLM logits" | "sentence vectors";
  /**
   * Largest |difference| of the output: classification logits, MLM logits at each sequence's first position,
   * or the sentence vectors (as served: normalised when the package says so).
   */
  maxAbsDiffLogits: number;
  /** Logits: rows whose argmax is equal. Sentence vectors: not counted (0 of 0), see minCosine. */
  argmaxEqual: number;
  argmaxTotal: number;
  /** Sentence vectors: the smallest cosine between a sequence's int8 and f32 vector; null for logits. */
  minCosine: number | null;
}

/** A few English sentences (tokenized with the package's tokenizer) and seeded random id sequences. */
export function calibrationInputs(engine: Engine, randomSequences = 8, seed = 1): Sequence[] {
  const texts = [
    "the film is a charming and often affecting journey.",
    "it is a dull, lifeless movie with no sense of humor at all.",
    "a quiet, thoughtful portrait of a family in crisis, told with grace and wit.",
    "Hello, world! Numbers like 1234 and symbols like % or & appear too.",
  ];
  const sequences: Sequence[] = texts.map((t) => ({ ids: engine.tokenizer.encode(t).ids }));
  let state = seed >>> 0;
  const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const vocab = engine.config.vocabSize;
  for (let i = 0; i < randomSequences; i++) {
    const length = 1 + Math.floor(next() * engine.config.maxSeqLength);
    sequences.push({ ids: Array.from({ length }, () => Math.floor(next() * vocab)) });
  }
  return sequences;
}

export async function compareEngines(reference: Engine, candidate: Engine, sequences: Sequence[]): Promise<CalibrationReport> {
  const kind = reference.config.kind;
  const classifier = kind === "classifier";
  const embedding = kind === "embedding";
  const request = {
    sequences,
    hidden: true,
    paths: true,
    logits: classifier,
    pooled: embedding,
    mlmPositions: classifier || embedding ? undefined : sequences.map((_, b) => [b, 0] as [number, number]),
  };
  const [a, b] = [await reference.run(request), await candidate.run(request)];
  const report: CalibrationReport = {
    sequences: sequences.length,
    tokens: sequences.reduce((n, s) => n + s.ids.length, 0),
    pathNodesEqual: 0,
    pathNodes: 0,
    maxAbsDiffHidden: 0,
    output: classifier ? "classification logits" : embedding ? "sentence vectors" : "MLM logits",
    maxAbsDiffLogits: 0,
    argmaxEqual: 0,
    argmaxTotal: 0,
    minCosine: null,
  };
  a.paths!.forEach((layer, l) =>
    layer.forEach((seq, s) =>
      seq.forEach((trees, p) =>
        trees.forEach((path, t) =>
          path.forEach((node, d) => {
            report.pathNodes++;
            if (b.paths![l][s][p][t][d] === node) report.pathNodesEqual++;
          }),
        ),
      ),
    ),
  );
  a.hidden!.forEach((h, s) => (report.maxAbsDiffHidden = Math.max(report.maxAbsDiffHidden, maxAbsDiff(h, b.hidden![s]))));
  if (embedding) {
    const served = (v: Float32Array) => (reference.config.normalize === "l2" ? l2Normalized(v) : Array.from(v));
    a.pooled!.forEach((v, i) => {
      const [x, y] = [served(v), served(b.pooled![i])];
      report.maxAbsDiffLogits = Math.max(report.maxAbsDiffLogits, maxAbsDiff(x, y));
      report.minCosine = Math.min(report.minCosine ?? 1, cosine(x, y));
    });
    return report;
  }
  const logitsA = classifier ? a.logits! : a.mlm!;
  const logitsB = classifier ? b.logits! : b.mlm!;
  logitsA.forEach((l, i) => {
    report.maxAbsDiffLogits = Math.max(report.maxAbsDiffLogits, maxAbsDiff(l, logitsB[i]));
    report.argmaxTotal++;
    if (argmax(l) === argmax(logitsB[i])) report.argmaxEqual++;
  });
  return report;
}

export function formatCalibration(r: CalibrationReport): string {
  const pct = (n: number, d: number) => `${((100 * n) / Math.max(1, d)).toFixed(2)} %`;
  return [
    `  calibration: int8 vs f32 on ${r.sequences} sequences (${r.tokens} tokens: 4 sentences + seeded random ids)`,
    `    FFF path nodes equal   ${pct(r.pathNodesEqual, r.pathNodes)} (${r.pathNodesEqual} of ${r.pathNodes})`,
    `    max |Δ hidden|         ${r.maxAbsDiffHidden.toPrecision(3)}`,
    ...(r.minCosine === null
      ? [`    max |Δ logits|         ${r.maxAbsDiffLogits.toPrecision(3)}`, `    argmax equal           ${r.argmaxEqual} of ${r.argmaxTotal}`]
      : [`    max |Δ vector|         ${r.maxAbsDiffLogits.toPrecision(3)}`, `    min cosine int8·f32    ${r.minCosine.toFixed(6)}`]),
  ].join("\n");
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}
