/**
 * A minimal ONNX writer (the protobuf wire format of onnx.proto, only the fields a graph of plain
 * operators needs) and a BERT-base-shaped graph built from seeded random weights, in fp32 or int8 the
 * way onnxruntime's `quantize_dynamic` writes MatMuls (DynamicQuantizeLinear → MatMulInteger → Cast →
 * Mul by x_scale·w_scale → Add bias; per-tensor symmetric int8 weights, uint8 activations). The graph is
 * what a plain `torch.onnx.export` of BertModel looks like (separate Q/K/V MatMuls, Reshape/Transpose
 * heads, Softmax, Erf GELU, LayerNormalization), the anchor of ../shared/docs/baselines.md; onnxruntime
 * fuses it at load time as it would the exported model.
 *
 * see: onnx/onnx onnx/onnx.proto (field numbers below)
 */
import { gaussian } from "../../src/cli/random.ts";

// ---------------------------------------------------------------- protobuf wire format

/** A message under construction: chunks and their total length (nested messages are length-prefixed). */
class Msg {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  private push(b: Uint8Array): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }
  private varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x) byte |= 0x80;
      out.push(byte);
    } while (x);
    return this.push(Uint8Array.from(out));
  }
  private tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): this {
    return this.tag(field, 0).varint(v);
  }
  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.tag(field, 5).push(b);
  }
  bytes(field: number, b: Uint8Array): this {
    return this.tag(field, 2).varint(b.length).push(b);
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, m: Msg): this {
    this.tag(field, 2).varint(m.length);
    for (const c of m.chunks) this.push(c);
    return this;
  }
  /** The whole message as one buffer. */
  bytesOut(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

// TensorProto.DataType
export const FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7;

export interface Tensor {
  name: string;
  dtype: number;
  dims: number[];
  data: Float32Array | Int8Array | Uint8Array | BigInt64Array | Int32Array;
}

function tensorMsg(t: Tensor): Msg {
  const m = new Msg();
  for (const d of t.dims) m.int(1, d);
  m.int(2, t.dtype).string(8, t.name);
  return m.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

type Attr = number | number[] | string | { float: number };

function attrMsg(name: string, v: Attr): Msg {
  const m = new Msg().string(1, name);
  if (typeof v === "string") return m.bytes(4, new TextEncoder().encode(v)).int(20, 3);
  if (Array.isArray(v)) {
    for (const x of v) m.int(8, x);
    return m.int(20, 7);
  }
  if (typeof v === "object") return m.float(2, v.float).int(20, 1);
  return m.int(3, v).int(20, 2);
}

function valueInfo(name: string, elem: number, dims: (number | string)[]): Msg {
  const shape = new Msg();
  for (const d of dims) shape.msg(1, typeof d === "number" ? new Msg().int(1, d) : new Msg().string(2, d));
  return new Msg().string(1, name).msg(2, new Msg().msg(1, new Msg().int(1, elem).msg(2, shape)));
}

/** Collects nodes and initializers, then writes a ModelProto. */
export class GraphBuilder {
  private readonly nodes: Msg[] = [];
  private readonly inits: Msg[] = [];
  private n = 0;

  /** Adds a node; returns its output names (fresh unless given). */
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs = 1, domain = ""): string[] {
    const outs = Array.from({ length: outputs }, () => `t${this.n++}`);
    const m = new Msg();
    for (const i of inputs) m.string(1, i);
    for (const o of outs) m.string(2, o);
    m.string(3, `${op}_${this.n}`).string(4, op);
    if (domain) m.string(7, domain);
    for (const [k, v] of Object.entries(attrs)) m.msg(5, attrMsg(k, v));
    this.nodes.push(m);
    return outs;
  }

  one(op: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.node(op, inputs, attrs)[0];
  }

  init(t: Tensor): string {
    this.inits.push(tensorMsg(t));
    return t.name;
  }

  model(inputs: Msg[], outputs: Msg[], opset: number): Uint8Array {
    const g = new Msg();
    for (const n of this.nodes) g.msg(1, n);
    g.string(2, "bert");
    for (const t of this.inits) g.msg(5, t);
    for (const i of inputs) g.msg(11, i);
    for (const o of outputs) g.msg(12, o);
    const m = new Msg().int(1, 8).string(2, "ultrafastbert-edge bench/peers").msg(7, g);
    m.msg(8, new Msg().string(1, "").int(2, opset));
    return m.bytesOut();
  }
}

export { valueInfo };

// ---------------------------------------------------------------- BERT-base-shaped graph

export interface BertShape {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocab: number;
  maxPositions: number;
}

export const BERT_BASE: BertShape = { layers: 12, hidden: 768, heads: 12, intermediate: 3072, vocab: 30522, maxPositions: 512 };

/**
 * BertModel's encoder output (last_hidden_state [1, seq, hidden]) for input_ids int64 [1, seq]; no
 * attention mask (batch 1, every token real: the same work as our encoder bench). dtype "int8": every
 * MatMul with a weight quantized as quantize_dynamic does; embeddings, norms, biases and the attention
 * products stay fp32 (quantize_dynamic leaves activation × activation MatMuls alone).
 */
export function buildBert(shape: BertShape, dtype: "fp32" | "int8", seed = 1): Uint8Array {
  const { layers, hidden: H, heads, intermediate: I, vocab, maxPositions } = shape;
  const d = H / heads;
  const g = new GraphBuilder();
  const rnd = gaussian(seed);
  let id = 0;
  const f32 = (dims: number[], std: number, mean = 0) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = mean + std * rnd();
    return g.init({ name: `w${id++}`, dtype: FLOAT, dims, data });
  };
  const constF = (v: number) => g.init({ name: `c${id++}`, dtype: FLOAT, dims: [], data: Float32Array.of(v) });
  const constI64 = (v: number[]) => g.init({ name: `c${id++}`, dtype: INT64, dims: [v.length], data: BigInt64Array.from(v.map(BigInt)) });

  /** x [.., K] · W [K, N] + b, fp32 or quantize_dynamic's int8 pattern. */
  const linear = (x: string, K: number, N: number): string => {
    const b = f32([N], 0.02);
    if (dtype === "fp32") return g.one("Add", [g.one("MatMul", [x, f32([K, N], 0.02)]), b]);
    const w = new Int8Array(K * N);
    const wf = new Float32Array(K * N);
    let amax = 0;
    for (let i = 0; i < wf.length; i++) amax = Math.max(amax, Math.abs((wf[i] = 0.02 * rnd())));
    const ws = amax / 127;
    for (let i = 0; i < wf.length; i++) w[i] = Math.round(wf[i] / ws);
    const wq = g.init({ name: `w${id++}`, dtype: INT8, dims: [K, N], data: w });
    const wScale = g.init({ name: `s${id++}`, dtype: FLOAT, dims: [], data: Float32Array.of(ws) });
    const wZero = g.init({ name: `z${id++}`, dtype: INT8, dims: [], data: Int8Array.of(0) });
    const [xq, xs, xz] = g.node("DynamicQuantizeLinear", [x], {}, 3);
    const acc = g.one("MatMulInteger", [xq, wq, xz, wZero]);
    const scale = g.one("Mul", [xs, wScale]);
    return g.one("Add", [g.one("Mul", [g.one("Cast", [acc], { to: FLOAT }), scale]), b]);
  };
  const layerNorm = (x: string) => g.one("LayerNormalization", [x, f32([H], 0.02, 1), f32([H], 0.02)], { axis: -1, epsilon: { float: 1e-12 } });
  const heads4 = constI64([0, 0, heads, d]);
  const merged = constI64([0, 0, H]);

  // embeddings: word + position (positions 0..seq-1 sliced from the table) + token type 0, LayerNorm
  const word = g.one("Gather", [f32([vocab, H], 0.02), "input_ids"], { axis: 0 });
  const seqLen = g.one("Gather", [g.one("Shape", ["input_ids"]), constI64([1])], { axis: 0 });
  const pos = g.one("Slice", [f32([maxPositions, H], 0.02), constI64([0]), seqLen, constI64([0])]);
  const tokenType = g.one("Gather", [f32([2, H], 0.02), constI64([0])], { axis: 0 });
  let h = layerNorm(g.one("Add", [g.one("Add", [word, pos]), tokenType]));
  const scale = constF(1 / Math.sqrt(d));
  const half = constF(0.5), one = constF(1), invSqrt2 = constF(Math.SQRT1_2);

  for (let l = 0; l < layers; l++) {
    const split = (x: string, perm: number[]) => g.one("Transpose", [g.one("Reshape", [x, heads4])], { perm });
    const q = split(linear(h, H, H), [0, 2, 1, 3]);
    const k = split(linear(h, H, H), [0, 2, 3, 1]);
    const v = split(linear(h, H, H), [0, 2, 1, 3]);
    const probs = g.one("Softmax", [g.one("Mul", [g.one("MatMul", [q, k]), scale])], { axis: -1 });
    const ctx = g.one("Reshape", [g.one("Transpose", [g.one("MatMul", [probs, v])], { perm: [0, 2, 1, 3] }), merged]);
    h = layerNorm(g.one("Add", [linear(ctx, H, H), h]));
    // FF with the exact (erf) GELU: 0.5·x·(1 + erf(x/√2))
    const u = linear(h, H, I);
    const gelu = g.one("Mul", [g.one("Mul", [u, half]), g.one("Add", [g.one("Erf", [g.one("Mul", [u, invSqrt2])]), one])]);
    h = layerNorm(g.one("Add", [linear(gelu, I, H), h]));
  }
  const out = g.one("Identity", [h]);
  return g.model([valueInfo("input_ids", INT64, [1, "seq"])], [valueInfo(out, FLOAT, [1, "seq", H])], 17);
}
