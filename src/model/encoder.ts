/**
 * The crammedBERT encoder with fast-feedforward trees, forward pass only (spec §2), over a batch of
 * sequences laid end to end: token-wise steps (norms, projections, FFF) run over all tokens at once,
 * attention runs per sequence, so a sequence's result never depends on its batch neighbours.
 *
 * All activations live in kernel memory, allocated once per call in `RunState`; the caller releases
 * them after reading what it needs.
 */
import { UfbError } from "../errors.ts";
import type { Kernel } from "../kernel/index.ts";
import { type ModelConfig, fffLevels, fffNodesPerTree } from "./config.ts";
import { linear } from "./linear.ts";
import type { ModelWeights } from "./weights.ts";
import { settleAll } from "../weights/read/package.ts";

export interface Sequence {
  ids: ArrayLike<number>;
  /** 1 = real token, 0 = padding (masked out as a key, still computed as a query, like the reference). */
  mask?: ArrayLike<number>;
}

/** Activation buffers for one forward call; every pointer is into kernel memory. */
export interface RunState {
  tokens: number; // T, all sequences together
  starts: number[]; // first row of each sequence
  lengths: number[];
  hidden: number; // f32[T][H], residual stream; after the call: the encoder output (final norm applied)
  normed: number; // f32[T][H]
  qkv: number; // f32[T][3H]
  context: number; // f32[T][H]
  projected: number; // f32[T][H]
  keyBias: number; // f32[maxSeq], additive attention mask of the current sequence
  fffPaths: number; // i32[K][T][levels]
  fffLogits: number; // f32[K][T][levels]
  fffProgress: number; // i32[K][T]
}

export interface EncodeOptions {
  /** Called after each layer's FFF with that layer's paths, i32[K][T][levels] (copy it if kept). */
  onPaths?: (layer: number, paths: Int32Array) => void;
}

export function allocRunState(kernel: Kernel, config: ModelConfig, sequences: Sequence[]): RunState {
  const h = config.hiddenSize;
  const levels = fffLevels(config);
  const starts: number[] = [];
  const lengths: number[] = [];
  let tokens = 0;
  for (const s of sequences) {
    starts.push(tokens);
    lengths.push(s.ids.length);
    tokens += s.ids.length;
  }
  const f32 = (n: number) => kernel.alloc(4 * n);
  return {
    tokens,
    starts,
    lengths,
    hidden: f32(tokens * h),
    normed: f32(tokens * h),
    qkv: f32(tokens * 3 * h),
    context: f32(tokens * h),
    projected: f32(tokens * h),
    keyBias: f32(config.maxSeqLength),
    fffPaths: kernel.alloc(4 * config.fffTrees * tokens * levels),
    fffLogits: f32(config.fffTrees * tokens * levels),
    fffProgress: kernel.alloc(4 * config.fffTrees * tokens),
  };
}

export async function encode(
  kernel: Kernel,
  config: ModelConfig,
  weights: ModelWeights,
  sequences: Sequence[],
  state: RunState,
  options: EncodeOptions = {},
): Promise<void> {
  try {
    await encodeLayers(kernel, config, weights, sequences, state, options);
  } catch (e) {
    // a failed read mid-pass leaves nothing pinned (pins would keep the cache from evicting for good)
    weights.embeddings.release();
    for (let l = 0; l < config.numLayers; l++) weights.fff.release(l);
    throw e;
  }
}

async function encodeLayers(kernel: Kernel, config: ModelConfig, weights: ModelWeights, sequences: Sequence[], state: RunState, options: EncodeOptions): Promise<void> {
  const h = config.hiddenSize;
  const t = state.tokens;
  const eps = config.normEps;

  // embeddings: word row (dequantized) + scale_factor · sinusoid[position], then LayerNorm
  await weights.embeddings.prepare(allIds(sequences));
  embed(kernel, config, weights, sequences, state);
  weights.embeddings.release();
  kernel.layerNorm(state.hidden, state.hidden, weights.embeddingNorm.weight, weights.embeddingNorm.bias, t, h, eps);

  for (let l = 0; l < config.numLayers; l++) {
    const layer = weights.layers[l];
    // attention block (pre-LN): h += Wo · MHA(LN1(h))
    kernel.layerNorm(state.hidden, state.normed, layer.norm1.weight, layer.norm1.bias, t, h, eps);
    linear(kernel, state.normed, t, layer.qkv, 0, state.qkv);
    attention(kernel, config, sequences, state);
    linear(kernel, state.context, t, layer.attnOut, 0, state.projected);
    kernel.add(state.hidden, state.projected, t * h);

    // FFF block (pre-LN): h += Σ_trees Σ_levels GELU(logit) · wOut[node] along each token's path
    kernel.layerNorm(state.hidden, state.normed, layer.norm2.weight, layer.norm2.bias, t, h, eps);
    await fff(kernel, config, weights, l, state);
    kernel.add(state.hidden, state.projected, t * h);
    if (options.onPaths) options.onPaths(l, kernel.i32(state.fffPaths, config.fffTrees * t * fffLevels(config)));
    weights.fff.release(l);
  }

  kernel.layerNorm(state.hidden, state.hidden, weights.finalNorm.weight, weights.finalNorm.bias, t, h, eps);
}

function allIds(sequences: Sequence[]): Set<number> {
  const ids = new Set<number>();
  for (const s of sequences) for (let i = 0; i < s.ids.length; i++) ids.add(s.ids[i]);
  return ids;
}

