/**
 * Text → token ids for crammedBERT-style tokenizer.json files, through @huggingface/tokenizers.
 *
 * The library does the normalisation, pre-tokenisation, WordPiece and template; this wrapper adds what
 * it lacks: our pre-normalization when the file carries "ufb_text_rules" (text-rules.ts), truncation to the
 * model's max_seq_length (keeping the template's special tokens), pairs whose second text is empty (the
 * library treats "" as "no pair", the reference does not), and a cache of space-free pieces of text (the
 * library's normalizer and pre-tokenizer run regular expressions per character, which dominates when
 * corpora are tokenized).
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { SPECIAL_TOKEN_ROLES } from "../weights/format/tokenizer-info.ts";
import { type SpecialTokens } from "../weights/format/manifest.ts";
import { UfbError } from "../errors.ts";
import { TextRules } from "./text-rules.ts";

export interface TokenizedText {
  ids: number[];
  tokens: string[];
  /** True when content tokens were dropped to fit `maxLength`. */
  truncated: boolean;
  /** Number of tokens the text would have had without truncation. */
  fullLength: number;
  /**
   * Tokens the text (and pair) produced before truncation and template, not counting <pad>, <cls>, <sep>,
   * <s>, </s> written literally. 0 means the input had no content (only whitespace, zero-width or control
   * characters); <unk> and <mask> count as content.
   */
  contentTokens: number;
}

/** The special tokens the engine needs, by role. Ids come from tokenizer.json's added_tokens. */
export type SpecialTokenIds = SpecialTokens;

/** Bounds the piece cache by default: a Worker isolate keeps it between requests. */
const PIECE_CACHE_LIMIT = 100_000;

export interface TextTokenizerOptions {
  /** Entries of the space-free piece → tokens cache (cleared when full); corpus tokenization wants more. */
  cacheLimit?: number;
}

interface AddedTokenJson { id: number; content: string; special?: boolean }

export class TextTokenizer {
  readonly maxLength: number;
  readonly special: SpecialTokenIds;
  readonly vocabSize: number;
  private readonly tokenizer: Tokenizer;
  private readonly vocab: Map<string, number>;
  private readonly idToToken: string[];
  private readonly specialsSingle: number;
  private readonly specialsPair: number;
  /** Pre-normalization of ufb-uncased-v2 and later tokenizers; null for files without "ufb_text_rules". */
  readonly rules: TextRules | null;
  /** Added-token strings: a text containing one takes the library's own path (it splits them out first). */
  private readonly addedContents: string[];
  /** Whether words may be tokenized outside the library (see tokenizeText). */
  private readonly wordPath: boolean;
  private readonly pieceCache = new Map<string, string[]>();
  private readonly cacheLimit: number;
  private readonly notContent: Set<number>;

  /** @param json the parsed tokenizer.json. @param maxLength the model's max_seq_length. */
  constructor(json: unknown, maxLength: number, options: TextTokenizerOptions = {}) {
    if (typeof json !== "object" || json === null || !("model" in json)) {
      throw new UfbError("bad_tokenizer", "tokenizer.json: expected an object with a \"model\" field");
    }
    this.maxLength = maxLength;
    this.cacheLimit = options.cacheLimit ?? PIECE_CACHE_LIMIT;
    this.tokenizer = new Tokenizer(json, {});
    this.vocab = this.tokenizer.get_vocab(true);
    this.vocabSize = this.vocab.size;
    this.idToToken = [];
    for (const [token, id] of this.vocab) this.idToToken[id] = token;
    const special: SpecialTokenIds = {};
    const added = ((json as { added_tokens?: AddedTokenJson[] }).added_tokens ?? []);
    for (const t of added) {
      const role = SPECIAL_TOKEN_ROLES[t.content];
      if (role && special[role] === undefined) special[role] = t.id;
    }
    this.special = special;
    this.rules = TextRules.fromTokenizerJson(json);
    this.addedContents = added.map((t) => t.content);
    // Added tokens with normalized: true are also matched after normalization; not worth handling here.
    this.wordPath = added.every((t) => (t as { normalized?: boolean }).normalized === false) && this.tokenizer.model !== null;
    this.notContent = new Set([special.pad, special.cls, special.sep, special.bos, special.eos].filter((x): x is number => x !== undefined));
    this.specialsSingle = this.applyTemplate([], null).length;
    this.specialsPair = this.applyTemplate([], []).length;
  }

