/**
 * The engine: a loaded package (tokenizer + weights in kernel memory) that runs batches of sequences
 * and returns what the caller asked for. Used by the CLI, the benchmarks and the Worker's service.
 */
import type { Kernel } from "../kernel/index.ts";
import type { PackageConfig } from "../weights/format/config.ts";
import type { WeightPackage } from "../weights/read/package.ts";
import { fffLevels } from "./config.ts";
import { type Sequence, allocRunState, encode } from "./encoder.ts";
import { UfbError } from "../errors.ts";
import { classify, mlmLogits, pool } from "./heads.ts";
import { loadResidentWeights } from "./resident.ts";
import { TextTokenizer } from "./tokenizer.ts";
import type { ModelWeights } from "./weights.ts";

export type { Sequence } from "./encoder.ts";

export interface RunRequest {
  sequences: Sequence[];
  /** Return the encoder output (after the final LayerNorm), f32[S·H] per sequence. */
  hidden?: boolean;
  /** Return the FFF paths: paths[layer][sequence][position][tree] = node indices, root first. */
  paths?: boolean;
  /** Return classification logits per sequence (classifier packages). */
  logits?: boolean;
  /** Return the pooled encoder output per sequence (the model's pooler; avg for MLM packages). */
  pooled?: boolean;
  /** Return MLM logits f32[V] at these [sequence, position] pairs (MLM packages). */
  mlmPositions?: [number, number][];
}

export interface RunResult {
  hidden?: Float32Array[];
  paths?: number[][][][][];
  logits?: Float32Array[];
  pooled?: Float32Array[];
  mlm?: Float32Array[];
}

export class Engine {
  readonly config: PackageConfig;
  readonly tokenizer: TextTokenizer;
  readonly kernel: Kernel;
  readonly weights: ModelWeights;
  readonly pkg: WeightPackage;
  /** Runs share the kernel's arena and the weight stores' pins, so they take turns. */
  private turn: Promise<unknown> = Promise.resolve();

  private constructor(pkg: WeightPackage, kernel: Kernel, weights: ModelWeights, tokenizer: TextTokenizer) {
    this.pkg = pkg;
    this.config = pkg.config;
    this.kernel = kernel;
    this.weights = weights;
    this.tokenizer = tokenizer;
  }

  /**
   * @param weights where the weights live; default: the whole package loaded into kernel memory.
   */
  static async create(pkg: WeightPackage, kernel: Kernel, options: { weights?: ModelWeights } = {}): Promise<Engine> {
    const tokenizer = TextTokenizer.fromJsonText(new TextDecoder().decode(await pkg.readTokenizer()), pkg.config.maxSeqLength);
    if (tokenizer.vocabSize > pkg.config.vocabSize) {
      throw new UfbError("bad_package", `tokenizer.json has ${tokenizer.vocabSize} tokens, the model's vocabulary has ${pkg.config.vocabSize}`);
    }
    const weights = options.weights ?? (await loadResidentWeights(pkg, kernel));
    return new Engine(pkg, kernel, weights, tokenizer);
  }

  async run(request: RunRequest): Promise<RunResult> {
    const mine = this.turn.then(() => this.runNow(request));
    this.turn = mine.catch(() => {});
    return mine;
  }

