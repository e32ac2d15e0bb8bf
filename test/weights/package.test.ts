import { describe, expect, it } from "vitest";
import { IntegrityError, UfbError } from "../../src/errors.ts";
import { type Dtype, dtypeBytes } from "../../src/weights/format/spec.ts";
import { SafetensorsFile } from "../../src/weights/convert/safetensors.ts";
import { MemorySource } from "../../src/weights/read/sources.ts";
import { decodeRecord } from "../../src/weights/format/records.ts";
import { type FixtureName, buildPackage, fixtureFiles, openBuilt } from "./helpers.ts";
import { embeddingRow, recordOffset } from "../helpers/reads.ts";

for (const name of ["tiny", "trees"] as FixtureName[]) {
  for (const dtype of ["f32", "q8"] as Dtype[]) {
    describe(`${name} fixture → ${dtype} package, read back`, async () => {
      const files = await fixtureFiles(name);
      const st = await SafetensorsFile.open(new MemorySource(files.safetensors));
      const built = await buildPackage(files, dtype, { tileDepth: 2, rowsPerBlock: 100 });
      const pkg = await openBuilt(built);
      const h = pkg.config.hiddenSize;
      const exact = dtype === "f32";
      /** |a − b| ≤ scale/2 (+ f32 rounding of q·scale) for q8, equality for f32. */
      const close = (got: ArrayLike<number>, want: ArrayLike<number>, scale: number, what: string) => {
        expect(got.length, what).toBe(want.length);
        for (let i = 0; i < want.length; i++) {
          if (exact) {
            if (got[i] !== want[i]) expect(got[i], `${what}[${i}]`).toBe(want[i]);
          } else if (!(Math.abs(got[i] - want[i]) <= scale / 2 + 1e-7 * Math.abs(want[i]))) {
            expect.fail(`${what}[${i}]: ${got[i]} vs ${want[i]}, more than scale/2 = ${scale / 2} apart`);
          }
        }
      };

      it("should describe the model from config.json and the tensor shapes", () => {
        const c = pkg.config;
        expect(c.kind).toBe("mlm");
        expect(c.pooler).toBeNull();
        if (name === "tiny") expect([c.hiddenSize, c.numLayers, c.numHeads, c.headDim, c.fffTrees, c.fffDepth, c.vocabSize, c.maxSeqLength]).toEqual([64, 2, 4, 16, 1, 5, 512, 32]);
        else expect([c.hiddenSize, c.numLayers, c.numHeads, c.headDim, c.fffTrees, c.fffDepth, c.vocabSize, c.maxSeqLength]).toEqual([96, 3, 6, 16, 2, 4, 1000, 48]);
        expect(c.normEps).toBe(1e-12);
      });

      it("should take special token ids from added_tokens", () => {
        if (name === "tiny") expect(pkg.manifest.specialTokens).toEqual({ cls: 0, mask: 1, unk: 2, bos: 3, sep: 4, eos: 5, pad: 6 });
        expect(new Set(Object.values(pkg.manifest.specialTokens))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
      });

      it("should read every dense tensor back", async () => {
        const dense = await pkg.readDense();
        for (const t of pkg.manifest.tensors) {
          if (t.name.endsWith(".scales")) continue;
          const want = await st.readF32(t.name);
          const v = pkg.denseView(dense, t.name);
          expect(v.entry.offset % 64).toBe(0);
          if (t.dtype === "f32") {
            expect(v.data).toBeInstanceOf(Float32Array);
            close(v.data, want, 0, t.name);
            expect(exact || t.shape.length === 1).toBe(true);
          } else {
            const [rows, cols] = t.shape;
            for (let r = 0; r < rows; r++) {
              const deq = Array.from(v.data.subarray(r * cols, (r + 1) * cols), (q) => q * v.scales![r]);
              close(deq, want.subarray(r * cols, (r + 1) * cols), v.scales![r], `${t.name} row ${r}`);
            }
          }
        }
        expect(pkg.denseTensors.has("encoder.layers.0.attn.self_attention.norm_factor")).toBe(false);
        expect(pkg.denseTensors.has("decoder.weight")).toBe(false);
      });

      it("should read every embedding row back (blocks of 100 rows)", async () => {
        const want = await st.readF32("encoder.embedding.word_embedding.weight");
        const decoder = await st.readF32("decoder.weight");
        expect(decoder).toEqual(want);
        const blocks = await pkg.readEmbeddingBlocks(pkg.embeddings.blocks.map((_, i) => i));
        expect(blocks.size).toBe(Math.ceil(pkg.config.vocabSize / 100));
        const scales = exact ? null : (pkg.denseView(await pkg.readDense(), "encoder.embedding.word_embedding.weight.scales").data as Float32Array);
        for (let id = 0; id < pkg.config.vocabSize; id++) {
          const row = embeddingRow(pkg, blocks.get(Math.floor(id / 100))!, id);
          expect(row.length).toBe(h * dtypeBytes(dtype));
          const values = exact ? new Float32Array(row.slice().buffer) : Array.from(new Int8Array(row.buffer, row.byteOffset, h), (q) => q * scales![id]);
          close(values, want.subarray(id * h, (id + 1) * h), scales?.[id] ?? 0, `embedding row ${id}`);
        }
      });

      it("should store node n of tree t as row t·N+n of linear_in and column t·N+n of linear_out", async () => {
        const g = pkg.fff;
        const kn = g.trees * g.nodesPerTree;
        for (let l = 0; l < pkg.config.numLayers; l++) {
          const inW = await st.readF32(`encoder.layers.${l}.ffn.linear_in.weight`);
          const inB = await st.readF32(`encoder.layers.${l}.ffn.linear_in.bias`);
          const outW = await st.readF32(`encoder.layers.${l}.ffn.linear_out.weight`);
          const seg = await pkg.readFffLayer(l);
          for (let t = 0; t < g.trees; t++) {
            for (let n = 0; n < g.nodesPerTree; n++) {
              const row = t * g.nodesPerTree + n;
              const r = decodeRecord(seg, recordOffset(pkg, t, n), h, dtype);
              const what = `layer ${l} tree ${t} node ${n}`;
              expect(r.bias, what).toBe(inB[row]);
              expect(r.reserved).toBe(0);
              if (exact) expect([r.inScale, r.outScale]).toEqual([1, 1]);
              close(r.wIn, inW.subarray(row * h, (row + 1) * h), r.inScale, `${what} wIn`);
              close(r.wOut, Array.from({ length: h }, (_, i) => outW[i * kn + row]), r.outScale, `${what} wOut`);
            }
          }
        }
      });

      it("should return verified tiles whose records are the tile's nodes", async () => {
        const g = pkg.fff;
        const tree = g.trees - 1;
        const tiles = await pkg.readFffTiles(1, tree, [0, 3, 4, 5]);
        expect([...tiles.keys()].sort()).toEqual([0, 3, 4, 5]);
        const seg = await pkg.readFffLayer(1);
        for (const tile of tiles.values()) {
          const at = recordOffset(pkg, tree, tile.tile.rootNode);
          expect(tile.bytes).toEqual(seg.subarray(at, at + tile.tile.bytes));
        }
      });
    });
  }
}

describe("integrity and statistics", async () => {
  const files = await fixtureFiles("trees");
  const built = await buildPackage(files, "q8", { tileDepth: 2 });
  const g = (await openBuilt(built)).fff;

  it("should detect one corrupted byte in a tile and name the tile", async () => {
    const pkg = await openBuilt(built);
    const seg = pkg.fffSegments[1];
    const tileAt = seg.offset + 1 * g.treeBytes + g.tiers[1].firstRecord * g.recordBytes + 2 * g.tiers[1].tileBytes; // tree 1, tile id 3
    const weights = built.weights.slice();
    weights[tileAt + 20] ^= 1;
    const bad = await openBuilt(built, { weights });
    const err = await bad.readFffTiles(1, 1, [2, 3, 4]).catch((e) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.code).toBe("integrity");
    expect(err.message).toMatch(/^fff\.1 tree 1 tile 3: sha256 [0-9a-f]{64}, manifest says [0-9a-f]{64}$/);
    expect(err.expected).toBe(seg.tiles[1][3]);
    expect(err.actual).not.toBe(err.expected);
    // other tiles of the same tree, and the same tile of the other tree, still read
    expect((await bad.readFffTiles(1, 1, [2, 4])).size).toBe(2);
    expect((await bad.readFffTiles(1, 0, [3])).size).toBe(1);
    await expect(bad.readFffLayer(1)).rejects.toThrow(/fff\.1 tree 1 tile 3/);
  });

  it("should detect corruption in dense, embeddings and the tokenizer", async () => {
    const pkg = await openBuilt(built);
    const weights = built.weights.slice();
    weights[pkg.dense.offset + 100] ^= 0x80;
    weights[pkg.embeddings.offset + 300 * pkg.embeddings.rowBytes] ^= 1; // row 300 = block 1
    const bad = await openBuilt(built, { weights });
    await expect(bad.readDense()).rejects.toThrow(/^dense: sha256/);
    await expect(bad.readEmbeddingBlocks([1])).rejects.toThrow(/^embeddings block 1 \(rows 256…511\): sha256/);
    expect((await bad.readEmbeddingBlocks([0, 2])).size).toBe(2);
    const tok = built.tokenizer.slice();
    tok[10] ^= 1;
    await expect((await openBuilt(built, { tokenizer: tok })).readTokenizer()).rejects.toBeInstanceOf(IntegrityError);
    await expect((await openBuilt(built, { tokenizer: tok.subarray(1) })).readTokenizer()).rejects.toThrow(/tokenizer\.json: \d+ bytes, manifest.json says/);
    expect(await pkg.readTokenizer()).toEqual(built.tokenizer);
  });

  it("should coalesce touching tiles into one read and count reads and bytes", async () => {
    const pkg = await openBuilt(built);
    const t = g.tiers[1].tileBytes;
    await pkg.readFffTiles(0, 0, [1, 2, 3]); // touching tiles of tier 1
    expect(pkg.stats).toEqual({ reads: 1, bytes: 3 * t, verified: 3 });
    pkg.resetStats();
    await pkg.readFffTiles(0, 0, [1, 3]);
    expect(pkg.stats).toEqual({ reads: 2, bytes: 2 * t, verified: 2 });
    pkg.resetStats();
    await pkg.readFffTiles(0, 0, [1, 3], t); // read through the one-tile gap
    expect(pkg.stats).toEqual({ reads: 1, bytes: 3 * t, verified: 2 });
    const gapped = await openBuilt(built, { maxGap: 1 << 20 });
    await gapped.readEmbeddingBlocks([0, 3]);
    expect(gapped.stats.reads).toBe(1);
  });

  it("should read and check the weights.bin header", async () => {
    const pkg = await openBuilt(built);
    expect(await pkg.readHeader()).toEqual({ version: 1, fileBytes: built.weights.length, segmentCount: 5, dtype: "q8" });
  });

  it("should refuse a weights.bin of the wrong size", async () => {
    await expect(openBuilt(built, { weights: built.weights.subarray(0, built.weights.length - 1) })).rejects.toThrow(
      new RegExp(`weights.bin: ${built.weights.length - 1} bytes, manifest.json says ${built.weights.length}`),
    );
  });

  it("should refuse out-of-range layers, trees and tiles", async () => {
    const pkg = await openBuilt(built);
    await expect(pkg.readFffTiles(3, 0, [0])).rejects.toThrow(/layer 3: out of range, the model has 3 layers/);
    await expect(pkg.readFffTiles(0, 2, [0])).rejects.toThrow(/tree 2: out of range/);
    await expect(pkg.readFffTiles(0, 0, [g.tilesPerTree])).rejects.toThrow(UfbError);
    expect(() => pkg.embeddingBlockOf(1000)).toThrow(/token id 1000: out of range, the vocabulary has 1000 rows/);
  });
});
