import { describe, expect, it } from "vitest";
import { fixtureBytes } from "../helpers/fixtures.ts";
import { loadCheckpoint } from "../../src/weights/convert/checkpoint.ts";
import { UfbError } from "../../src/errors.ts";
import { SafetensorsFile, encodeSafetensors } from "../../src/weights/convert/safetensors.ts";
import { MemorySink, MemorySource } from "../../src/weights/read/sources.ts";
import { writePackage } from "../../src/weights/convert/writer.ts";
import { WeightPackage } from "../../src/weights/read/package.ts";

type Tensor = { name: string; shape: number[]; data: Float32Array };

describe("checkpoint loader", async () => {
  const stBytes = await fixtureBytes("reference/tiny/model.safetensors");
  const st = await SafetensorsFile.open(new MemorySource(stBytes));
  const base: Tensor[] = [];
  for (const t of st.tensors.values()) base.push({ name: t.name, shape: t.shape, data: await st.readF32(t.name) });
  const configJson = JSON.parse(new TextDecoder().decode(await fixtureBytes("reference/tiny/config.json")));
  const modelConfig = await fixtureBytes("reference/tiny/model_config.json");
  const tokenizer = await fixtureBytes("reference/tiny/tokenizer.json");
  const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

  const load = (tensors: Tensor[], config: unknown = configJson, extra: { pooler?: "avg" | "zero_index"; modelConfig?: Uint8Array } = {}) =>
    loadCheckpoint(
      {
        config: config === null ? undefined : enc(config),
        modelConfig: extra.modelConfig,
        tokenizer,
        weights: new MemorySource(encodeSafetensors(tensors), "model.safetensors"),
      },
      { pooler: extra.pooler },
    );
  const fails = async (p: Promise<unknown>, re: RegExp) => {
    const err = (await p.then(() => undefined, (e: unknown) => e)) as UfbError;
    expect(err).toBeInstanceOf(UfbError);
    expect(err.code).toBe("bad_checkpoint");
    expect(err.message).toMatch(re);
  };
  const without = (...names: string[]) => base.filter((t) => !names.includes(t.name));
  const classifier = (labels = 3, dim = 24): Tensor[] => [
    ...without("decoder.weight"),
    { name: "pooler.dense.weight", shape: [dim, 64], data: new Float32Array(dim * 64).fill(0.01) },
    { name: "pooler.dense.bias", shape: [dim], data: new Float32Array(dim) },
    { name: "head.weight", shape: [labels, dim], data: Float32Array.from({ length: labels * dim }, (_, i) => i / 100) },
    { name: "head.bias", shape: [labels], data: Float32Array.from({ length: labels }, (_, i) => i) },
  ];
  const cfg = (f: (c: any) => void) => {
    const c = structuredClone(configJson);
    f(c);
    return c;
  };

  it("should load the fixture with config.json", async () => {
    const c = await load(base);
    expect(c.config).toMatchObject({ kind: "mlm", hiddenSize: 64, fffDepth: 5, vocabSize: 512, pooler: null });
    expect(c.warnings).toEqual([]);
  });

  it("should take the vocabulary from the tensors when model_config.json says null", async () => {
    const c = await load(base, null, { modelConfig });
    expect(c.config.vocabSize).toBe(512);
    expect(c.warnings.join("\n")).toMatch(/model_config\.json: embedding\.vocab_size is null; vocabulary size 512 taken from "encoder\.embedding\.word_embedding\.weight"/);
    expect(c.from.config).toBe("model_config.json");
  });

  it("should accept either copy of the word embedding", async () => {
    const onlyDecoder = await load(without("encoder.embedding.word_embedding.weight"));
    const rows = await onlyDecoder.tensors.getRows("encoder.embedding.word_embedding.weight", 10, 1);
    expect(rows).toEqual(base.find((t) => t.name === "decoder.weight")!.data.subarray(640, 704));
    const onlyEmbedding = await load(without("decoder.weight"));
    expect(onlyEmbedding.config.vocabSize).toBe(512);
  });

  it("should refuse a decoder copy that differs from the embedding", async () => {
    const dec = base.find((t) => t.name === "decoder.weight")!;
    const changed = dec.data.slice();
    changed[300 * 64 + 7] += 1;
    const c = await load([...without("decoder.weight"), { ...dec, data: changed }]);
    await fails(writePackage(c, new MemorySink(), { dtype: "f32" }), /tensor "decoder\.weight" row 300 differs from "encoder\.embedding\.word_embedding\.weight"/);
  });

  it("should name unknown, missing and misshapen tensors", async () => {
    await fails(load([...base, { name: "encoder.layers.0.ffn.linear_out.bias", shape: [64], data: new Float32Array(64) }]), /unexpected tensor "encoder\.layers\.0\.ffn\.linear_out\.bias"/);
    await fails(load([...base, { name: "encoder.layers.2.norm1.weight", shape: [64], data: new Float32Array(64) }]), /unexpected tensor "encoder\.layers\.2\.norm1\.weight"/);
    await fails(load(without("encoder.layers.1.norm2.bias")), /missing tensor "encoder\.layers\.1\.norm2\.bias" \(expected shape \[64\]\)/);
    const lin = base.find((t) => t.name === "encoder.layers.0.ffn.linear_in.weight")!;
    await fails(
      load([...without(lin.name), { name: lin.name, shape: [64, 63], data: lin.data }]),
      /tensor "encoder\.layers\.0\.ffn\.linear_in\.weight" has shape \[64, 63\], expected \[63, 64\]/,
    );
    await fails(load(without("encoder.embedding.word_embedding.weight", "decoder.weight")), /missing tensor "encoder\.embedding\.word_embedding\.weight"/);
  });

  it("should check K trees × depth against the tensor shapes", async () => {
    await fails(load(base, cfg((c) => (c.arch.intermed_size = 2))), /"encoder\.layers\.0\.ffn\.linear_in\.weight" has shape \[63, 64\], expected \[126, 64\]/);
    await fails(load(base, cfg((c) => (c.arch.intermed_depth = 4))), /expected \[31, 64\]/);
  });

  it("should name config fields that are missing, malformed or describe another model", async () => {
    await fails(load(base, cfg((c) => delete c.arch.hidden_size)), /config\.json: arch\.hidden_size/);
    await fails(load(base, cfg((c) => (c.arch.intermed_type = "linear"))), /config\.json: arch\.intermed_type is "linear"; this engine implements "fff" only/);
    await fails(load(base, cfg((c) => (c.arch.attention.qkv_bias = true))), /arch\.attention\.qkv_bias is true/);
    await fails(load(base, cfg((c) => (c.arch.attention.num_attention_heads = 5))), /hidden_size 64 is not a multiple of arch\.attention\.num_attention_heads 5/);
    const err = await loadCheckpoint({ config: new TextEncoder().encode("{\"arch\": "), tokenizer, weights: new MemorySource(stBytes) }).catch((e) => e);
    expect(err.message).toMatch(/^config\.json: not valid JSON/);
    const tok = await loadCheckpoint({ config: enc(configJson), tokenizer: new TextEncoder().encode("[]"), weights: new MemorySource(stBytes) }).catch((e) => e);
    expect(tok.message).toMatch(/^tokenizer\.json: expected an object with a "model" field/);
  });

  it("should load a classifier: sizes from the shapes, labels from id2label, pooler from the config", async () => {
    const c = await load(classifier(3, 24), cfg((c) => {
      c.arch.num_labels = 2; // the shape (3) wins
      c.id2label = { "0": "neg", "1": "neutral", "2": "pos" };
    }));
    expect(c.config).toMatchObject({ kind: "classifier", classifierDim: 24, numLabels: 3, labels: ["neg", "neutral", "pos"], pooler: "avg" });
    expect(c.warnings.join("\n")).toMatch(/num_labels is 2 but "head\.weight" has 3 rows; using 3/);
    expect(c.warnings.join("\n")).toMatch(/head_dim is 1024 but "pooler\.dense\.weight" has 24 rows; using 24/);

    const sink = new MemorySink();
    const manifest = await writePackage(c, sink, { dtype: "f32" });
    const pkg = await WeightPackage.open({ manifest: JSON.stringify(manifest), tokenizer: async () => tokenizer, weights: new MemorySource(sink.bytes()) });
    const dense = await pkg.readDense();
    expect([...pkg.denseView(dense, "head.bias").data]).toEqual([0, 1, 2]);
    expect(pkg.denseView(dense, "head.weight").entry.shape).toEqual([3, 24]);
    expect(pkg.denseView(dense, "pooler.dense.weight").entry.shape).toEqual([24, 64]);
  });

  it("should default the classifier pooler to zero_index and labels to LABEL_i", async () => {
    const c = await load(classifier(2), cfg((c) => delete c.arch.classification_head.pooler));
    expect(c.config.pooler).toBe("zero_index");
    expect(c.config.labels).toEqual(["LABEL_0", "LABEL_1"]);
    expect((await load(classifier(2), configJson, { pooler: "zero_index" })).config.pooler).toBe("zero_index");
    await fails(load(classifier(2), cfg((c) => (c.arch.classification_head.pooler = "cls"))), /classification_head\.pooler is "cls", expected "avg" or "zero_index"/);
  });

  it("should load an embedding model (train/assemble2.py --embedding): MLM tensors, kind embedding, its pooler and normalisation", async () => {
    const sentence = (se: unknown) => cfg((c) => (c.sentence_embedding = se));
    const c = await load(base, sentence({ pooler: "avg", normalize: "l2" }));
    expect(c.config).toMatchObject({ kind: "embedding", pooler: "avg", normalize: "l2", classifierDim: null, numLabels: null, labels: null });
    expect(c.config.mlmDecoder).toBeUndefined();
    expect(c.warnings).toEqual([]);
    // written and read back: the manifest says what the model is, and its layout is an MLM's (no head tensors)
    const sink = new MemorySink();
    const manifest = await writePackage(c, sink, { dtype: "q8" });
    const pkg = await WeightPackage.open({ manifest: JSON.stringify(manifest), tokenizer: async () => tokenizer, weights: new MemorySource(sink.bytes()) });
    expect(pkg.config).toMatchObject({ kind: "embedding", pooler: "avg", normalize: "l2" });
    expect(pkg.manifest.tensors.map((t) => t.name).filter((n) => n.startsWith("pooler") || n.startsWith("head"))).toEqual([]);

    const unnormalised = await load(base, sentence({ pooler: "zero_index", normalize: null }));
    expect(unnormalised.config).toMatchObject({ kind: "embedding", pooler: "zero_index" });
    expect(unnormalised.config.normalize).toBeUndefined();
    expect((await load(base, sentence({ pooler: "avg", normalize: "l2" }), { pooler: "zero_index" })).config.pooler).toBe("zero_index");
    await fails(load(classifier(2), sentence({ pooler: "avg", normalize: "l2" })), /sentence_embedding describes an embedding model, but model\.safetensors holds a classification head/);
    await fails(load(base, sentence({ pooler: "mean", normalize: "l2" })), /config\.json: sentence_embedding\.pooler/);
  });

  it("should refuse a decoder in a classifier and a half-present head", async () => {
    await fails(load([...classifier(2), base.find((t) => t.name === "decoder.weight")!]), /unexpected tensor "decoder\.weight" \(not part of a crammedBERT FFF classifier/);
    await fails(load(classifier(2).filter((t) => t.name !== "head.weight")), /missing tensor "head\.weight"/);
  });

  it("should refuse non-finite weights, naming the tensor", async () => {
    const qkv = base.find((t) => t.name === "encoder.layers.1.attn.self_attention.query_key_value.weight")!;
    const data = qkv.data.slice();
    data[5 * 64 + 1] = NaN;
    const c = await load([...without(qkv.name), { ...qkv, data }]);
    await fails(writePackage(c, new MemorySink(), { dtype: "q8" }), /tensor "encoder\.layers\.1\.attn\.self_attention\.query_key_value\.weight": non-finite value \(NaN or ±Inf\) in row 5/);
  });
});
