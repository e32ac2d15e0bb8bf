import { describe, expect, it } from "vitest";
import { TextTokenizer } from "../../src/model/tokenizer.ts";
import { fixtureText } from "../helpers/fixtures.ts";

interface TokenizerCase {
  name: string;
  text: string;
  ids: number[];
  tokens: string[];
  pair: string;
  pair_ids: number[];
  pair_tokens: string[];
}
interface TokenizerExpected {
  vocab_size: number;
  special_token_ids: Record<string, number>;
  cases: TokenizerCase[];
}

const fixture = (path: string) => fixtureText(`reference/${path}`);

for (const name of ["tiny", "trees"]) {
  describe(`tokenizer (${name} fixture)`, async () => {
    const json = await fixture(`${name}/tokenizer.json`);
    const expected = JSON.parse(await fixture(`${name}/tokenizer-expected.json`)) as TokenizerExpected;
    const tok = TextTokenizer.fromJsonText(json, 100000);

    it("reads special ids from added_tokens", () => {
      const s = expected.special_token_ids;
      expect(tok.special).toMatchObject({
        pad: s["<pad>"], unk: s["<unk>"], cls: s["<cls>"], sep: s["<sep>"], mask: s["<mask>"], bos: s["<s>"], eos: s["</s>"],
      });
      expect(tok.vocabSize).toBe(expected.vocab_size);
    });

    for (const c of expected.cases) {
      it(`single: ${c.name}`, () => {
        const out = tok.encode(c.text);
        expect(out.ids).toEqual(c.ids);
        expect(out.tokens).toEqual(c.tokens);
        expect(out.truncated).toBe(false);
      });
      it(`pair: ${c.name}`, () => {
        expect(tok.encode(c.text, c.pair).ids).toEqual(c.pair_ids);
      });
    }
  });
}

describe("tokenizer truncation", async () => {
  const json = await fixture("tiny/tokenizer.json");
  const expected = JSON.parse(await fixture("tiny/tokenizer-expected.json")) as TokenizerExpected;
  const simple = expected.cases.find((c) => c.name === "simple")!;

  it("keeps the template's trailing separator and reports truncation", () => {
    const tok = TextTokenizer.fromJsonText(json, 4);
    const out = tok.encode(simple.text);
    // first 3 content tokens of the untruncated encoding, then <sep>
    expect(out.ids).toEqual([...simple.ids.slice(0, 3), simple.ids[simple.ids.length - 1]]);
    expect(out.truncated).toBe(true);
    expect(out.fullLength).toBe(simple.ids.length);
  });

  it("does not truncate a text that fits exactly", () => {
    const tok = TextTokenizer.fromJsonText(json, simple.ids.length);
    expect(tok.encode(simple.text)).toMatchObject({ ids: simple.ids, truncated: false });
  });

  it("truncates pairs from the longer side first", () => {
    const tok = TextTokenizer.fromJsonText(json, 9);
    const long = "hello world hello world hello world";
    const full = TextTokenizer.fromJsonText(json, 1000).encode(long, "is it");
    const out = tok.encode(long, "is it");
    expect(out.ids.length).toBe(9);
    expect(out.truncated).toBe(true);
    // the short second text survives whole, the first is cut
    const sep = tok.special.sep!;
    const firstSep = out.ids.indexOf(sep);
    expect(out.ids.slice(firstSep + 1)).toEqual(full.ids.slice(full.ids.indexOf(sep) + 1));
  });

  it("rejects a tokenizer.json that is not JSON, naming the file", () => {
    expect(() => TextTokenizer.fromJsonText("{nope", 8)).toThrow(/tokenizer\.json/);
  });
});
