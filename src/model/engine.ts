/**
 * The engine: a loaded package (tokenizer + weights in kernel memory) that runs batches of sequences
 * and returns what the caller asked for. Used by the CLI, the benchmarks and the Worker's service.
 */
import type { Kernel } from "../kernel/index.ts";
import { type PackageConfig, hasMlmDecoder } from "../weights/format/config.ts";
import type { WeightPackage } from "../weights/read/package.ts";
import { type Sequence, allocRunState, encode } from "./encoder.ts";
import { NoContentError, UfbError } from "../errors.ts";
import { classify, mlmLogits, pool } from "./heads.ts";
import { loadResidentWeights } from "./resident.ts";
import { TextTokenizer, type TokenizedText } from "./tokenizer.ts";
import type { ModelWeights } from "./weights.ts";
import { type ClassifyResult, type EmbedResult, type FillMaskResult, type PhaseTimer, type TokenizeResult, type Usage, classifyResult, fillMaskResults, l2Normalized, maskPositions } from "./tasks.ts";
import { fffLevels, fffNodesPerTree } from "./config.ts";

export type { Sequence } from "./encoder.ts";

/**
 * Text made only of whitespace, control (Cc) and format (Cf: zero-width, BOM, soft hyphen) characters.
 * Some tokenizers map a control character to <unk>, which counts as a content token; such a text still
 * has no content, whatever the vocabulary.
 */
const NO_CONTENT = /^[\s\p{Cc}\p{Cf}\p{Z}]*$/u;

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

/** What a run read from storage, from the stores' own counters (openStreamed provides one; resident engines read nothing). */
export interface RunMeter {
  /** At the start of a run, inside the engine's queue: fetch time goes to `timer`'s "fetch" phase. */
  begin(timer?: PhaseTimer): void;
  /** When the run ends (also on failure): what it read, once its side work (Cache API puts) is done. */
  end(): Promise<RunReads>;
}

export interface RunReads {
  r2Reads: number;
  bytesFetched: number;
  /** Pieces served from the block cache (L1) or the Cache API (L2) instead of storage. */
  cacheHits: number;
  /** Of those, pieces the Cache API served (absent without one). */
  cacheApiHits?: number;
}

export interface TaskOptions {
  /** Phase timing (tokenize, fetch, compute) for the Server-Timing header. */
  timer?: PhaseTimer;
}

export class Engine {
  readonly config: PackageConfig;
  readonly tokenizer: TextTokenizer;
  readonly kernel: Kernel;
  readonly weights: ModelWeights;
  readonly pkg: WeightPackage;
  /** The model's name in messages. */
  readonly name: string;
  private readonly meter: RunMeter | undefined;
  /**
   * The one run queue: runs share the kernel's arena and the weight stores' pins, and a run's reads are
   * told apart from another's only when they take turns. The running run holds `holder`, a promise it
   * created and resolves itself when it ends; waiters only await it (and check again). In workerd a promise
   * resolved by a request other than the one that created it, or chained by a request that has since
   * answered, may never settle, so no link of the queue is created by one request and settled by another.
   */
  private holder: { done: Promise<void>; release: () => void } | undefined;
  /** Longest wait for the turn (Infinity: no limit). */
  private readonly turnTimeoutMs: number;
  /** When the run holding the turn started (undefined: none runs). */
  private runningSince: number | undefined;
  /**
   * Set when a run held the turn past `turnTimeoutMs`: its request most likely ended (a cancelled request's
   * code never resumes), so the turn and the pins it holds will never be released. The owner of the
   * engine (the Worker's registry) then replaces it.
   */
  broken = false;

  private constructor(pkg: WeightPackage, kernel: Kernel, weights: ModelWeights, tokenizer: TextTokenizer, name: string, meter: RunMeter | undefined, turnTimeoutMs = Infinity) {
    this.turnTimeoutMs = turnTimeoutMs;
    this.pkg = pkg;
    this.config = pkg.config;
    this.kernel = kernel;
    this.weights = weights;
    this.tokenizer = tokenizer;
    this.name = name;
    this.meter = meter;
  }

