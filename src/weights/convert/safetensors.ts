/**
 * safetensors over a range callback: 8-byte little-endian header length n, n bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}`, then the data; offsets are
 * relative to the data (file offset 8 + n). Reads F32, F16, BF16 and F64 as f32; 0-dim tensors hold one value.
 */
import { UfbError } from "../../errors.ts";
import type { WeightSource } from "../read/sources.ts";

export type SafetensorsDtype = "F32" | "F16" | "BF16" | "F64";
const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
/** safetensors refuses headers above 100 MB; so do we. */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Number of elements (1 for a 0-dim tensor). */
  elements: number;
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

const bad = (source: string, msg: string) => new UfbError("bad_safetensors", `${source}: ${msg}`);
const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export class SafetensorsFile {
  readonly source: WeightSource;
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
  readonly metadata: Record<string, string>;
  readonly headerBytes: number;

  private constructor(source: WeightSource, tensors: Map<string, SafetensorsTensor>, metadata: Record<string, string>, headerBytes: number) {
    this.source = source;
    this.tensors = tensors;
    this.metadata = metadata;
    this.headerBytes = headerBytes;
  }

  static async open(source: WeightSource): Promise<SafetensorsFile> {
    const name = source.name;
    if (source.size !== undefined && source.size < 8) throw bad(name, `file of ${source.size} bytes is too short for the 8-byte header length`);
    const lenBytes = await source.read(0, 8);
    const view = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8);
    const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
    if (n < 2 || n > MAX_HEADER_BYTES) throw bad(name, `header length ${n} is not in [2, ${MAX_HEADER_BYTES}] (not a safetensors file?)`);
    if (source.size !== undefined && 8 + n > source.size) throw bad(name, `header length ${n} runs past the end of the file (${source.size} bytes)`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(await source.read(8, n)));
    } catch (e) {
      throw bad(name, `header is not valid JSON (${(e as Error).message})`);
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw bad(name, "header is not a JSON object");
    const dataStart = 8 + n;
    const dataBytes = source.size === undefined ? undefined : source.size - dataStart;
    const tensors = new Map<string, SafetensorsTensor>();
    let metadata: Record<string, string> = {};
    for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
      if (key === "__metadata__") {
        if (typeof value !== "object" || value === null) throw bad(name, "__metadata__ is not an object");
        metadata = value as Record<string, string>;
        continue;
      }
      const t = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof t !== "object" || t === null) throw bad(name, `tensor "${key}": header entry is not an object`);
      if (typeof t.dtype !== "string" || !(t.dtype in DTYPE_BYTES)) {
        throw bad(name, `tensor "${key}": dtype ${JSON.stringify(t.dtype)}, expected one of F32, F16, BF16, F64`);
      }
      const dtype = t.dtype as SafetensorsDtype;
      if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw bad(name, `tensor "${key}": shape ${JSON.stringify(t.shape)}, expected an array of non-negative integers`);
      }
      const offs = t.data_offsets;
      if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0) || offs[1] < offs[0]) {
        throw bad(name, `tensor "${key}": data_offsets ${JSON.stringify(offs)}, expected [begin, end] with 0 ≤ begin ≤ end`);
      }
      const shape = t.shape as number[];
      const elements = product(shape);
      const expected = elements * DTYPE_BYTES[dtype];
      if (offs[1] - offs[0] !== expected) {
        throw bad(name, `tensor "${key}": ${offs[1] - offs[0]} bytes of data, expected ${expected} for ${dtype} shape [${shape.join(", ")}]`);
      }
      if (dataBytes !== undefined && offs[1] > dataBytes) {
        throw bad(name, `tensor "${key}": data_offsets end ${offs[1]} is past the end of the data (${dataBytes} bytes)`);
      }
      tensors.set(key, { name: key, dtype, shape, elements, begin: dataStart + offs[0], end: dataStart + offs[1] });
    }
    return new SafetensorsFile(source, tensors, metadata, n);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  tensor(name: string): SafetensorsTensor {
    const t = this.tensors.get(name);
    if (!t) throw bad(this.source.name, `no tensor "${name}"`);
    return t;
  }

  /** The whole tensor as f32, row-major. */
  async readF32(name: string): Promise<Float32Array> {
    const t = this.tensor(name);
    return decode(t, await this.source.read(t.begin, t.end - t.begin));
  }

  /** Rows [start, start+count) of a tensor of rank ≥ 1 (a row = the product of the trailing dims). */
  async readRowsF32(name: string, start: number, count: number): Promise<Float32Array> {
    const t = this.tensor(name);
    if (t.shape.length < 1) throw bad(this.source.name, `tensor "${name}": 0-dim, has no rows`);
    const rows = t.shape[0];
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > rows) {
      throw new UfbError("bad_argument", `tensor "${name}": rows [${start}, ${start + count}) out of range, it has ${rows}`);
    }
    const rowBytes = (t.shape.length === 1 ? 1 : product(t.shape.slice(1))) * DTYPE_BYTES[t.dtype];
    return decode(t, await this.source.read(t.begin + start * rowBytes, count * rowBytes));
  }
}

function decode(t: SafetensorsTensor, bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / DTYPE_BYTES[t.dtype];
  const out = new Float32Array(n);
  switch (t.dtype) {
    case "F32":
      if (bytes.byteOffset % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n));
      else for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case "F64":
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case "F16":
      // DataView.getFloat16 (ES2025) is in Node 24 and workerd alike, so no hand-written decoder
      for (let i = 0; i < n; i++) out[i] = view.getFloat16(2 * i, true);
      break;
    case "BF16": {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, true) << 16;
      break;
    }
  }
  return out;
}

/** Encodes F32 tensors as a safetensors file (header padded with spaces to a multiple of 8). */
export function encodeSafetensors(tensors: { name: string; shape: number[]; data: Float32Array }[], metadata: Record<string, string> = { format: "pt" }): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let at = 0;
  for (const t of tensors) {
    if (t.data.length !== product(t.shape)) throw new UfbError("bad_argument", `tensor "${t.name}": ${t.data.length} values for shape [${t.shape.join(", ")}]`);
    header[t.name] = { dtype: "F32", shape: t.shape, data_offsets: [at, at + 4 * t.data.length] };
    at += 4 * t.data.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + at);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}