function embed(kernel: Kernel, config: ModelConfig, weights: ModelWeights, sequences: Sequence[], state: RunState): void {
  const h = config.hiddenSize;
  const store = weights.embeddings;
  const out = kernel.f32(state.hidden, state.tokens * h);
  const positions = kernel.f32(weights.positions, config.maxSeqLength * h);
  const sf = weights.scaleFactor;
  for (let b = 0; b < sequences.length; b++) {
    const ids = sequences[b].ids;
    for (let p = 0; p < ids.length; p++) {
      const o = (state.starts[b] + p) * h;
      const scale = store.rowScale(ids[p]);
      const row = store.dtype === "q8" ? kernel.i8(store.rowPtr(ids[p]), h) : kernel.f32(store.rowPtr(ids[p]), h);
      for (let i = 0; i < h; i++) out[o + i] = row[i] * scale + sf * positions[p * h + i];
    }
  }
}


/** Per sequence and head: softmax(q·kᵀ·scale + keyBias)·v, heads concatenated (spec §2.3). */
function attention(kernel: Kernel, config: ModelConfig, sequences: Sequence[], state: RunState): void {
  const h = config.hiddenSize;
  const d = config.headDim;
  for (let b = 0; b < sequences.length; b++) {
    const s = state.lengths[b];
    const start = state.starts[b];
    const mask = sequences[b].mask;
    let keyBias = 0;
    if (mask) {
      const bias = kernel.f32(state.keyBias, s);
      for (let j = 0; j < s; j++) bias[j] = (1 - mask[j]) * -10000;
      keyBias = state.keyBias;
    }
    kernel.attention({
      qkv: state.qkv + 4 * start * 3 * h,
      ldQkv: 3 * h,
      seqLen: s,
      heads: config.numHeads,
      headDim: d,
      // head t owns 3·d consecutive columns: Q, then K, then V
      headStride: 3 * d,
      qOffset: 0,
      kOffset: d,
      vOffset: 2 * d,
      keyBias,
      scale: 1 / Math.sqrt(d),
      out: state.context + 4 * start * h,
      ldOut: h,
    });
  }
}

/**
 * Conditional matrix multiplication: per tree, descend level by level through the resident records;
 * when tokens reach records that are not resident yet, ask the store for them and resume.
 */
async function fff(kernel: Kernel, config: ModelConfig, weights: ModelWeights, layer: number, state: RunState): Promise<void> {
  const t = state.tokens;
  const h = config.hiddenSize;
  const levels = fffLevels(config);
  const store = weights.fff;
  const trees = Array.from({ length: config.fffTrees }, (_, tree) => ({
    tree,
    paths: state.fffPaths + 4 * tree * t * levels,
    logits: state.fffLogits + 4 * tree * t * levels,
    progress: state.fffProgress + 4 * tree * t,
    table: store.table(layer, tree),
  }));
  kernel.f32(state.projected, t * h).fill(0);
  kernel.i32(state.fffProgress, config.fffTrees * t).fill(0);
  for (const tr of trees) {
    const path = kernel.i32(tr.paths, t * levels);
    for (let i = 0; i < t; i++) path[i * levels] = 0; // every token starts at the root
  }
  // all trees descend as far as their resident records allow; then the nodes every tree waits for are
  // fetched together (one round of reads per tier for the whole layer) and the descent resumes
  let pending = trees;
  for (let round = 0; pending.length > 0; round++) {
    const waiting: { tree: number; nodes: Set<number> }[] = [];
    pending = pending.filter((tr) => {
      const blocked = kernel.fffDescend({ x: state.normed, tokens: t, hidden: h, levels, table: tr.table, dtype: store.dtype, paths: tr.paths, logits: tr.logits, progress: tr.progress });
      if (blocked > 0) waiting.push({ tree: tr.tree, nodes: waitingNodes(kernel, t, tr.paths, tr.progress, levels, fffNodesPerTree(config)) });
      return blocked > 0;
    });
    if (pending.length === 0) break;
    if (round > levels) throw new UfbError("internal", `fff: layer ${layer}: the node store did not make requested records resident`);
    // settleAll: one tree's failed read must not leave another tree's reads running after the run ends
    await settleAll(waiting.map((w) => store.ensure(layer, w.tree, w.nodes)));
  }
  // pin every record on the paths (some were found resident and not pinned) before reading wOut
  // (the path view is read synchronously at the start of ensure, before any allocation could move it)
  await settleAll(trees.map((tr) => store.ensure(layer, tr.tree, kernel.i32(tr.paths, t * levels))));
  for (const tr of trees) {
    kernel.fffAccumulate({ y: state.projected, tokens: t, hidden: h, levels, table: tr.table, dtype: store.dtype, paths: tr.paths, logits: tr.logits });
  }
}

function waitingNodes(kernel: Kernel, tokens: number, paths: number, progressPtr: number, levels: number, nodesPerTree: number): Set<number> {
  const progress = kernel.i32(progressPtr, tokens);
  const path = kernel.i32(paths, tokens * levels);
  const nodes = new Set<number>();
  for (let i = 0; i < tokens; i++) {
    if (progress[i] < levels) {
      const node = path[i * levels + progress[i]];
      if (node < 0 || node >= nodesPerTree) throw new UfbError("internal", `fff: token ${i} waits for node ${node}, outside the tree`);
      nodes.add(node);
    }
  }
  return nodes;
}
