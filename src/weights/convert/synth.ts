/**
 * Seeded random models with realistic scales, generated tensor by tensor (row by row for the embedding),
 * so a 165 MB int8 package is written without ever holding the f32 model.
 *
 * Every row of every tensor has its own PRNG stream, seeded from (seed, tensor name, row): the values do
 * not depend on the order in which tensors are asked for. PRNG: xoshiro128** seeded by splitmix32;
 * normals by Box–Muller.
 */
import { UfbError } from "../../errors.ts";
import { KEYS, LAYER_KEYS } from "../format/layout.ts";
import { type PackageConfig, fffNodesPerTree } from "../format/config.ts";
import type { ModelTensors } from "./writer.ts";

export interface SynthPreset {
  name: string;
  description: string;
  config: PackageConfig;
}

const mlm = (numLayers: number): PackageConfig => ({
  hiddenSize: 768,
  numLayers,
  numHeads: 12,
  headDim: 64,
  fffTrees: 1,
  fffDepth: 11,
  vocabSize: 32768,
  maxSeqLength: 128,
  normEps: 1e-12,
  kind: "mlm",
  pooler: null,
  classifierDim: null,
  numLabels: null,
  labels: null,
});

/** The encoder of the tiny presets (4 × 128, FFF 1 × 7): a classifier and an embedding model of one shape. */
const TINY_ENCODER = {
  hiddenSize: 128,
  numLayers: 4,
  numHeads: 4,
  headDim: 32,
  fffTrees: 1,
  fffDepth: 7,
  vocabSize: 4096,
  maxSeqLength: 128,
  normEps: 1e-12,
} as const;

export const PRESETS: Record<string, SynthPreset> = {
  "ultrafastbert-1x11-long": {
    name: "ultrafastbert-1x11-long",
    description: "the published model's shape: 16 layers, 768 hidden, 12 heads, 1 tree of depth 11, vocab 32768, MLM",
    config: mlm(16),
  },
  "ultrafastbert-1x11-12l": {
    name: "ultrafastbert-1x11-12l",
    description: "as ultrafastbert-1x11-long with 12 layers",
    config: mlm(12),
  },
  "tiny-classifier": {
    name: "tiny-classifier",
    description: "local dev: 4 layers, 128 hidden, 4 heads, 1 tree of depth 7, vocab 4096, labels negative/positive, avg pooler",
    config: {
      ...TINY_ENCODER,
      kind: "classifier",
      pooler: "avg",
      classifierDim: 256,
      numLabels: 2,
      labels: ["negative", "positive"],
    },
  },
  "tiny-embedding": {
    name: "tiny-embedding",
    description: "tests and local dev: tiny-classifier's encoder as a sentence-embedding package (avg pooler, L2-normalised vectors, no head)",
    config: {
      ...TINY_ENCODER,
      kind: "embedding",
      pooler: "avg",
      classifierDim: null,
      numLabels: null,
      labels: null,
      normalize: "l2",
    },
  },
};

// ---- PRNG ----

/** splitmix32 step: returns [next state, output]. */
function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

