import { describe, expect, it } from "vitest";
import { fixtureBytes, fixtureJson } from "../helpers/fixtures.ts";
import { UfbError } from "../../src/errors.ts";
import { SafetensorsFile, encodeSafetensors } from "../../src/weights/convert/safetensors.ts";
import { MemorySource } from "../../src/weights/read/sources.ts";
import { fixtureSource } from "./helpers.ts";

const tinyKeys = [
  "decoder.weight",
  "encoder.embedding.norm.bias",
  "encoder.embedding.norm.weight",
  "encoder.embedding.pos_embedding.scale_factor",
  "encoder.embedding.word_embedding.weight",
  "encoder.final_norm.bias",
  "encoder.final_norm.weight",
  ...[0, 1].flatMap((l) =>
    [
      "attn.dense.weight",
      "attn.self_attention.norm_factor",
      "attn.self_attention.query_key_value.weight",
      "ffn.linear_in.bias",
      "ffn.linear_in.weight",
      "ffn.linear_out.weight",
      "norm1.bias",
      "norm1.weight",
      "norm2.bias",
      "norm2.weight",
    ].map((k) => `encoder.layers.${l}.${k}`),
  ),
];

/** Reads the header by hand (8-byte LE length, JSON) to get independent offsets. */
function handHeader(bytes: Uint8Array) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
  const f32At = (key: string, index: number) => new DataView(bytes.buffer, bytes.byteOffset).getFloat32(8 + n + header[key].data_offsets[0] + 4 * index, true);
  return { n, header, f32At };
}

describe("safetensors reader on the tiny fixture", async () => {
  const bytes = await fixtureBytes("reference/tiny/model.safetensors");
  const expected = await fixtureJson<{ scale_factor: number; norm_factor: number }>("reference/tiny/expected.json");

  it("should list the reference keys and shapes, through ranged reads", async () => {
    const st = await SafetensorsFile.open(fixtureSource("reference/tiny/model.safetensors", bytes.length));
    expect([...st.tensors.keys()].sort()).toEqual([...tinyKeys].sort());
    expect(st.metadata).toEqual({ format: "pt" });
    expect(st.tensor("encoder.embedding.word_embedding.weight").shape).toEqual([512, 64]);
    expect(st.tensor("encoder.layers.1.ffn.linear_in.weight").shape).toEqual([63, 64]);
    expect(st.tensor("encoder.layers.1.ffn.linear_out.weight").shape).toEqual([64, 63]);
    expect(st.tensor("encoder.layers.0.attn.self_attention.query_key_value.weight").shape).toEqual([192, 64]);
    expect(st.tensor("encoder.embedding.pos_embedding.scale_factor").shape).toEqual([1]);
  });

  it("should read 0-dim norm_factor as one value (0.25 = 1/√16)", async () => {
    const st = await SafetensorsFile.open(new MemorySource(bytes));
    const t = st.tensor("encoder.layers.0.attn.self_attention.norm_factor");
    expect(t.shape).toEqual([]);
    expect(t.elements).toBe(1);
    expect(t.end - t.begin).toBe(4);
    const v = await st.readF32(t.name);
    expect([...v]).toEqual([0.25]);
    expect(v[0]).toBe(Math.fround(expected.norm_factor));
  });

  it("should return the values at the offsets computed from the header by hand", async () => {
    const st = await SafetensorsFile.open(new MemorySource(bytes));
    const hand = handHeader(bytes);
    expect(st.headerBytes).toBe(hand.n);
    expect((await st.readF32("encoder.embedding.pos_embedding.scale_factor"))[0]).toBe(Math.fround(expected.scale_factor));
    expect((await st.readF32("encoder.embedding.pos_embedding.scale_factor"))[0]).toBe(hand.f32At("encoder.embedding.pos_embedding.scale_factor", 0));
    const lin = await st.readF32("encoder.layers.1.ffn.linear_in.weight");
    for (const i of [0, 1, 64 * 17 + 5, 63 * 64 - 1]) expect(lin[i]).toBe(hand.f32At("encoder.layers.1.ffn.linear_in.weight", i));
    const rows = await st.readRowsF32("encoder.embedding.word_embedding.weight", 300, 2);
    expect(rows.length).toBe(128);
    expect(rows[0]).toBe(hand.f32At("encoder.embedding.word_embedding.weight", 300 * 64));
    expect(rows[127]).toBe(hand.f32At("encoder.embedding.word_embedding.weight", 301 * 64 + 63));
  });
});

