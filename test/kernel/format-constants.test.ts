/**
 * The wasm FFF kernels and the package format describe the same node record (docs/architecture.md §2):
 * the kernel module exports the header size and dtype codes it was compiled with, and they must be the
 * format's.
 */
import { describe, expect, it } from "vitest";
import { DTYPE_CODE, RECORD_HEADER_BYTES } from "../../src/weights/format/spec.ts";
import { newKernel } from "./helpers.ts";

describe("wasm FFF constants", () => {
  const { exports } = newKernel();

  it("should use the format's record header size", () => {
    expect(exports.fffRecordHeaderBytes()).toBe(RECORD_HEADER_BYTES);
  });

  it("should use the format's dtype codes", () => {
    expect({ f32: exports.fffDtypeF32(), q8: exports.fffDtypeQ8() }).toEqual(DTYPE_CODE);
  });
});