  /**
   * @param weights where the weights live; default: the whole package loaded into kernel memory.
   * @param meter counts what each run reads (streamed weights); without it usage reports no reads.
   * @param name the model's name in messages (default: the manifest's).
   */
  static async create(pkg: WeightPackage, kernel: Kernel, options: { weights?: ModelWeights; meter?: RunMeter; name?: string; turnTimeoutMs?: number } = {}): Promise<Engine> {
    const tokenizer = TextTokenizer.fromJsonText(new TextDecoder().decode(await pkg.readTokenizer()), pkg.config.maxSeqLength);
    if (tokenizer.vocabSize > pkg.config.vocabSize) {
      throw new UfbError("bad_package", `tokenizer.json has ${tokenizer.vocabSize} tokens, the model's vocabulary has ${pkg.config.vocabSize}`);
    }
    const weights = options.weights ?? (await loadResidentWeights(pkg, kernel));
    return new Engine(pkg, kernel, weights, tokenizer, options.name ?? pkg.manifest.name, options.meter, options.turnTimeoutMs);
  }

  async run(request: RunRequest): Promise<RunResult> {
    return (await this.metered(request)).result;
  }

  /** Classifies each text: labels by probability (softmax of the logits), the first `topK` when asked. */
  async classify(texts: string[], options: TaskOptions & { topK?: number; explain?: boolean } = {}): Promise<{ results: ClassifyResult[]; usage: Usage }> {
    if (this.config.kind !== "classifier") {
      throw new UfbError(
        "unsupported_task",
        this.config.kind === "embedding"
          ? `model "${this.name}" is a sentence-embedding model without a classification head; use /v1/embed, or name a classifier (GET /v1/models lists what each model does)`
          : `model "${this.name}" is a masked-language model without a classification head; use /v1/fill-mask or /v1/embed`,
      );
    }
    const encoded = this.tokenize(texts, options.timer);
    const { result, usage } = await this.metered({ sequences: encoded.map((e) => ({ ids: e.ids })), logits: true, paths: options.explain === true }, options.timer);
    const results = encoded.map((e, b) => classifyResult(this.config, e, result.logits![b], { topK: options.topK, paths: result.paths, sequence: b }));
    return { results, usage };
  }

  /**
   * One pooled vector per text (the model's pooler; avg for MLM packages), L2-normalised when the package says
   * its vectors are (`normalize: "l2"`): what the model was trained to compare. A text may be given as token
   * ids of this model's vocabulary (OpenAI's token-array input).
   */
  async embed(texts: (string | number[])[], options: TaskOptions = {}): Promise<{ results: EmbedResult[]; usage: Usage }> {
    const encoded = this.tokenize(texts, options.timer);
    const { result, usage } = await this.metered({ sequences: encoded.map((e) => ({ ids: e.ids })), pooled: true }, options.timer);
    const l2 = this.config.normalize === "l2";
    return { results: encoded.map((e, b) => ({ vector: l2 ? l2Normalized(result.pooled![b]) : Array.from(result.pooled![b]), tokens: e.ids.length, truncated: e.truncated })), usage };
  }

  /** The `topK` (default 5) candidates for every mask token of every text. */
  async fillMask(texts: string[], options: TaskOptions & { topK?: number } = {}): Promise<{ results: FillMaskResult[]; usage: Usage }> {
    if (!hasMlmDecoder(this.config)) {
      throw new UfbError(
        "unsupported_task",
        this.config.kind === "embedding"
          ? `model "${this.name}" is a sentence-embedding model without a masked-language head; use /v1/embed, or name a model that fills masks (GET /v1/models)`
          : `model "${this.name}" is a classifier without a masked-language head; use /v1/classify`,
      );
    }
    const encoded = this.tokenize(texts, options.timer);
    const positions = maskPositions(this.tokenizer, encoded, this.name);
    const { result, usage } = await this.metered({ sequences: encoded.map((e) => ({ ids: e.ids })), mlmPositions: positions }, options.timer);
    return { results: fillMaskResults(this.tokenizer, encoded, positions, result.mlm!, options.topK), usage };
  }

