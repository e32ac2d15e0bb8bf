import { describe, expect, it } from "vitest";
import { UfbError } from "../../src/errors.ts";
import { manifestJson, parseManifest } from "../../src/weights/format/manifest.ts";
import { buildPackage, fixtureFiles, openBuilt } from "./helpers.ts";

describe("manifest checks", async () => {
  const built = await buildPackage(await fixtureFiles("tiny"), "q8");
  const edit = (f: (m: any) => void) => {
    const m = JSON.parse(built.manifestText);
    f(m);
    return JSON.stringify(m);
  };
  const fails = (text: string, code: string, re: RegExp) => {
    let err: unknown;
    try {
      parseManifest(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UfbError);
    expect((err as UfbError).code).toBe(code);
    expect((err as UfbError).message).toMatch(re);
  };

  it("should parse what the writer wrote, also from manifestJson text", () => {
    expect(parseManifest(built.manifestText)).toEqual(built.manifest);
    expect(parseManifest(manifestJson(built.manifest))).toEqual(built.manifest);
  });

  it("should check the magic first, then report both versions", () => {
    fails(edit((m) => (m.format = "gguf")), "bad_package", /format is "gguf", expected "ufb-package"/);
    fails(edit((m) => (m.version = 3)), "version", /^package v3; reader supports ≤ 1/);
    fails(edit((m) => (m.version = "1")), "bad_package", /version is "1", expected a positive integer/);
    fails("{not json", "bad_package", /manifest.json: not valid JSON/);
  });

  it("should name the field that breaks the schema", () => {
    fails(edit((m) => (m.config.hiddenSize = -1)), "bad_package", /config\.hiddenSize/);
    fails(edit((m) => (m.segments[2].tiles[0][3] = "xyz")), "bad_package", /segments\[2\]\.tiles\[0\]\[3\]: expected a sha256/);
    fails(edit((m) => (m.extra = 1)), "bad_package", /extra/);
    fails(edit((m) => delete m.tokenizer.sha256), "bad_package", /tokenizer\.sha256/);
  });

  it("should check sizes and offsets against the layout the config implies", () => {
    fails(edit((m) => (m.segments[2].offset += 64)), "bad_package", /segments\[fff\.0\]\.offset is \d+, expected \d+/);
    fails(edit((m) => m.segments[2].tiles[0].pop()), "bad_package", /segments\[fff\.0\]\.tiles\[0\]\.length is 16, expected 17/);
    fails(edit((m) => (m.config.vocabSize = 513)), "bad_package", /weights\.bytes is \d+, expected \d+/);
    fails(edit((m) => (m.tensors[3].offset = 0)), "bad_package", /tensors\[encoder\.embedding\.word_embedding\.weight\.scales\]\.offset/);
    fails(edit((m) => (m.config.numHeads = 3)), "bad_package", /numHeads 3 × headDim 16 ≠ hiddenSize 64/);
    fails(edit((m) => (m.specialTokens.pad = 512)), "bad_package", /specialTokens\.pad: id 512 ≥ vocabSize 512/);
    fails(edit((m) => (m.config.labels = ["a"])), "bad_package", /an mlm package has classifierDim, numLabels and labels null/);
  });

  it("should hold an embedding package to what serving it needs", () => {
    const embedding = (f: (m: any) => void = () => {}) => edit((m) => {
      Object.assign(m.config, { kind: "embedding", pooler: "avg", normalize: "l2" });
      f(m);
    });
    expect(parseManifest(embedding()).config).toMatchObject({ kind: "embedding", pooler: "avg", normalize: "l2" });
    fails(embedding((m) => (m.config.pooler = null)), "bad_package", /an embedding package needs a pooler/);
    fails(embedding((m) => (m.config.mlmDecoder = "tied")), "bad_package", /an embedding package has no mlmDecoder/);
    fails(embedding((m) => (m.config.labels = ["a"])), "bad_package", /an embedding package has classifierDim, numLabels and labels null/);
    fails(embedding((m) => (m.config.normalize = "l1")), "bad_package", /config\.normalize/);
    fails(edit((m) => (m.config.normalize = "l2")), "bad_package", /config\.normalize: only embedding packages normalise their vectors, this one is mlm/);
  });

  it("should open through a manifest loader", async () => {
    const pkg = await openBuilt(built, { manifest: built.manifestText });
    expect(pkg.manifest.name).toBe("checkpoint");
    expect(pkg.dtype).toBe("q8");
  });
});