/** FNV-1a of a string, 32 bits. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** xoshiro128** (Blackman & Vigna), 32-bit outputs. */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(...seeds: number[]) {
    let st = 0x6a09e667;
    for (const s of seeds) [st] = splitmix32((st ^ s) >>> 0);
    const out: number[] = [];
    for (let i = 0; i < 4; i++) {
      let v: number;
      [st, v] = splitmix32(st);
      out.push(v);
    }
    [this.s0, this.s1, this.s2, this.s3] = out;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in (0, 1). */
  uniform(): number {
    return (this.nextU32() + 0.5) / 4294967296;
  }

  /** Standard normal (Box–Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const a = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

// ---- weights ----

/** How each tensor is drawn: mean + std·N(0,1), per element. */
function distribution(name: string, c: PackageConfig): { mean: number; std: number } {
  const h = c.hiddenSize;
  if (name === KEYS.scaleFactor) return { mean: 0.3, std: 0 };
  if (name.endsWith("norm.weight") || name.endsWith("norm1.weight") || name.endsWith("norm2.weight")) return { mean: 1, std: 0.05 };
  if (name.endsWith("norm.bias") || name.endsWith("norm1.bias") || name.endsWith("norm2.bias")) return { mean: 0, std: 0.02 };
  if (name === KEYS.wordEmbedding) return { mean: 0, std: 0.5 };
  // LN outputs are ~N(0,1) per component, so w ~ N(0, 1/√H) gives logits ~ N(0, 1): both children get used
  if (name.endsWith(LAYER_KEYS.fffInBias)) return { mean: 0, std: 0.1 };
  if (name === KEYS.headWeight) return { mean: 0, std: 1 / Math.sqrt(c.classifierDim ?? h) };
  if (name === KEYS.poolerBias || name === KEYS.headBias) return { mean: 0, std: 0.02 };
  return { mean: 0, std: 1 / Math.sqrt(h) };
}

/** Shapes of the tensors a synthetic model has (checkpoint key names). */
export function synthShapes(c: PackageConfig): Map<string, number[]> {
  const h = c.hiddenSize;
  const kn = c.fffTrees * fffNodesPerTree(c);
  const m = new Map<string, number[]>([
    [KEYS.wordEmbedding, [c.vocabSize, h]],
    [KEYS.scaleFactor, [1]],
    [KEYS.embeddingNormWeight, [h]],
    [KEYS.embeddingNormBias, [h]],
    [KEYS.finalNormWeight, [h]],
    [KEYS.finalNormBias, [h]],
  ]);
  for (let l = 0; l < c.numLayers; l++) {
    const k = (s: string) => KEYS.layer(l, s);
    m.set(k(LAYER_KEYS.norm1Weight), [h]).set(k(LAYER_KEYS.norm1Bias), [h]);
    m.set(k(LAYER_KEYS.qkv), [3 * h, h]).set(k(LAYER_KEYS.attnOut), [h, h]);
    m.set(k(LAYER_KEYS.norm2Weight), [h]).set(k(LAYER_KEYS.norm2Bias), [h]);
    m.set(k(LAYER_KEYS.fffInWeight), [kn, h]).set(k(LAYER_KEYS.fffInBias), [kn]).set(k(LAYER_KEYS.fffOutWeight), [h, kn]);
  }
  if (c.kind === "classifier") {
    m.set(KEYS.poolerWeight, [c.classifierDim!, h]).set(KEYS.poolerBias, [c.classifierDim!]);
    m.set(KEYS.headWeight, [c.numLabels!, c.classifierDim!]).set(KEYS.headBias, [c.numLabels!]);
  }
  return m;
}

/** A synthetic model's tensors: deterministic in (seed, name, row). */
export function synthTensors(c: PackageConfig, seed: number): ModelTensors {
  const shapes = synthShapes(c);
  const shapeOf = (name: string) => {
    const s = shapes.get(name);
    if (!s) throw new UfbError("bad_argument", `synth: no tensor "${name}" in this model`);
    return s;
  };
  const rows = (name: string, start: number, count: number): Float32Array => {
    const shape = shapeOf(name);
    const cols = shape.length === 2 ? shape[1] : 1;
    const total = shape.length === 2 ? shape[0] : 1;
    if (start < 0 || start + count > total) throw new UfbError("bad_argument", `synth: rows [${start}, ${start + count}) of "${name}" out of range`);
    const { mean, std } = distribution(name, c);
    const nameHash = fnv1a(name);
    const out = new Float32Array(count * (shape.length === 2 ? cols : shape.reduce((a, b) => a * b, 1)));
    const perRow = out.length / count;
    for (let r = 0; r < count; r++) {
      const rng = new Xoshiro128(seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, nameHash, start + r);
      for (let i = 0; i < perRow; i++) out[r * perRow + i] = mean + std * rng.normal();
    }
    return out;
  };
  return {
    async get(name) {
      const shape = shapeOf(name);
      return shape.length === 2 ? rows(name, 0, shape[0]) : rows(name, 0, 1);
    },
    async getRows(name, start, count) {
      return rows(name, start, count);
    },
  };
}
