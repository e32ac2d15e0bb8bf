/**
 * The way back from a package to training: every weight as a plain f32 tensor under the checkpoint name
 * `ufb convert` read it from (q8 values dequantized with their scales; FFF records gathered back into
 * `ffn.linear_in.weight` [K·N, H], `ffn.linear_in.bias` [K·N] and `ffn.linear_out.weight` [H, K·N]).
 * train/pipeline.py --init <dir> continues training from it, so a shipped package is itself a checkpoint.
 */
import { decodeRecord } from "../format/records.ts";
import { KEYS, LAYER_KEYS } from "../format/layout.ts";
import { locateNode, treeOffset } from "../format/spec.ts";
import type { WeightPackage } from "../read/package.ts";

export interface UnpackedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export async function unpackTensors(pkg: WeightPackage): Promise<UnpackedTensor[]> {
  const out: UnpackedTensor[] = [];
  const dense = await pkg.readDense();
  const e = pkg.embeddings;
  for (const [name, entry] of pkg.denseTensors) {
    if (name === e.scalesTensor) continue; // folded into the embedding rows below
    const { data, scales } = pkg.denseView(dense, name);
    const values = Float32Array.from(data);
    if (scales) {
      const cols = entry.shape[1];
      for (let r = 0; r < entry.shape[0]; r++) for (let c = 0; c < cols; c++) values[r * cols + c] *= scales[r];
    }
    out.push({ name, shape: entry.shape, data: values });
  }

  const rowScales = e.scalesTensor ? pkg.denseView(dense, e.scalesTensor).data : null;
  const table = new Float32Array(e.rows * e.cols);
  const blocks = await pkg.readEmbeddingBlocks(e.blocks.map((_, b) => b));
  for (const [b, bytes] of blocks) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i * e.rowBytes < bytes.length; i++) {
      const row = b * e.rowsPerBlock + i;
      for (let c = 0; c < e.cols; c++) {
        table[row * e.cols + c] = rowScales ? view.getInt8(i * e.rowBytes + c) * rowScales[row] : view.getFloat32(i * e.rowBytes + 4 * c, true);
      }
    }
  }
  out.push({ name: e.tensor, shape: [e.rows, e.cols], data: table });

  const g = pkg.fff;
  const h = g.hidden;
  const width = g.trees * g.nodesPerTree;
  for (let layer = 0; layer < pkg.fffSegments.length; layer++) {
    const bytes = await pkg.readFffLayer(layer);
    const wIn = new Float32Array(width * h);
    const bias = new Float32Array(width);
    const wOut = new Float32Array(h * width);
    for (let tree = 0; tree < g.trees; tree++) {
      for (let node = 0; node < g.nodesPerTree; node++) {
        const r = decodeRecord(bytes, treeOffset(g, tree) + locateNode(g, node).offset, h, g.dtype);
        const col = tree * g.nodesPerTree + node;
        bias[col] = r.bias;
        wIn.set(r.wIn, col * h);
        for (let i = 0; i < h; i++) wOut[i * width + col] = r.wOut[i];
      }
    }
    out.push({ name: KEYS.layer(layer, LAYER_KEYS.fffInWeight), shape: [width, h], data: wIn });
    out.push({ name: KEYS.layer(layer, LAYER_KEYS.fffInBias), shape: [width], data: bias });
    out.push({ name: KEYS.layer(layer, LAYER_KEYS.fffOutWeight), shape: [h, width], data: wOut });
  }
  return out;
}
