/**
 * FFF node records (architecture.md §2), the same bytes in weights.bin and in wasm memory:
 *
 *   0  f32  bias       node (input) bias
 *   4  f32  inScale    q8 scale of wIn (1.0 for f32)
 *   8  f32  outScale   q8 scale of wOut (1.0 for f32)
 *   12 u32  reserved   0
 *   16 i8[H] | f32[H]  wIn  = row n of linear_in.weight
 *   16+H·e  i8[H] | f32[H]  wOut = column n of linear_out.weight
 *   …  zero padding to recordBytes = align16(16 + 2·H·e)
 */
import { type Dtype, RECORD_ALIGN, RECORD_HEADER_BYTES, dtypeBytes, recordBytes } from "./spec.ts";
import { UfbError } from "../../errors.ts";
import { q8MaxError, quantizeQ8 } from "./q8.ts";

export interface RecordErrors {
  /** max |w − q·scale| of wIn / wOut (0 for f32). NaN when an input is not finite. */
  inError: number;
  outError: number;
}

/**
 * Writes one record at `at` in `dst`. wIn = src values inW[inOffset … +H); wOut = outW[outOffset + i·outStride]
 * for i < H (a column of the [H][K·N] linear_out matrix).
 */
export function encodeRecord(
  dst: Uint8Array,
  at: number,
  hidden: number,
  dtype: Dtype,
  bias: number,
  inW: ArrayLike<number>,
  inOffset: number,
  outW: ArrayLike<number>,
  outOffset: number,
  outStride: number,
): RecordErrors {
  const view = new DataView(dst.buffer, dst.byteOffset + at, recordBytes(hidden, dtype));
  view.setFloat32(0, bias, true);
  view.setUint32(12, 0, true);
  const wIn = at + RECORD_HEADER_BYTES;
  const wOut = wIn + hidden * dtypeBytes(dtype);
  if (dtype === "f32") {
    view.setFloat32(4, 1, true);
    view.setFloat32(8, 1, true);
    const f = new Float32Array(hidden);
    for (let i = 0; i < hidden; i++) f[i] = inW[inOffset + i];
    dst.set(new Uint8Array(f.buffer), wIn);
    for (let i = 0; i < hidden; i++) f[i] = outW[outOffset + i * outStride];
    dst.set(new Uint8Array(f.buffer), wOut);
    let inBad = !Number.isFinite(bias);
    let outBad = false;
    for (let i = 0; i < hidden; i++) {
      if (!Number.isFinite(inW[inOffset + i])) inBad = true;
      if (!Number.isFinite(outW[outOffset + i * outStride])) outBad = true;
    }
    return { inError: inBad ? NaN : 0, outError: outBad ? NaN : 0 };
  }
  const qIn = new Int8Array(dst.buffer, dst.byteOffset + wIn, hidden);
  const qOut = new Int8Array(dst.buffer, dst.byteOffset + wOut, hidden);
  const inScale = quantizeQ8(inW, qIn, 0, inOffset, hidden, 1);
  const outScale = quantizeQ8(outW, qOut, 0, outOffset, hidden, outStride);
  view.setFloat32(4, inScale, true);
  view.setFloat32(8, outScale, true);
  return {
    inError: Number.isFinite(bias) ? q8MaxError(inW, qIn, inScale, inOffset, 1) : NaN,
    outError: q8MaxError(outW, qOut, outScale, outOffset, outStride),
  };
}

export interface DecodedRecord {
  bias: number;
  inScale: number;
  outScale: number;
  reserved: number;
  /** Dequantized (q·scale) for q8. */
  wIn: Float32Array;
  wOut: Float32Array;
}

