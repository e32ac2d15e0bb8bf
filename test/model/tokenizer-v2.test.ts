/**
 * The ufb-uncased-v2 tokenizer (train/tokenizer/ufb-uncased-v2/tokenizer.json): TypeScript == Python twin
 * on the committed cases, no input with content vanishes, emoji are read by name, accents fold as in
 * bert-base-uncased.
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { describe, expect, it } from "vitest";
import v2Text from "../../train/tokenizer/ufb-uncased-v2/tokenizer.json?raw";
import { mulberry32 } from "../../src/cli/random.ts";
import { TextRules } from "../../src/model/text-rules.ts";
import { TextTokenizer } from "../../src/model/tokenizer.ts";
import { fixtureJson, fixtureText } from "../helpers/fixtures.ts";

interface Cases { rules_version: string; texts: string[]; ids: number[][]; content_tokens: number[] }

const v2Json = JSON.parse(v2Text) as Record<string, unknown>;
const tok = new TextTokenizer(v2Json, 1_000_000);

/** bert-base-uncased as published: v2 without our pre-tokenizer Split and rules, specials as [..]. */
function originalBert(): Tokenizer {
  const j = structuredClone(v2Json) as Record<string, any>;
  delete j.ufb_text_rules;
  j.pre_tokenizer = { type: "BertPreTokenizer" };
  return new Tokenizer(j, {});
}

// seeded (mulberry32): the property test is the same on every run
const rng = mulberry32;

const BLOCKS: [number, number][] = [
  [0x20, 0x7e], [0x00, 0x1f], [0xa0, 0x24f], [0x300, 0x36f], [0x370, 0x3ff], [0x400, 0x4ff], [0x530, 0x58f],
  [0x590, 0x5ff], [0x600, 0x6ff], [0x900, 0x97f], [0x980, 0x9ff], [0xe00, 0xe7f], [0x10a0, 0x10ff],
  [0x1100, 0x11ff], [0x1200, 0x137f], [0x13a0, 0x13ff], [0x1680, 0x169f], [0x1e00, 0x1fff], [0x2000, 0x206f],
  [0x20a0, 0x20c0], [0x2100, 0x214f], [0x2190, 0x21ff], [0x2460, 0x24ff], [0x2600, 0x27bf], [0x2b00, 0x2bff],
  [0x3000, 0x30ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf], [0xac00, 0xd7a3], [0xd800, 0xdfff],
  [0xe000, 0xe0ff], [0xfb00, 0xfdff], [0xfe00, 0xfe0f], [0xfe30, 0xfe6f], [0xff00, 0xffef], [0xfff0, 0xffff],
  [0x10000, 0x1007f], [0x10400, 0x1044f], [0x1d400, 0x1d7ff], [0x1f000, 0x1faff], [0x1f3fb, 0x1f3ff],
  [0x1f1e6, 0x1f1ff], [0x20000, 0x2a6df], [0xe0000, 0xe007f], [0xf0000, 0xf00ff],
];

function randomText(next: () => number): string {
  let s = "";
  const k = 1 + Math.floor(next() * 10);
  for (let i = 0; i < k; i++) {
    const [lo, hi] = BLOCKS[Math.floor(next() * BLOCKS.length)];
    s += String.fromCodePoint(lo + Math.floor(next() * (hi - lo + 1)));
    if (next() < 0.15) s += " ";
  }
  return s;
}

/** Characters that are content: letters, numbers, punctuation, symbols (U+FFFD, the decoding error, aside). */
const CONTENT = /[\p{L}\p{N}\p{P}\p{S}]/u;
const hasContent = (s: string) => CONTENT.test(s.replace(/\uFFFD/g, ""));

