/**
 * A tokenizer.json of the crammedBERT kind (same structure as test/fixtures/reference/tiny/tokenizer.json:
 * normalizer sequence, Whitespace pre-tokenizer, WordPiece with ##, templates `$A <sep>` and
 * `<cls> $A <sep> $B <sep>`) with a generated vocabulary of exactly `vocabSize` entries: the 7 special
 * tokens at ids 0–6 in a seed-dependent order (as the real ones, so nothing can hard-code them), single
 * printable ASCII characters, `##` + each of them, then the given words (e.g. bert-base-uncased's
 * vocab.txt), then generated letter pieces until the vocabulary is full.
 */
import { UfbError } from "../../errors.ts";
import { Xoshiro128, fnv1a } from "./synth.ts";

export const SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>", "<cls>", "<sep>", "<mask>"] as const;

const PRINTABLE = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)); // '!' … '~'
const LETTERS = "abcdefghijklmnopqrstuvwxyz";

/** Vocabulary entries in id order. */
export function synthVocabulary(vocabSize: number, seed: number, words: readonly string[] = []): string[] {
  if (!Number.isInteger(vocabSize) || vocabSize < SPECIAL_TOKENS.length + 1) {
    throw new UfbError("bad_argument", `synth tokenizer: vocabSize ${vocabSize}, expected an integer ≥ ${SPECIAL_TOKENS.length + 1}`);
  }
  const specials: string[] = [...SPECIAL_TOKENS];
  const rng = new Xoshiro128(seed >>> 0, fnv1a("tokenizer"));
  for (let i = specials.length - 1; i > 0; i--) {
    const j = rng.nextU32() % (i + 1);
    [specials[i], specials[j]] = [specials[j], specials[i]];
  }
  const seen = new Set<string>();
  const out: string[] = [];
  const push = (t: string) => {
    if (out.length < vocabSize && !seen.has(t)) {
      seen.add(t);
      out.push(t);
    }
  };
  specials.forEach(push);
  PRINTABLE.forEach(push);
  PRINTABLE.forEach((c) => push(`##${c}`));
  // what the normalizer can produce: lowercase ASCII without spaces; the pre-tokenizer splits \w+ from punctuation
  const ok = /^(##)?([a-z0-9_]+|[!-/:-@[-`{-~]+)$/;
  for (const w of words) {
    if (out.length >= vocabSize) break;
    if (ok.test(w)) push(w);
  }
  // fill: aa … zz, ##aa … ##zz, aaa … zzz, ##aaa …
  for (let len = 2; out.length < vocabSize; len++) {
    for (const prefix of ["", "##"]) {
      const total = LETTERS.length ** len;
      for (let i = 0; i < total && out.length < vocabSize; i++) {
        let s = "";
        for (let k = 0, v = i; k < len; k++, v = Math.floor(v / LETTERS.length)) s = LETTERS[v % LETTERS.length] + s;
        push(prefix + s);
      }
    }
  }
  return out;
}

/** tokenizer.json text for a vocabulary from synthVocabulary(). */
export function synthTokenizerJson(vocab: readonly string[]): string {
  const id = (t: string) => vocab.indexOf(t);
  const added = SPECIAL_TOKENS.map((content) => ({ id: id(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }))
    .filter((a) => a.id >= 0)
    .sort((a, b) => a.id - b.id);
  if (added.length !== SPECIAL_TOKENS.length) throw new UfbError("bad_argument", "synth tokenizer: the vocabulary lacks special tokens");
  const seq = (s: "A" | "B") => ({ Sequence: { id: s, type_id: 0 } });
  const sp = (t: string) => ({ SpecialToken: { id: t, type_id: 0 } });
  const json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Replace", pattern: { String: "``" }, content: '"' },
        { type: "Replace", pattern: { String: "''" }, content: '"' },
        { type: "NFD" },
        { type: "Lowercase" },
        { type: "StripAccents" },
        { type: "Replace", pattern: { Regex: " {2,}" }, content: " " },
        { type: "Replace", pattern: { Regex: "[^\\x00-\\x7F]+" }, content: "" },
      ],
    },
    pre_tokenizer: { type: "Whitespace" },
    post_processor: {
      type: "TemplateProcessing",
      single: [seq("A"), sp("<sep>")],
      pair: [sp("<cls>"), seq("A"), sp("<sep>"), seq("B"), sp("<sep>")],
      special_tokens: {
        "<cls>": { id: "<cls>", ids: [id("<cls>")], tokens: ["<cls>"] },
        "<sep>": { id: "<sep>", ids: [id("<sep>")], tokens: ["<sep>"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "<unk>",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
  return JSON.stringify(json, null, 2);
}
