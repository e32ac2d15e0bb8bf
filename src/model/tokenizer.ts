/**
 * Text → token ids for crammedBERT-style tokenizer.json files, through @huggingface/tokenizers.
 *
 * The library does the normalisation, pre-tokenisation, WordPiece and template; this wrapper adds what
 * it lacks: truncation to the model's max_seq_length (keeping the template's special tokens) and pairs
 * whose second text is empty (the library treats "" as "no pair", the reference does not).
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { SPECIAL_TOKEN_ROLES } from "../weights/format/tokenizer-info.ts";
import { type SpecialTokens } from "../weights/format/manifest.ts";
import { UfbError } from "../errors.ts";

export interface TokenizedText {
  ids: number[];
  tokens: string[];
  /** True when content tokens were dropped to fit `maxLength`. */
  truncated: boolean;
  /** Number of tokens the text would have had without truncation. */
  fullLength: number;
}

/** The special tokens the engine needs, by role. Ids come from tokenizer.json's added_tokens. */
export type SpecialTokenIds = SpecialTokens;

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

  /** @param json the parsed tokenizer.json. @param maxLength the model's max_seq_length. */
  constructor(json: unknown, maxLength: number) {
    if (typeof json !== "object" || json === null || !("model" in json)) {
      throw new UfbError("bad_tokenizer", "tokenizer.json: expected an object with a \"model\" field");
    }
    this.maxLength = maxLength;
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
    this.specialsSingle = this.applyTemplate([], null).length;
    this.specialsPair = this.applyTemplate([], []).length;
  }

  static fromJsonText(text: string, maxLength: number): TextTokenizer {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new UfbError("bad_tokenizer", `tokenizer.json is not valid JSON: ${(e as Error).message}`);
    }
    return new TextTokenizer(json, maxLength);
  }

  /**
   * Encodes one text, or a pair when `pair` is a string (an empty string still selects the pair template).
   * Content is truncated so that the result, special tokens included, has at most maxLength tokens;
   * pairs lose tokens from the longer side first (Hugging Face's "longest_first").
   */
  encode(text: string, pair?: string | null): TokenizedText {
    let a = this.tokenizer.tokenize(text, { add_special_tokens: false });
    let b = pair === undefined || pair === null ? null : this.tokenizer.tokenize(pair, { add_special_tokens: false });
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
    return { ids: tokens.map((t) => this.tokenId(t)), tokens, truncated, fullLength };
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