  /** The tokens of each text as the model sees them (template included, truncated), without running it. */
  tokens(texts: string[], options: TaskOptions = {}): TokenizeResult[] {
    return this.tokenize(texts, options.timer).map((e) => ({
      tokens: e.ids.map((id, p) => ({ id, text: e.tokens[p], special: this.tokenizer.isSpecial(id) })),
      truncated: e.truncated,
    }));
  }

  /**
   * Tokenizes every text (a string, or token ids of the vocabulary); a text without a content token is
   * refused: NoContentError names each one by index.
   */
  tokenize(texts: (string | number[])[], timer?: PhaseTimer): TokenizedText[] {
    timer?.start("tokenize");
    let encoded: TokenizedText[];
    try {
      encoded = texts.map((t, i) => (typeof t === "string" ? this.tokenizer.encode(t) : this.tokenizer.encodeIds(t, `input[${i}]`)));
    } finally {
      timer?.end("tokenize");
    }
    const empty = encoded.flatMap((e, i) => (e.contentTokens === 0 || (typeof texts[i] === "string" && NO_CONTENT.test(texts[i])) ? [i] : []));
    if (empty.length > 0) throw new NoContentError(empty);
    return encoded;
  }

  /** Runs `request` in its turn, with what it read and the neurons it used. */
  private metered(request: RunRequest, timer?: PhaseTimer): Promise<{ result: RunResult; usage: Usage }> {
    return this.takeTurn().then(async () => {
      this.runningSince = Date.now();
      let reads: RunReads = { r2Reads: 0, bytesFetched: 0, cacheHits: 0 };
      let result: RunResult;
      try {
        this.meter?.begin(timer);
        timer?.start("compute");
        result = await this.runNow(request);
      } finally {
        timer?.end("compute");
        try {
          if (this.meter) reads = await this.meter.end();
        } finally {
          this.runningSince = undefined;
          this.passTurn();
        }
      }
      const c = this.config;
      const tokens = request.sequences.reduce((n, s) => n + s.ids.length, 0);
      const usage: Usage = {
        tokens,
        neuronsUsed: tokens * c.numLayers * c.fffTrees * fffLevels(c),
        neuronsAvailable: tokens * c.numLayers * c.fffTrees * fffNodesPerTree(c),
        ...reads,
      };
      return { result, usage };
    });
  }

  /**
   * Resolves when this run may start: at once when none runs, else when the running one ends, waiting at
   * most `turnTimeoutMs` in all (on this request's own timer). A wait that expires fails with
   * UfbError("io"); when the run holding the turn has itself been running that long, the engine is marked
   * broken.
   */
  private async takeTurn(): Promise<void> {
    const ms = this.turnTimeoutMs;
    const deadline = ms > 0 && ms < Infinity ? Date.now() + ms : Infinity;
    while (this.holder) {
      const remaining = deadline - Date.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<"expired">((resolve) => {
        if (remaining < Infinity) timer = setTimeout(() => resolve("expired"), Math.max(0, remaining));
      });
      const outcome = await Promise.race([this.holder.done.then(() => "ended" as const), expired]);
      if (timer !== undefined) clearTimeout(timer);
      if (outcome === "expired") {
        if (this.runningSince !== undefined && Date.now() - this.runningSince >= ms) this.broken = true;
        throw new UfbError("io", `${this.name}: waited ${ms} ms for the previous run to finish${this.broken ? " (it is stuck: the engine will be replaced)" : ""}`);
      }
    }
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    this.holder = { done, release };
  }

  /** Ends this run's turn (called by the run that holds it, in its own request). */
  private passTurn(): void {
    const h = this.holder;
    this.holder = undefined;
    h?.release();
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
      throw new UfbError("unsupported_task", `logits: this package has no classification head (it is ${c.kind === "embedding" ? "an embedding package; ask for pooled vectors" : "an MLM package; ask for MLM logits at positions"})`);
    }
    if (request.mlmPositions) {
      if (!hasMlmDecoder(c)) throw new UfbError("unsupported_task", `positions: this package has no MLM decoder (it is ${c.kind === "embedding" ? "an embedding package" : "a classifier"})`);
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