  private async runNow(request: RunRequest): Promise<RunResult> {
    const c = this.config;
    const { sequences } = request;
    this.check(request);
    // the decoder table lives as long as the engine: make it resident before this run's scratch is marked
    if (request.mlmPositions && request.mlmPositions.length > 0) await this.weights.embeddings.decoder();
    const k = this.kernel;
    const mark = k.mark();
    try {
      const state = allocRunState(k, c, sequences);
      const levels = fffLevels(c);
      const result: RunResult = {};
      const layerPaths: Int32Array[] = [];
      await encode(k, c, this.weights, sequences, state, {
        onPaths: request.paths ? (_layer, paths) => layerPaths.push(paths.slice()) : undefined,
      });
      const h = c.hiddenSize;
      if (request.hidden) {
        result.hidden = sequences.map((_, b) => k.f32(state.hidden + 4 * state.starts[b] * h, state.lengths[b] * h).slice());
      }
      if (request.paths) result.paths = nestPaths(layerPaths, state.starts, state.lengths, c.fffTrees, levels, state.tokens);
      if (request.pooled || request.logits) {
        const pooled = k.alloc(4 * sequences.length * h);
        pool(k, c, c.pooler ?? "avg", sequences, state, pooled);
        if (request.pooled) result.pooled = sequences.map((_, b) => k.f32(pooled + 4 * b * h, h).slice());
        if (request.logits) {
          const labels = this.weights.head!.matrix.rows;
          const out = k.alloc(4 * sequences.length * labels);
          classify(k, c, this.weights, pooled, sequences.length, out);
          result.logits = sequences.map((_, b) => k.f32(out + 4 * b * labels, labels).slice());
        }
      }
      if (request.mlmPositions && request.mlmPositions.length > 0) {
        const v = c.vocabSize;
        const out = k.alloc(4 * request.mlmPositions.length * v);
        await mlmLogits(k, c, this.weights, state, request.mlmPositions, out);
        result.mlm = request.mlmPositions.map((_, i) => k.f32(out + 4 * i * v, v).slice());
      }
      return result;
    } finally {
      k.release(mark);
    }
  }

  /** Bad input is reported by field and never reaches the kernels. */
  private check(request: RunRequest): void {
    const c = this.config;
    const { sequences } = request;
    if (!Array.isArray(sequences) || sequences.length === 0) throw new UfbError("invalid_input", "ids: expected at least one sequence");
    sequences.forEach((s, b) => {
      const n = s.ids.length;
      if (n === 0) throw new UfbError("invalid_input", `ids[${b}]: empty sequence`);
      if (n > c.maxSeqLength) throw new UfbError("invalid_input", `ids[${b}]: ${n} tokens, max_seq_length is ${c.maxSeqLength}`);
      for (let p = 0; p < n; p++) {
        const id = s.ids[p];
        if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) {
          throw new UfbError("invalid_input", `ids[${b}][${p}]: ${id} is not a token id (expected an integer in [0, ${c.vocabSize - 1}])`);
        }
      }
      if (s.mask !== undefined) {
        if (s.mask.length !== n) throw new UfbError("invalid_input", `mask[${b}]: ${s.mask.length} entries, ids[${b}] has ${n}`);
        for (let p = 0; p < n; p++) {
          if (s.mask[p] !== 0 && s.mask[p] !== 1) throw new UfbError("invalid_input", `mask[${b}][${p}]: ${s.mask[p]}, expected 0 or 1`);
        }
      }
    });
    if (request.logits && c.kind !== "classifier") {
      throw new UfbError("unsupported_task", "logits: this package has no classification head (it is an MLM package; ask for MLM logits at positions)");
    }
    if (request.mlmPositions) {
      if (c.kind !== "mlm") throw new UfbError("unsupported_task", "positions: this package has no MLM decoder (it is a classifier)");
      request.mlmPositions.forEach(([b, p], i) => {
        if (!Number.isInteger(b) || b < 0 || b >= sequences.length || !Number.isInteger(p) || p < 0 || p >= sequences[b].ids.length) {
          throw new UfbError("invalid_input", `positions[${i}]: [${b}, ${p}] is not a [sequence, position] of the input`);
        }
      });
    }
  }
}

function nestPaths(layers: Int32Array[], starts: number[], lengths: number[], trees: number, levels: number, tokens: number): number[][][][][] {
  return layers.map((paths) =>
    starts.map((start, b) =>
      Array.from({ length: lengths[b] }, (_, p) =>
        Array.from({ length: trees }, (_, tree) => {
          const at = (tree * tokens + start + p) * levels;
          return Array.from(paths.subarray(at, at + levels));
        }),
      ),
    ),
  );
}