describe("safetensors reader errors", () => {
  const file = (header: unknown, data = new Uint8Array(0)) => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + data.length);
    new DataView(out.buffer).setUint32(0, json.length, true);
    out.set(json, 8);
    out.set(data, 8 + json.length);
    return new MemorySource(out, "bad.safetensors");
  };
  const fails = async (src: MemorySource, re: RegExp) => {
    const err = await SafetensorsFile.open(src).catch((e) => e);
    expect(err).toBeInstanceOf(UfbError);
    expect(err.code).toBe("bad_safetensors");
    expect(err.message).toMatch(re);
  };

  it("should name the tensor and what was expected", async () => {
    await fails(file({ a: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor "a": dtype "I64", expected one of F32/);
    await fails(file({ w: { dtype: "F32", shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(24)), /tensor "w": 20 bytes of data, expected 24 for F32 shape \[2, 3\]/);
    await fails(file({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)), /tensor "w": data_offsets end 8 is past the end of the data \(4 bytes\)/);
    await fails(file({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }), /tensor "w": shape \[-1\]/);
  });

  it("should refuse truncated files and headers that are not JSON", async () => {
    await fails(new MemorySource(new Uint8Array(5), "short"), /too short/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(0, 1000, true);
    await fails(new MemorySource(huge), /header length 1000 runs past the end/);
    const notJson = new Uint8Array(12);
    new DataView(notJson.buffer).setUint32(0, 4, true);
    notJson.set(new TextEncoder().encode("{{{{"), 8);
    await fails(new MemorySource(notJson), /header is not valid JSON/);
  });

  it("should read F16, BF16 and F64 as f32", async () => {
    const data = new Uint8Array(4 + 4 + 8);
    const v = new DataView(data.buffer);
    v.setUint16(0, 0x3c00, true); // f16 1.0
    v.setUint16(2, 0xc100, true); // f16 -2.5
    v.setUint16(4, 0x3fc0, true); // bf16 1.5
    v.setUint16(6, 0xc080, true); // bf16 -4
    v.setFloat64(8, 0.1, true);
    const st = await SafetensorsFile.open(
      file(
        {
          h: { dtype: "F16", shape: [2], data_offsets: [0, 4] },
          b: { dtype: "BF16", shape: [2], data_offsets: [4, 8] },
          d: { dtype: "F64", shape: [], data_offsets: [8, 16] },
        },
        data,
      ),
    );
    expect([...(await st.readF32("h"))]).toEqual([1, -2.5]);
    expect([...(await st.readF32("b"))]).toEqual([1.5, -4]);
    expect([...(await st.readF32("d"))]).toEqual([Math.fround(0.1)]);
  });

  it("should round-trip encodeSafetensors", async () => {
    const enc = encodeSafetensors([
      { name: "x", shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
      { name: "s", shape: [], data: Float32Array.from([7]) },
    ]);
    expect((8 + new DataView(enc.buffer).getUint32(0, true)) % 8).toBe(0);
    const st = await SafetensorsFile.open(new MemorySource(enc));
    expect([...(await st.readRowsF32("x", 1, 1))]).toEqual([3, 4]);
    expect([...(await st.readF32("s"))]).toEqual([7]);
    expect(st.tensor("s").shape).toEqual([]);
  });
});