describe("tokenizer ufb-uncased-v2", async () => {
  const cases = await fixtureJson<Cases>("tokenizer-v2/cases.json");

  it("is bert-base-uncased pruned to 16,384 tokens, with crammedBERT special spellings and the rules of the fixture", () => {
    expect(tok.vocabSize).toBe(16384);
    // pruning keeps bert's order and drops [unused…]: the specials land on crammedBERT's ids
    expect(tok.special).toEqual({ pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 });
    expect(tok.rules?.version).toBe(cases.rules_version);
    expect(tok.rules?.source).toBe("emojibase-data@17.0.0");
    expect(tok.encode("a", "b").tokens).toEqual(["<cls>", "a", "<sep>", "b", "<sep>"]);
  });

  it(`gives the Python twin's ids for all ${cases.texts.length} committed texts`, () => {
    expect(cases.texts.length).toBeGreaterThanOrEqual(300);
    const bad: string[] = [];
    cases.texts.forEach((t, i) => {
      const e = tok.encode(t);
      if (JSON.stringify(e.ids) !== JSON.stringify(cases.ids[i]) || e.contentTokens !== cases.content_tokens[i]) {
        bad.push(`${JSON.stringify(t)}: ts ${JSON.stringify(e.ids)} (${e.contentTokens}) py ${JSON.stringify(cases.ids[i])} (${cases.content_tokens[i]})`);
      }
    });
    expect(bad).toEqual([]);
  });

  it("cached piece path == the library's own path (rules applied first)", () => {
    const lib = new Tokenizer(v2Json, {});
    const rules = TextRules.fromTokenizerJson(v2Json)!;
    const next = rng(7);
    const texts = [...cases.texts, ...Array.from({ length: 2000 }, () => randomText(next))];
    const ours = tok.encodeBatch(texts);
    texts.forEach((t, i) => expect(ours[i], JSON.stringify(t)).toEqual(lib.encode(rules.apply(t)).ids));
  });

  it("nothing with a letter, number, punctuation or symbol tokenizes to nothing (5,000 random strings)", () => {
    const next = rng(1234);
    let checked = 0;
    for (let i = 0; i < 5000; i++) {
      const t = randomText(next);
      const n = tok.encode(t).contentTokens;
      if (hasContent(t)) {
        checked++;
        expect(n, JSON.stringify(t)).toBeGreaterThan(0);
      }
    }
    expect(checked).toBeGreaterThan(3000);
  });

  it("counts no content for whitespace, zero-width and control characters only", () => {
    for (const t of ["", " ", "\t\n\r", "\u200b", "\u200b\u200c\u200d", "\ufeff", "\u2060", "\u00a0\u3000", "\u0000\u0007", "\ufe0f", "\u00ad", "\u2028"]) {
      const e = tok.encode(t);
      expect(e.contentTokens, JSON.stringify(t)).toBe(0);
      expect(e.ids).toEqual([tok.special.cls, tok.special.sep]);
    }
    for (const t of ["中", "😍", "ℨ", "\u0378x", "a", "<mask>", "<unk>", "★"]) {
      expect(tok.encode(t).contentTokens, JSON.stringify(t)).toBeGreaterThan(0);
    }
    expect(tok.encode("<cls> <sep> <pad>").contentTokens).toBe(0);
    expect(tok.encode("good", "\u200b").contentTokens).toBe(1);
  });

  it("reads emoji-only texts by their names", () => {
    const names: [string, string][] = [
      ["😍😍😍", "smiling face with heart - eyes smiling face with heart - eyes smiling face with heart - eyes"],
      ["👎", "thumbs down"], ["👍🏽", "thumbs up"], ["❤️", "red heart"], ["🇺🇸", "flag united states"],
      ["👨‍👩‍👧", "family man , woman , girl"], ["😂", "face with tears of joy"],
      [":)", "slightly smiling face"], ["<3", "red heart"], ["★★★★☆", "four out of five stars"],
      ["★★★★★", "five stars"], ["⭐️⭐️⭐️", "three stars"], ["★★★⯪☆", "three and a half out of five stars"],
    ];
    for (const [text, want] of names) {
      const e = tok.encode(text);
      expect(e.tokens.slice(1, -1).join(" ").replace(/ ##/g, ""), text).toBe(want);
      expect(e.ids).not.toContain(tok.special.unk);
    }
    // emoticons only between whitespace; list markers and words are left alone
    expect(tok.encode("time 10:30 (see:)").tokens.join(" ")).toBe("<cls> time 10 : 30 ( see : ) <sep>");
    expect(tok.encode("xp 8)").tokens.join(" ")).toBe("<cls> xp 8 ) <sep>");
  });

  it("folds accented Latin text exactly as bert-base-uncased does", () => {
    const bert = originalBert();
    const texts = ["café", "naïve", "Ångström", "CRÈME BRÛLÉE", "façade déjà vu", "São Paulo", "Straße", "Øresund",
      "Łódź", "Ærø", "résumé", "El Niño", "Zürich", "Dvořák", "İstanbul", "Ελληνικά", "Привет", "crème brûlée, s'il vous plaît!"];
    for (const t of texts) {
      const want = bert.encode(t).ids;
      if (/[\u0370-\u04ff]/.test(t)) {
        // other scripts: character tokens (BERT keeps words when the vocabulary has them); same characters
        expect(tok.encode(t).tokens.slice(1, -1).join(""), t).toBe(bert.encode(t).tokens.slice(1, -1).join("").replace(/##/g, ""));
      } else {
        expect(tok.encode(t).ids, t).toEqual(want);
      }
    }
  });
});

describe("tokenizers without ufb_text_rules", async () => {
  it("apply no rules and still count content", async () => {
    const t = TextTokenizer.fromJsonText(await fixtureText("reference/tiny/tokenizer.json"), 128);
    expect(t.rules).toBeNull();
    const e = t.encode(":) 😍");
    // the reference fixtures' single template is crammedBERT's "$A <sep>"
    expect(e.tokens.at(-1)).toBe("<sep>");
    expect(e.contentTokens).toBe(e.tokens.length - 1);
    expect(t.encode("  \t ").contentTokens).toBe(0);
  });
});
