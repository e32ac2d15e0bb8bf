/**
 * Pre-normalization that runs before @huggingface/tokenizers when a tokenizer.json carries "ufb_text_rules"
 * (written by train/build_tokenizer_v2.mjs; train/ufb/text_v2.py is the Python twin and must stay equal).
 *
 * BERT's vocabulary has no tokens for most emoji and its normalizer deletes the zero-width joiners that
 * hold emoji sequences together, so emoji, emoticons and star ratings are replaced by their English names
 * first, each name surrounded by spaces. Steps, in this order:
 *   1. variation selectors U+FE0E/U+FE0F are removed (the normalizer would delete them anyway);
 *   2. runs of ≥ min_run rating symbols → "four out of five stars" / "five stars";
 *   3. emoticons standing alone (whitespace or text boundary on both sides) → the name of their emoji;
 *   4. emoji sequences, longest match first (ZWJ sequences, flags, keycaps, skin-tone variants) → name.
 */

export interface TextRulesJson {
  version: string;
  source: string;
  ratings: { filled: string; half: string; empty: string; min_run: number; numbers: string[] };
  emoticons: Record<string, string>;
  emoji: Record<string, string>;
}

/**
 * JavaScript's \s, spelled out so that the Python twin can use the same set (Python's str.isspace differs:
 * it includes U+001C–U+001F and U+0085 and excludes U+FEFF).
 */
export const JS_WHITESPACE = "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff";

interface TrieNode { next: Map<number, TrieNode>; name?: string }

const escapeRegExp = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");

export class TextRules {
  readonly version: string;
  readonly source: string;
  private readonly ratingRe: RegExp;
  private readonly filled: Set<string>;
  private readonly half: Set<string>;
  private readonly numbers: string[];
  private readonly emoticonRe: RegExp | null;
  private readonly emoticons: Map<string, string>;
  private readonly trie: TrieNode = { next: new Map() };

  constructor(rules: TextRulesJson) {
    this.version = rules.version;
    this.source = rules.source;
    const r = rules.ratings;
    this.filled = new Set(r.filled);
    this.half = new Set(r.half);
    this.numbers = r.numbers;
    const chars = [...r.filled, ...r.half, ...r.empty].map(escapeRegExp).join("");
    this.ratingRe = new RegExp(`[${chars}]{${r.min_run},}`, "gu");

    this.emoticons = new Map(Object.entries(rules.emoticons));
    // Longest first, so that ":-)" is not read as ":" … and the alternation order is the same in Python.
    const alts = [...this.emoticons.keys()].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
    this.emoticonRe = alts.length
      ? new RegExp(`(?<![^${JS_WHITESPACE}])(?:${alts.map(escapeRegExp).join("|")})(?![^${JS_WHITESPACE}])`, "g")
      : null;

    for (const [seq, name] of Object.entries(rules.emoji)) {
      let node = this.trie;
      for (const ch of seq) {
        const cp = ch.codePointAt(0)!;
        let child = node.next.get(cp);
        if (!child) node.next.set(cp, (child = { next: new Map() }));
        node = child;
      }
      node.name = name;
    }
  }

  /** The rules of a parsed tokenizer.json, or null when it has none (then text goes to the library as is). */
  static fromTokenizerJson(json: unknown): TextRules | null {
    const r = (json as { ufb_text_rules?: unknown }).ufb_text_rules;
    if (r === undefined || r === null) return null;
    if (typeof r !== "object" || typeof (r as TextRulesJson).version !== "string" || typeof (r as TextRulesJson).emoji !== "object"
      || typeof (r as TextRulesJson).emoticons !== "object" || typeof (r as TextRulesJson).ratings !== "object") {
      throw new TypeError("tokenizer.json: ufb_text_rules needs version, ratings, emoticons and emoji");
    }
    return new TextRules(r as TextRulesJson);
  }

  apply(text: string): string {
    text = text.replace(/[\uFE0E\uFE0F]/g, "");
    // Everything below except the emoticons needs a non-ASCII character; most review text has none.
    const ascii = !/[^\x00-\x7F]/.test(text);
    if (!ascii) text = text.replace(this.ratingRe, (run) => ` ${this.ratingPhrase(run)} `);
    if (this.emoticonRe) text = text.replace(this.emoticonRe, (m) => ` ${this.emoticons.get(m)} `);
    if (!ascii) text = this.replaceEmoji(text);
    return text;
  }

  private ratingPhrase(run: string): string {
    let filled = 0;
    let half = 0;
    let n = 0;
    for (const c of run) {
      n++;
      if (this.filled.has(c)) filled++;
      else if (this.half.has(c)) half++;
    }
    const num = (k: number) => (k < this.numbers.length ? this.numbers[k] : String(k));
    if (filled === n) return `${num(n)} stars`;
    const whole = filled + Math.floor(half / 2);
    return `${num(whole)}${half % 2 ? " and a half" : ""} out of ${num(n)} stars`;
  }

  private replaceEmoji(text: string): string {
    let out = "";
    let last = 0;
    let i = 0;
    while (i < text.length) {
      let node: TrieNode | undefined = this.trie;
      let j = i;
      let name: string | undefined;
      let end = i;
      while (j < text.length) {
        const cp = text.codePointAt(j)!;
        node = node.next.get(cp);
        if (!node) break;
        j += cp > 0xffff ? 2 : 1;
        if (node.name !== undefined) {
          name = node.name;
          end = j;
        }
      }
      if (name !== undefined) {
        out += `${text.slice(last, i)} ${name} `;
        i = last = end;
      } else {
        i += text.codePointAt(i)! > 0xffff ? 2 : 1;
      }
    }
    return last === 0 ? text : out + text.slice(last);
  }
}
