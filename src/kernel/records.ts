/**
 * The FFF node record (architecture §2), defined once here for the kernel side:
 *
 * | offset     | type                 | field                                   |
 * | 0          | f32                  | bias                                    |
 * | 4          | f32                  | inScale (1.0 for f32 records)           |
 * | 8          | f32                  | outScale (1.0 for f32 records)          |
 * | 12         | u32                  | reserved, 0                             |
 * | 16         | i8[H] or f32[H]      | wIn  (row n of linear_in.weight)        |
 * | 16 + H·e   | i8[H] or f32[H]      | wOut (column n of linear_out.weight)    |
 * | …          | zero padding         | up to a multiple of 16 bytes            |
 *
 * e = 1 (q8) or 4 (f32); little-endian. q8 scales are symmetric per record: scale = amax/127,
 * q = round(w/scale), scale 0 ⇒ all q = 0.
 */
import type { FffRecord } from "./reference.ts";

export type FffDtype = "f32" | "q8";

/** Kernel-side dtype codes (the `dtype` argument of the wasm FFF exports). */
export const FFF_DTYPE_CODE: Readonly<Record<FffDtype, number>> = { f32: 0, q8: 1 };

export const FFF_RECORD_HEADER_BYTES = 16;

/** recordBytes(H, dtype) = align16(16 + 2·H·e). */
export function fffRecordBytes(H: number, dtype: FffDtype): number {
  const e = dtype === "q8" ? 1 : 4;
  return Math.ceil((FFF_RECORD_HEADER_BYTES + 2 * H * e) / 16) * 16;
}

/** Symmetric q8 of one vector: scale = amax/127, q = round half away from zero (w/scale) (all 0 when amax = 0). */
export function quantizeVectorQ8(w: ArrayLike<number>): { q: Int8Array; scale: number } {
  let amax = 0;
  for (let i = 0; i < w.length; i++) amax = Math.max(amax, Math.abs(w[i]));
  const scale = Math.fround(amax / 127);
  const q = new Int8Array(w.length);
  if (scale > 0) {
    for (let i = 0; i < w.length; i++) {
      const v = w[i] / scale;
      q[i] = Math.max(-127, Math.min(127, v < 0 ? -Math.round(-v) : Math.round(v)));
    }
  }
  return { q, scale };
}

/**
 * Builds a q8 record from f32 weights (wIn and wOut each quantized with their own scale);
 * returns the plain form (for references) — write it with `writeFffRecord`.
 */
export function fffRecordQ8(bias: number, wIn: ArrayLike<number>, wOut: ArrayLike<number>): FffRecord {
  const a = quantizeVectorQ8(wIn);
  const b = quantizeVectorQ8(wOut);
  return { bias: Math.fround(bias), inScale: a.scale, outScale: b.scale, wIn: a.q, wOut: b.q };
}

export function fffRecordF32(bias: number, wIn: ArrayLike<number>, wOut: ArrayLike<number>): FffRecord {
  return { bias: Math.fround(bias), inScale: 1, outScale: 1, wIn: Float32Array.from(wIn), wOut: Float32Array.from(wOut) };
}

/** Writes `rec` at byte `offset` of `dst` (fffRecordBytes(H, dtype) bytes, offset 16-aligned). */
export function writeFffRecord(dst: Uint8Array, offset: number, rec: FffRecord, dtype: FffDtype): void {
  const H = rec.wIn.length;
  if (rec.wOut.length !== H) throw new Error(`writeFffRecord: wIn has ${H} values, wOut ${rec.wOut.length}`);
  if (offset % 16 !== 0) throw new Error(`writeFffRecord: offset ${offset} is not 16-aligned`);
  const bytes = fffRecordBytes(H, dtype);
  dst.fill(0, offset, offset + bytes);
  const view = new DataView(dst.buffer, dst.byteOffset + offset, bytes);
  view.setFloat32(0, rec.bias, true);
  view.setFloat32(4, rec.inScale, true);
  view.setFloat32(8, rec.outScale, true);
  view.setUint32(12, 0, true);
  if (dtype === "q8") {
    if (!(rec.wIn instanceof Int8Array) || !(rec.wOut instanceof Int8Array)) throw new Error("writeFffRecord: q8 record needs Int8Array weights");
    dst.set(new Uint8Array(rec.wIn.buffer, rec.wIn.byteOffset, H), offset + 16);
    dst.set(new Uint8Array(rec.wOut.buffer, rec.wOut.byteOffset, H), offset + 16 + H);
  } else {
    for (let i = 0; i < H; i++) {
      view.setFloat32(16 + 4 * i, rec.wIn[i], true);
      view.setFloat32(16 + 4 * H + 4 * i, rec.wOut[i], true);
    }
  }
}
