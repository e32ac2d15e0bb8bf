/**
 * Weights of a package loaded whole into kernel memory: the dense segment, every embedding row and
 * every FFF record, verified as they are read. For the CLI, benchmarks and small bundled models; the
 * Worker streams tiles instead (src/service).
 */
import type { Kernel } from "../kernel/index.ts";
import { KEYS, LAYER_KEYS } from "../weights/format/layout.ts";
import { type WeightPackage } from "../weights/read/package.ts";
import { locateNode, treeOffset } from "../weights/format/spec.ts";
import { sinusoidTable } from "./positions.ts";
import type { DenseMatrix, EmbeddingStore, FffStore, Linear, ModelWeights, Norm } from "./weights.ts";

/** Kernel addresses of the dense segment's tensors, after copying it into kernel memory. */
export class DenseTensors {
  readonly base: number;
  private readonly pkg: WeightPackage;

  constructor(pkg: WeightPackage, kernel: Kernel, dense: Uint8Array) {
    this.pkg = pkg;
    this.base = kernel.allocCopy(dense, 64);
  }

  vector(name: string): number {
    return this.base + this.pkg.denseTensor(name).offset;
  }

  matrix(name: string): DenseMatrix {
    const t = this.pkg.denseTensor(name);
    return {
      dtype: t.dtype,
      ptr: this.base + t.offset,
      scales: t.scalesOffset === undefined ? 0 : this.base + t.scalesOffset,
      rows: t.shape[0],
      cols: t.shape[1],
    };
  }

  norm(weight: string, bias: string): Norm {
    return { weight: this.vector(weight), bias: this.vector(bias) };
  }

  linear(weight: string, bias: string): Linear {
    return { matrix: this.matrix(weight), bias: this.vector(bias) };
  }
}

/** The parts of ModelWeights that come from the dense segment (shared by resident and streamed weights). */
export function denseWeights(pkg: WeightPackage, kernel: Kernel, dense: DenseTensors): Omit<ModelWeights, "embeddings" | "fff"> {
  const c = pkg.config;
  const layer = (l: number, key: string) => KEYS.layer(l, key);
  const scaleFactor = kernel.f32(dense.vector(KEYS.scaleFactor), 1)[0];
  const classifier = c.kind === "classifier";
  return {
    scaleFactor,
    positions: kernel.allocCopy(sinusoidTable(c.maxSeqLength, c.hiddenSize)),
    embeddingNorm: dense.norm(KEYS.embeddingNormWeight, KEYS.embeddingNormBias),
    layers: Array.from({ length: c.numLayers }, (_, l) => ({
      norm1: dense.norm(layer(l, LAYER_KEYS.norm1Weight), layer(l, LAYER_KEYS.norm1Bias)),
      qkv: dense.matrix(layer(l, LAYER_KEYS.qkv)),
      attnOut: dense.matrix(layer(l, LAYER_KEYS.attnOut)),
      norm2: dense.norm(layer(l, LAYER_KEYS.norm2Weight), layer(l, LAYER_KEYS.norm2Bias)),
    })),
    finalNorm: dense.norm(KEYS.finalNormWeight, KEYS.finalNormBias),
    pooler: classifier ? dense.linear(KEYS.poolerWeight, KEYS.poolerBias) : null,
    head: classifier ? dense.linear(KEYS.headWeight, KEYS.headBias) : null,
  };
}

/** Per-row dequantization scales of the embedding table, copied out of kernel memory (1 for f32). */
export function embeddingScales(pkg: WeightPackage, kernel: Kernel, dense: DenseTensors): Float32Array {
  const e = pkg.embeddings;
  if (e.scalesTensor === null) return new Float32Array(e.rows).fill(1);
  return kernel.f32(dense.vector(e.scalesTensor), e.rows).slice();
}

/** Offsets of every node's record inside one tree's bytes, in node order (the same for every tree and layer). */
export function recordOffsets(pkg: WeightPackage): Uint32Array {
  const g = pkg.fff;
  const offsets = new Uint32Array(g.nodesPerTree);
  for (let n = 0; n < g.nodesPerTree; n++) offsets[n] = locateNode(g, n).offset;
  return offsets;
}

export async function loadResidentWeights(pkg: WeightPackage, kernel: Kernel): Promise<ModelWeights> {
  const c = pkg.config;
  const dense = new DenseTensors(pkg, kernel, await pkg.readDense());
  const scales = embeddingScales(pkg, kernel, dense);
  const embeddings = await residentEmbeddings(pkg, kernel, dense, scales);

  const g = pkg.fff;
  const offsets = recordOffsets(pkg);
  const tables: number[][] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const base = kernel.allocCopy(await pkg.readFffLayer(l), 16);
    tables.push(
      Array.from({ length: g.trees }, (_, tree) => {
        const table = kernel.alloc(4 * g.nodesPerTree, 16);
        const view = kernel.u32(table, g.nodesPerTree);
        const treeBase = base + treeOffset(g, tree);
        for (let n = 0; n < g.nodesPerTree; n++) view[n] = treeBase + offsets[n];
        return table;
      }),
    );
  }
  const fff: FffStore = {
    dtype: g.dtype,
    table: (layer, tree) => tables[layer][tree],
    ensure: async () => {},
    release: () => {},
  };
  return { ...denseWeights(pkg, kernel, dense), embeddings, fff };
}

async function residentEmbeddings(pkg: WeightPackage, kernel: Kernel, dense: DenseTensors, scales: Float32Array): Promise<EmbeddingStore> {
  const e = pkg.embeddings;
  const width = e.cols * (e.dtype === "q8" ? 1 : 4);
  // rows packed at `width` so that the table doubles as the decoder matrix (rows of H values)
  const base = kernel.alloc(e.rows * width, 64);
  const blocks = e.blocks.map((_, i) => i);
  for (let i = 0; i < blocks.length; i += 64) {
    const read = await pkg.readEmbeddingBlocks(blocks.slice(i, i + 64), Infinity);
    for (const [block, bytes] of read) {
      const first = block * e.rowsPerBlock;
      const rows = Math.min(e.rowsPerBlock, e.rows - first);
      const target = kernel.u8(base + first * width, rows * width);
      for (let r = 0; r < rows; r++) target.set(bytes.subarray(r * e.rowBytes, r * e.rowBytes + width), r * width);
    }
  }
  const decoder: DenseMatrix = { dtype: e.dtype, ptr: base, scales: e.scalesTensor === null ? 0 : dense.vector(e.scalesTensor), rows: e.rows, cols: e.cols };
  return {
    dtype: e.dtype,
    prepare: async () => {},
    release: () => {},
    rowPtr: (id) => base + id * width,
    rowScale: (id) => scales[id],
    decoder: async () => decoder,
  };
}