  static fromJsonText(text: string, maxLength: number, options: TextTokenizerOptions = {}): TextTokenizer {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new UfbError("bad_tokenizer", `tokenizer.json is not valid JSON: ${(e as Error).message}`);
    }
    return new TextTokenizer(json, maxLength, options);
  }

  /**
   * Encodes one text, or a pair when `pair` is a string (an empty string still selects the pair template).
   * Content is truncated so that the result, special tokens included, has at most maxLength tokens;
   * pairs lose tokens from the longer side first (Hugging Face's "longest_first").
   */
  encode(text: string, pair?: string | null): TokenizedText {
    let a = this.tokenizeText(text);
    let b = pair === undefined || pair === null ? null : this.tokenizeText(pair);
    const contentTokens = this.countContent(a) + (b === null ? 0 : this.countContent(b));
    const specials = b === null ? this.specialsSingle : this.specialsPair;
    const fullLength = a.length + (b?.length ?? 0) + specials;
    const budget = this.maxLength - specials;
    let truncated = false;
    if (fullLength > this.maxLength) {
      truncated = true;
      if (b === null) {
        a = a.slice(0, Math.max(0, budget));
      } else {
        let la = a.length;
        let lb = b.length;
        while (la + lb > budget && la + lb > 0) {
          if (la >= lb) la--;
          else lb--;
        }
        a = a.slice(0, la);
        b = b.slice(0, lb);
      }
    }
    const tokens = this.applyTemplate(a, b);
    return { ids: tokens.map((t) => this.tokenId(t)), tokens, truncated, fullLength, contentTokens };
  }

  /**
   * Encodes a text given as token ids of this vocabulary (OpenAI's token-array input): truncated and put in
   * the template like encode(). Every id must be a token of the vocabulary; `where` names the input in errors.
   */
  encodeIds(content: readonly number[], where: string): TokenizedText {
    const tokens = content.map((id, p) => {
      const t = Number.isInteger(id) ? this.idToToken[id] : undefined;
      if (t === undefined) throw new UfbError("invalid_input", `${where}[${p}]: ${id} is not a token id of this model (expected an integer in [0, ${this.idToToken.length - 1}])`);
      return t;
    });
    const specials = this.specialsSingle;
    const fullLength = tokens.length + specials;
    const truncated = fullLength > this.maxLength;
    const kept = truncated ? tokens.slice(0, Math.max(0, this.maxLength - specials)) : tokens;
    const all = this.applyTemplate(kept, null);
    return { ids: all.map((t) => this.tokenId(t)), tokens: all, truncated, fullLength, contentTokens: this.countContent(tokens) };
  }

  /** Whether `id` is one of the template's special tokens (<pad>, <cls>, <sep>, <s>, </s>). */
  isSpecial(id: number): boolean {
    return this.notContent.has(id);
  }

  /**
   * Ids of many texts, by the same code path as encode() but without truncation. With
   * `addSpecialTokens: false` each text gives only its own tokens (what corpus tokenization wants).
   */
  encodeBatch(texts: readonly string[], { addSpecialTokens = true }: { addSpecialTokens?: boolean } = {}): number[][] {
    return texts.map((t) => {
      const tokens = this.tokenizeText(t);
      return (addSpecialTokens ? this.applyTemplate(tokens, null) : tokens).map((x) => this.tokenId(x));
    });
  }

  /**
   * Tokens of one text without template: rules, then the library. A text without an added-token string is
   * cut at ASCII spaces and each piece goes through the library's normalizer, pre-tokenizer and model, as
   * Tokenizer.encode_text would send the whole text; the result is the same because nothing in that chain
   * looks across a space (clean_text, CJK spacing, NFD and lowercasing, final sigma included, are local
   * to a space-free run, and both pre-tokenizers split at spaces), and it lets pieces be cached.
   */
  private tokenizeText(text: string): string[] {
    if (this.rules) text = this.rules.apply(text);
    if (!this.wordPath || this.addedContents.some((c) => text.includes(c))) {
      return this.tokenizer.tokenize(text, { add_special_tokens: false });
    }
    const out: string[] = [];
    for (const piece of text.split(" ")) {
      if (piece.length === 0) continue;
      let got = this.pieceCache.get(piece);
      if (got === undefined) {
        got = this.tokenizePiece(piece);
        if (this.pieceCache.size >= this.cacheLimit) this.pieceCache.clear();
        this.pieceCache.set(piece, got);
      }
      for (const x of got) out.push(x);
    }
    return out;
  }

  private tokenizePiece(piece: string): string[] {
    const t = this.tokenizer;
    const normalized = t.normalizer ? t.normalizer(piece) : piece;
    if (normalized.length === 0) return [];
    const words = t.pre_tokenizer ? t.pre_tokenizer(normalized, { section_index: 0 }) : [normalized];
    return t.model!(words) as string[];
  }

  private countContent(tokens: string[]): number {
    let n = 0;
    for (const t of tokens) if (!this.notContent.has(this.vocab.get(t) ?? -1)) n++;
    return n;
  }

  tokenId(token: string): number {
    const id = this.vocab.get(token);
    if (id === undefined) throw new UfbError("bad_tokenizer", `token "${token}" is not in the vocabulary`);
    return id;
  }

  token(id: number): string | undefined {
    return this.idToToken[id];
  }

  decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: true });
  }

  private applyTemplate(a: string[], b: string[] | null): string[] {
    const processor = this.tokenizer.post_processor;
    if (!processor) return b === null ? a : [...a, ...b];
    return processor(a, b, true).tokens;
  }
}
