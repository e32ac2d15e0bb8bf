/**
 * The weights room: the package format (docs/format.md), checkpoint readers, weight sources and
 * verification. Web-standard APIs only; Node-only helpers live in src/cli/files.ts.
 */
export * from "./errors.ts";
export * from "./format.ts";
export * from "./layout.ts";
export * from "./manifest.ts";
export * from "./q8.ts";
export * from "./records.ts";
export * from "./sha256.ts";
export * from "./source.ts";
export * from "./safetensors.ts";
export * from "./tokenizer-info.ts";
export * from "./checkpoint.ts";
export * from "./writer.ts";
export * from "./planner.ts";
export * from "./package.ts";
export * from "./cache.ts";
export * from "./limited.ts";
export * from "./synth.ts";
export * from "./synth-tokenizer.ts";