/** Reads the record at `at` of `bytes` (a tile, a segment, …). */
export function decodeRecord(bytes: Uint8Array, at: number, hidden: number, dtype: Dtype): DecodedRecord {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, recordBytes(hidden, dtype));
  const bias = view.getFloat32(0, true);
  const inScale = view.getFloat32(4, true);
  const outScale = view.getFloat32(8, true);
  const reserved = view.getUint32(12, true);
  const wIn = new Float32Array(hidden);
  const wOut = new Float32Array(hidden);
  const e = dtypeBytes(dtype);
  for (let i = 0; i < hidden; i++) {
    if (dtype === "f32") {
      wIn[i] = view.getFloat32(RECORD_HEADER_BYTES + 4 * i, true);
      wOut[i] = view.getFloat32(RECORD_HEADER_BYTES + hidden * e + 4 * i, true);
    } else {
      wIn[i] = view.getInt8(RECORD_HEADER_BYTES + i) * inScale;
      wOut[i] = view.getInt8(RECORD_HEADER_BYTES + hidden + i) * outScale;
    }
  }
  return { bias, inScale, outScale, reserved, wIn, wOut };
}

/** One node record as plain arrays: what the references compute with and `writeFffRecord` lays out. */
export interface FffRecord {
  bias: number;
  /** 1 for f32 records */
  inScale: number;
  /** 1 for f32 records */
  outScale: number;
  /** Int8Array (q8) or Float32Array (f32), length H */
  wIn: Int8Array | Float32Array;
  wOut: Int8Array | Float32Array;
}

/** A q8 record from f32 weights, wIn and wOut each quantized with their own scale (the q8 rule of q8.ts). */
export function fffRecordQ8(bias: number, wIn: ArrayLike<number>, wOut: ArrayLike<number>): FffRecord {
  const qIn = new Int8Array(wIn.length);
  const qOut = new Int8Array(wOut.length);
  const inScale = quantizeQ8(wIn, qIn);
  const outScale = quantizeQ8(wOut, qOut);
  return { bias: Math.fround(bias), inScale, outScale, wIn: qIn, wOut: qOut };
}

export function fffRecordF32(bias: number, wIn: ArrayLike<number>, wOut: ArrayLike<number>): FffRecord {
  return { bias: Math.fround(bias), inScale: 1, outScale: 1, wIn: Float32Array.from(wIn), wOut: Float32Array.from(wOut) };
}

/** Writes `rec` at byte `offset` of `dst` (recordBytes(H, dtype) bytes, offset 16-aligned), padding zeroed. */
export function writeFffRecord(dst: Uint8Array, offset: number, rec: FffRecord, dtype: Dtype): void {
  const H = rec.wIn.length;
  if (rec.wOut.length !== H) throw new UfbError("bad_argument", `writeFffRecord: wIn has ${H} values, wOut ${rec.wOut.length}`);
  if (offset % RECORD_ALIGN !== 0) throw new UfbError("bad_argument", `writeFffRecord: offset ${offset} is not ${RECORD_ALIGN}-aligned`);
  const bytes = recordBytes(H, dtype);
  dst.fill(0, offset, offset + bytes);
  const view = new DataView(dst.buffer, dst.byteOffset + offset, bytes);
  view.setFloat32(0, rec.bias, true);
  view.setFloat32(4, rec.inScale, true);
  view.setFloat32(8, rec.outScale, true);
  view.setUint32(12, 0, true);
  const wIn = RECORD_HEADER_BYTES;
  const wOut = wIn + H * dtypeBytes(dtype);
  if (dtype === "q8") {
    if (!(rec.wIn instanceof Int8Array) || !(rec.wOut instanceof Int8Array)) throw new UfbError("bad_argument", "writeFffRecord: q8 record needs Int8Array weights");
    dst.set(new Uint8Array(rec.wIn.buffer, rec.wIn.byteOffset, H), offset + wIn);
    dst.set(new Uint8Array(rec.wOut.buffer, rec.wOut.byteOffset, H), offset + wOut);
  } else {
    for (let i = 0; i < H; i++) {
      view.setFloat32(wIn + 4 * i, rec.wIn[i], true);
      view.setFloat32(wOut + 4 * i, rec.wOut[i], true);
    }
  }
}
