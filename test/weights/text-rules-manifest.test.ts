/**
 * A tokenizer.json with "ufb_text_rules" records the rules version in manifest.tokenizer.textRules (what
 * `ufb convert` writes); one without keeps the manifest exactly as before.
 */
import { describe, expect, it } from "vitest";
import v2Text from "../../train/tokenizer/ufb-uncased-v2/tokenizer.json?raw";
import { Engine } from "../../src/model/engine.ts";
import { loadCheckpoint } from "../../src/weights/convert/checkpoint.ts";
import { writePackage } from "../../src/weights/convert/writer.ts";
import { readTokenizerInfo } from "../../src/weights/format/tokenizer-info.ts";
import { WeightPackage } from "../../src/weights/read/package.ts";
import { MemorySink, MemorySource } from "../../src/weights/read/sources.ts";
import { fixtureBytes } from "../helpers/fixtures.ts";
import { newKernel } from "../helpers/packages.ts";

async function build(tokenizer: Uint8Array) {
  const dir = "reference/tiny";
  const checkpoint = await loadCheckpoint({
    config: await fixtureBytes(`${dir}/config.json`),
    tokenizer,
    weights: new MemorySource(await fixtureBytes(`${dir}/model.safetensors`), `${dir}/model.safetensors`),
  }, { name: "tiny" });
  const sink = new MemorySink();
  const manifest = await writePackage(checkpoint, sink, { dtype: "f32", createdAt: null });
  const pkg = await WeightPackage.open({ manifest: JSON.stringify(manifest), tokenizer: async () => tokenizer, weights: new MemorySource(sink.bytes(), "tiny.weights.bin") });
  return { manifest, pkg };
}

describe("manifest.tokenizer.textRules", () => {
  it("is absent for a tokenizer without rules", async () => {
    const { manifest } = await build(await fixtureBytes("reference/tiny/tokenizer.json"));
    expect(Object.keys(manifest.tokenizer)).toEqual(["file", "bytes", "sha256"]);
  });

  it("carries the rules version, and the engine applies those rules", async () => {
    const rules = JSON.parse(v2Text).ufb_text_rules;
    const tiny = JSON.parse(new TextDecoder().decode(await fixtureBytes("reference/tiny/tokenizer.json")));
    const bytes = new TextEncoder().encode(JSON.stringify({ ...tiny, ufb_text_rules: rules }));
    expect(readTokenizerInfo(bytes).textRules).toBe(rules.version);
    const { manifest, pkg } = await build(bytes);
    expect(manifest.tokenizer.textRules).toBe(rules.version);
    const engine = await Engine.create(pkg, newKernel());
    expect(engine.tokenizer.rules?.version).toBe(pkg.manifest.tokenizer.textRules);
  });

  it("rejects rules without a version", () => {
    const bad = new TextEncoder().encode(JSON.stringify({ model: { type: "WordPiece", vocab: { a: 0 } }, added_tokens: [], ufb_text_rules: {} }));
    expect(() => readTokenizerInfo(bad)).toThrow(/ufb_text_rules needs a string version/);
  });
});
