/**
 * Loader for the published crammedBERT / UltraFastBERT checkpoint layout (spec §1, §3, §4): a folder with
 * model.safetensors, config.json (Hugging Face format, arch nested under "arch") or model_config.json
 * (the bare arch dict, whose sizes may be null: then the tensor shapes give them), and tokenizer.json.
 *
 * Every tensor key and shape is checked; unknown keys are refused; errors name the tensor or field and
 * say what was expected. The result is a PackageInput for writePackage().
 */
import { z } from "zod";
import { UfbError } from "../../errors.ts";
import { MAX_FFF_LEVELS, nodesInTree } from "../format/spec.ts";
import { KEYS, LAYER_KEYS } from "../format/layout.ts";
import type { PackageConfig } from "../format/config.ts";
import { formatZodIssues } from "../format/manifest.ts";
import { SafetensorsFile } from "./safetensors.ts";
import type { WeightSource } from "../read/sources.ts";
import { readTokenizerInfo } from "../format/tokenizer-info.ts";
import type { ModelTensors, PackageInput } from "./writer.ts";

export interface CheckpointFiles {
  /** config.json (arch under "arch"); preferred when present. */
  config?: Uint8Array;
  /** model_config.json (bare arch dict), used when config.json is absent. */
  modelConfig?: Uint8Array;
  tokenizer: Uint8Array;
  /** model.safetensors. */
  weights: WeightSource;
}

export interface CheckpointOptions {
  /** Model name for the manifest. */
  name?: string;
  /** Overrides the pooler read from the config (classifiers, embedding models). */
  pooler?: "avg" | "zero_index";
}

export interface Checkpoint extends PackageInput {
  safetensors: SafetensorsFile;
  /** Things that were resolved by a rule rather than read (e.g. labels LABEL_i): the CLI prints them. */
  warnings: string[];
}

const pos = z.int().min(1);
const ArchSchema = z.looseObject({
  hidden_size: pos,
  num_transformer_layers: pos,
  intermed_size: pos,
  intermed_depth: z.int().min(0).max(MAX_FFF_LEVELS - 1),
  norm_eps: z.number().positive(),
  num_labels: pos.nullable().optional(),
  embedding: z.looseObject({
    vocab_size: pos.nullable().optional(),
    max_seq_length: pos,
    embedding_dim: pos.optional(),
  }),
  attention: z.looseObject({ num_attention_heads: pos }),
  classification_head: z.looseObject({ pooler: z.string().optional(), head_dim: pos.optional() }).optional(),
});
type Arch = z.infer<typeof ArchSchema>;

const ConfigJsonSchema = z.looseObject({
  arch: z.record(z.string(), z.unknown()),
  architectures: z.array(z.string()).optional(),
  id2label: z.record(z.string(), z.string()).optional(),
  /** Ours (train/assemble2.py): a classifier trained to keep its MLM head, the word embedding. */
  tied_mlm_decoder: z.boolean().optional(),
  /**
   * Ours (train/assemble2.py --embedding): an encoder trained for sentence vectors (train/embed.py): which
   * pooler gives them and whether they are compared L2-normalised. The tensors are an MLM's; the package is
   * kind "embedding".
   */
  sentence_embedding: z.strictObject({ pooler: z.enum(["avg", "zero_index"]), normalize: z.literal("l2").nullable() }).optional(),
});

/** Values the engine implements; a config that says otherwise describes a different model. */
const SUPPORTED: [path: string, value: unknown, when?: "mlm" | "classifier"][] = [
  ["intermed_type", "fff"],
  ["norm_scheme", "pre"],
  ["norm", "LayerNorm"],
  ["nonlin", "GELU"],
  ["final_norm", true],
  ["use_bias", false],
  ["decoder_bias", false],
  ["ffn_layer_frequency", 1],
  ["embedding.pos_embedding", "scaled-sinusoidal"],
  ["embedding.normalization", true],
  ["attention.type", "self-attention"],
  ["attention.causal_attention", false],
  ["attention.qkv_bias", false],
  ["attention.rotary_embedding", false],
  ["attention.sequence_op", "torch-softmax"],
  ["attention.skip_output_projection", false],
  ["tie_weights", true, "mlm"],
  ["skip_head_transform", true, "mlm"],
  ["classification_head.include_ff_layer", true, "classifier"],
  ["classification_head.nonlin", "Tanh", "classifier"],
];

const get = (obj: unknown, path: string): unknown =>
  path.split(".").reduce<unknown>((o, k) => (typeof o === "object" && o !== null ? (o as Record<string, unknown>)[k] : undefined), obj);

function parseJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new UfbError("bad_checkpoint", `${file}: not valid JSON (${(e as Error).message})`);
  }
}

const shapeStr = (s: number[]) => `[${s.join(", ")}]`;

export async function loadCheckpoint(files: CheckpointFiles, options: CheckpointOptions = {}): Promise<Checkpoint> {
  const warnings: string[] = [];
  // 1. config: config.json (arch nested) or model_config.json (bare arch)
  let configFile: string;
  let archJson: unknown;
  let id2label: Record<string, string> | undefined;
  let architectures: string[] | undefined;
  let tiedMlmDecoder = false;
  let sentenceEmbedding: z.infer<typeof ConfigJsonSchema>["sentence_embedding"];
  if (files.config) {
    configFile = "config.json";
    const parsed = ConfigJsonSchema.safeParse(parseJson(files.config, configFile));
    if (!parsed.success) throw new UfbError("bad_checkpoint", `config.json: ${formatZodIssues(parsed.error)}`);
    archJson = parsed.data.arch;
    id2label = parsed.data.id2label;
    architectures = parsed.data.architectures;
    tiedMlmDecoder = parsed.data.tied_mlm_decoder === true;
    sentenceEmbedding = parsed.data.sentence_embedding;
  } else if (files.modelConfig) {
    configFile = "model_config.json";
    archJson = parseJson(files.modelConfig, configFile);
  } else {
    throw new UfbError("bad_checkpoint", "checkpoint: neither config.json nor model_config.json is present");
  }
  const archParsed = ArchSchema.safeParse(archJson);
  const prefix = configFile === "config.json" ? "arch." : "";
  if (!archParsed.success) throw new UfbError("bad_checkpoint", `${configFile}: ${formatZodIssues(archParsed.error, prefix)}`);
  const arch: Arch = archParsed.data;

  // 2. tensors: which model is it?
  const st = await SafetensorsFile.open(files.weights);
  const kind: "mlm" | "classifier" = st.has(KEYS.headWeight) || st.has(KEYS.poolerWeight) ? "classifier" : "mlm";
  if (sentenceEmbedding && kind === "classifier") {
    throw new UfbError("bad_checkpoint", `config.json: sentence_embedding describes an embedding model, but ${st.source.name} holds a classification head (pooler.dense.*, head.*)`);
  }
  for (const [path, value, when] of SUPPORTED) {
    if (when && when !== kind) continue;
    const got = get(arch, path);
    if (got !== undefined && got !== value) {
      throw new UfbError("bad_checkpoint", `${configFile}: ${prefix}${path} is ${JSON.stringify(got)}; this engine implements ${JSON.stringify(value)} only`);
    }
  }

  const h = arch.hidden_size;
  const heads = arch.attention.num_attention_heads;
  if (h % heads !== 0) throw new UfbError("bad_checkpoint", `${configFile}: ${prefix}hidden_size ${h} is not a multiple of ${prefix}attention.num_attention_heads ${heads}`);
  if (arch.embedding.embedding_dim !== undefined && arch.embedding.embedding_dim !== h) {
    throw new UfbError("bad_checkpoint", `${configFile}: ${prefix}embedding.embedding_dim ${arch.embedding.embedding_dim} ≠ hidden_size ${h} (no embedding projection is implemented)`);
  }
  const k = arch.intermed_size;
  const levels = arch.intermed_depth + 1;
  const n = nodesInTree(levels);
  const layers = arch.num_transformer_layers;

  // vocabulary: config when given, else the embedding's rows
  const embKey = st.has(KEYS.wordEmbedding) ? KEYS.wordEmbedding : st.has(KEYS.decoder) ? KEYS.decoder : null;
  if (embKey === null) throw new UfbError("bad_checkpoint", `${st.source.name}: missing tensor "${KEYS.wordEmbedding}" (and no "${KEYS.decoder}" copy)`);
  const embShape = st.tensor(embKey).shape;
  const vocab = arch.embedding.vocab_size ?? embShape[0];
  if (arch.embedding.vocab_size == null) warnings.push(`${configFile}: ${prefix}embedding.vocab_size is null; vocabulary size ${vocab} taken from "${embKey}"`);

  // classifier sizes: the shapes win over arch.num_labels / head_dim (spec §9, issue #9)
  let classifierDim: number | null = null;
  let numLabels: number | null = null;
  if (kind === "classifier") {
    for (const key of [KEYS.poolerWeight, KEYS.headWeight]) {
      if (!st.has(key)) throw new UfbError("bad_checkpoint", `${st.source.name}: missing tensor "${key}" (a classifier checkpoint has pooler.dense.* and head.*)`);
      if (st.tensor(key).shape.length !== 2) throw new UfbError("bad_checkpoint", `${st.source.name}: tensor "${key}" has shape ${shapeStr(st.tensor(key).shape)}, expected 2 dimensions`);
    }
    classifierDim = st.tensor(KEYS.poolerWeight).shape[0];
    numLabels = st.tensor(KEYS.headWeight).shape[0];
    if (arch.num_labels != null && arch.num_labels !== numLabels) warnings.push(`${configFile}: ${prefix}num_labels is ${arch.num_labels} but "head.weight" has ${numLabels} rows; using ${numLabels}`);
    const headDim = arch.classification_head?.head_dim;
    if (headDim !== undefined && headDim !== classifierDim) warnings.push(`${configFile}: ${prefix}classification_head.head_dim is ${headDim} but "pooler.dense.weight" has ${classifierDim} rows; using ${classifierDim}`);
  }

  // 3. every key and shape
  const expected = new Map<string, number[]>();
  const optional = new Set<string>();
  const add = (key: string, shape: number[]) => expected.set(key, shape);
  add(KEYS.wordEmbedding, [vocab, h]);
  if (kind === "mlm") {
    add(KEYS.decoder, [vocab, h]);
    optional.add(KEYS.wordEmbedding).add(KEYS.decoder); // either copy (checked below)
  }
  add(KEYS.scaleFactor, [1]);
  add(KEYS.embeddingNormWeight, [h]);
  add(KEYS.embeddingNormBias, [h]);
  for (let l = 0; l < layers; l++) {
    const key = (s: string) => KEYS.layer(l, s);
    add(key(LAYER_KEYS.norm1Weight), [h]);
    add(key(LAYER_KEYS.norm1Bias), [h]);
    add(key(LAYER_KEYS.qkv), [3 * h, h]);
    add(key(LAYER_KEYS.attnOut), [h, h]);
    add(key(LAYER_KEYS.norm2Weight), [h]);
    add(key(LAYER_KEYS.norm2Bias), [h]);
    add(key(LAYER_KEYS.normFactor), []);
    optional.add(key(LAYER_KEYS.normFactor));
    add(key(LAYER_KEYS.fffInWeight), [k * n, h]);
    add(key(LAYER_KEYS.fffInBias), [k * n]);
    add(key(LAYER_KEYS.fffOutWeight), [h, k * n]);
  }
  add(KEYS.finalNormWeight, [h]);
  add(KEYS.finalNormBias, [h]);
  if (kind === "classifier") {
    add(KEYS.poolerWeight, [classifierDim!, h]);
    add(KEYS.poolerBias, [classifierDim!]);
    add(KEYS.headWeight, [numLabels!, classifierDim!]);
    add(KEYS.headBias, [numLabels!]);
  }
  const sizes = `hidden_size ${h}, ${layers} layers, ${k} tree(s) of depth ${arch.intermed_depth} (${n} nodes), vocabulary ${vocab}`;
  const problems: string[] = [];
  for (const t of st.tensors.values()) {
    const want = expected.get(t.name);
    if (!want) {
      problems.push(`unexpected tensor "${t.name}" (not part of a crammedBERT FFF ${kind === "mlm" ? "MLM" : "classifier"} checkpoint with ${sizes})`);
    } else {
      const ok = t.name.endsWith(LAYER_KEYS.normFactor) ? t.elements === 1 && t.shape.length <= 1 : shapeStr(t.shape) === shapeStr(want);
      if (!ok) problems.push(`tensor "${t.name}" has shape ${shapeStr(t.shape)}, expected ${shapeStr(want)} (${sizes})`);
    }
  }
  for (const key of expected.keys()) {
    if (!st.has(key) && !optional.has(key)) problems.push(`missing tensor "${key}" (expected shape ${shapeStr(expected.get(key)!)})`);
  }
  if (problems.length > 0) {
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : "";
    throw new UfbError("bad_checkpoint", `${st.source.name}: ${problems.slice(0, 5).join("; ")}${more}`);
  }
  const headDim = h / heads;
  for (let l = 0; l < layers; l++) {
    const key = KEYS.layer(l, LAYER_KEYS.normFactor);
    if (!st.has(key)) continue;
    const v = (await st.readF32(key))[0];
    if (Math.abs(v - 1 / Math.sqrt(headDim)) > 1e-6) warnings.push(`tensor "${key}" is ${v}, not 1/√head_dim = ${1 / Math.sqrt(headDim)}; the package uses 1/√head_dim`);
  }

  // 4. classifier head description
  let pooler: "avg" | "zero_index" | null = null;
  let labels: string[] | null = null;
  if (sentenceEmbedding) pooler = options.pooler ?? sentenceEmbedding.pooler;
  if (kind === "classifier") {
    const fromConfig = arch.classification_head?.pooler;
    const chosen = options.pooler ?? fromConfig ?? "zero_index";
    if (chosen !== "avg" && chosen !== "zero_index") {
      throw new UfbError("bad_checkpoint", `${configFile}: ${prefix}classification_head.pooler is ${JSON.stringify(chosen)}, expected "avg" or "zero_index"`);
    }
    if (options.pooler === undefined && fromConfig === undefined) warnings.push(`${configFile}: no ${prefix}classification_head.pooler; using "zero_index" (the GLUE setting)`);
    pooler = chosen;
    const ids = id2label ? Object.keys(id2label) : [];
    const complete = id2label !== undefined && ids.length === numLabels && ids.every((id) => /^\d+$/.test(id) && Number(id) < numLabels!);
    labels = Array.from({ length: numLabels! }, (_, i) => (complete ? id2label![String(i)] : `LABEL_${i}`));
    if (id2label !== undefined && !complete) warnings.push(`config.json: id2label has ${ids.length} entries for ${numLabels} labels; using LABEL_0 … LABEL_${numLabels! - 1}`);
    if (id2label === undefined) warnings.push(`${configFile}: no id2label; labels are LABEL_0 … LABEL_${numLabels! - 1}`);
  }

  // 5. tokenizer
  const tok = readTokenizerInfo(files.tokenizer);
  if (tok.vocabSize > vocab) throw new UfbError("bad_checkpoint", `tokenizer.json: ${tok.vocabSize} vocabulary entries, but the embedding has ${vocab} rows`);
  if (tok.vocabSize < vocab) warnings.push(`tokenizer.json: ${tok.vocabSize} vocabulary entries for ${vocab} embedding rows`);
  for (const role of ["pad", "unk", "cls", "sep", "mask"] as const) {
    if (tok.specialTokens[role] === undefined) warnings.push(`tokenizer.json: no special token for role ${role} in added_tokens`);
  }

  const config: PackageConfig = {
    hiddenSize: h,
    numLayers: layers,
    numHeads: heads,
    headDim,
    fffTrees: k,
    fffDepth: arch.intermed_depth,
    vocabSize: vocab,
    maxSeqLength: arch.embedding.max_seq_length,
    normEps: arch.norm_eps,
    kind: sentenceEmbedding ? "embedding" : kind,
    pooler,
    classifierDim,
    numLabels,
    labels,
    ...(kind === "classifier" && tiedMlmDecoder ? { mlmDecoder: "tied" as const } : {}),
    ...(sentenceEmbedding?.normalize ? { normalize: sentenceEmbedding.normalize } : {}),
  };
  return {
    name: options.name ?? "checkpoint",
    config,
    specialTokens: tok.specialTokens,
    tokenizer: files.tokenizer,
    tensors: checkpointTensors(st, kind),
    from: { kind: "checkpoint", config: configFile, architectures: architectures ?? null, safetensors: { tensors: st.tensors.size, metadata: st.metadata } },
    safetensors: st,
    warnings,
  };
}

/** The word embedding from either copy; when both exist, rows are compared as they are read (tied weights). */
function checkpointTensors(st: SafetensorsFile, kind: "mlm" | "classifier"): ModelTensors {
  const both = kind === "mlm" && st.has(KEYS.wordEmbedding) && st.has(KEYS.decoder);
  const resolve = (name: string) => (name === KEYS.wordEmbedding && !st.has(name) ? KEYS.decoder : name);
  return {
    get: (name) => st.readF32(resolve(name)),
    async getRows(name, start, count) {
      const rows = await st.readRowsF32(resolve(name), start, count);
      if (name === KEYS.wordEmbedding && both) {
        const copy = await st.readRowsF32(KEYS.decoder, start, count);
        const cols = rows.length / Math.max(count, 1);
        for (let i = 0; i < rows.length; i++) {
          if (rows[i] !== copy[i] && !(Number.isNaN(rows[i]) && Number.isNaN(copy[i]))) {
            throw new UfbError("bad_checkpoint", `tensor "${KEYS.decoder}" row ${start + Math.floor(i / cols)} differs from "${KEYS.wordEmbedding}"; the package ties the decoder to the embedding`);
          }
        }
      }
      return rows;
    },
  };
}
