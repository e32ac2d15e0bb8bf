/**
 * What sits on top of the encoder output (spec §3): pooling, the classification head
 * (dense C + tanh → L logits), and the tied MLM decoder evaluated only at the requested positions.
 */
import type { Kernel } from "../kernel/index.ts";
import type { ModelConfig, Pooler } from "./config.ts";
import type { RunState, Sequence } from "./encoder.ts";
import { linear } from "./linear.ts";
import type { ModelWeights } from "./weights.ts";

/**
 * One pooled vector per sequence into out f32[B][H]. `avg` averages the real tokens only (mask = 1):
 * the reference averages padding too, which would make a result depend on its batch.
 */
export function pool(kernel: Kernel, config: ModelConfig, pooler: Pooler, sequences: Sequence[], state: RunState, out: number): void {
  const h = config.hiddenSize;
  const hidden = kernel.f32(state.hidden, state.tokens * h);
  const pooled = kernel.f32(out, sequences.length * h);
  for (let b = 0; b < sequences.length; b++) {
    const start = state.starts[b];
    const o = b * h;
    if (pooler === "zero_index") {
      pooled.set(hidden.subarray(start * h, (start + 1) * h), o);
      continue;
    }
    const mask = sequences[b].mask;
    let count = 0;
    pooled.fill(0, o, o + h);
    for (let p = 0; p < state.lengths[b]; p++) {
      if (mask && mask[p] === 0) continue;
      count++;
      const r = (start + p) * h;
      for (let i = 0; i < h; i++) pooled[o + i] += hidden[r + i];
    }
    const inv = count > 0 ? 1 / count : 0;
    for (let i = 0; i < h; i++) pooled[o + i] *= inv;
  }
}

/** Classification logits f32[B][L] for the pooled vectors f32[B][H]. */
export function classify(kernel: Kernel, config: ModelConfig, weights: ModelWeights, pooled: number, batch: number, out: number): void {
  const pooler = weights.pooler!;
  const head = weights.head!;
  const dense = kernel.alloc(4 * batch * pooler.matrix.rows);
  linear(kernel, pooled, batch, pooler.matrix, pooler.bias, dense);
  kernel.tanh(dense, batch * pooler.matrix.rows);
  linear(kernel, dense, batch, head.matrix, head.bias, out);
}

/** MLM logits f32[P][V] at the given (sequence, position) pairs: h · Eᵀ, no bias (tied decoder). */
export async function mlmLogits(
  kernel: Kernel,
  config: ModelConfig,
  weights: ModelWeights,
  state: RunState,
  positions: [number, number][],
  out: number,
): Promise<void> {
  const h = config.hiddenSize;
  const gathered = kernel.alloc(4 * positions.length * h);
  const hidden = kernel.f32(state.hidden, state.tokens * h);
  const rows = kernel.f32(gathered, positions.length * h);
  positions.forEach(([b, p], i) => rows.set(hidden.subarray((state.starts[b] + p) * h, (state.starts[b] + p + 1) * h), i * h));
  const decoder = await weights.embeddings.decoder();
  linear(kernel, gathered, positions.length, decoder, 0, out);
}

