/**
 * What the package needs from tokenizer.json: the special token ids by role (from `added_tokens`, never
 * hard-coded: crammedBERT tokenizers put them at ids 0–6 in a run-dependent order) and the vocabulary size.
 */
import { UfbError } from "../../errors.ts";
import type { SpecialTokens } from "./manifest.ts";

/** Special-token roles by token content (crammedBERT `<…>` and BERT `[…]` spellings). */
export const SPECIAL_TOKEN_ROLES: Record<string, keyof SpecialTokens> = {
  "<pad>": "pad", "[PAD]": "pad",
  "<unk>": "unk", "[UNK]": "unk",
  "<cls>": "cls", "[CLS]": "cls",
  "<sep>": "sep", "[SEP]": "sep",
  "<mask>": "mask", "[MASK]": "mask",
  "<s>": "bos",
  "</s>": "eos",
};

export interface TokenizerInfo {
  specialTokens: SpecialTokens;
  /** Entries of model.vocab (the ids 0 … n−1 the model can see). */
  vocabSize: number;
  modelType: string;
  /** ufb_text_rules.version (our pre-normalization, src/model/text-rules.ts), absent for plain files. */
  textRules?: string;
}

export function readTokenizerInfo(bytes: Uint8Array, name = "tokenizer.json"): TokenizerInfo {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new UfbError("bad_checkpoint", `${name}: not valid JSON (${(e as Error).message})`);
  }
  const t = json as { added_tokens?: unknown; model?: { type?: unknown; vocab?: unknown } };
  if (typeof t !== "object" || t === null || typeof t.model !== "object" || t.model === null) {
    throw new UfbError("bad_checkpoint", `${name}: expected an object with a "model" field`);
  }
  const vocab = t.model.vocab;
  if (typeof vocab !== "object" || vocab === null || Array.isArray(vocab)) {
    throw new UfbError("bad_checkpoint", `${name}: model.vocab is not an object of token → id`);
  }
  const ids = Object.values(vocab as Record<string, unknown>);
  let maxId = -1;
  for (const id of ids) {
    if (!Number.isInteger(id) || (id as number) < 0) throw new UfbError("bad_checkpoint", `${name}: model.vocab has id ${JSON.stringify(id)}, expected non-negative integers`);
    maxId = Math.max(maxId, id as number);
  }
  if (!Array.isArray(t.added_tokens)) throw new UfbError("bad_checkpoint", `${name}: added_tokens is not an array`);
  const specialTokens: SpecialTokens = {};
  for (const [i, a] of (t.added_tokens as { id?: unknown; content?: unknown; special?: unknown }[]).entries()) {
    if (typeof a !== "object" || a === null || !Number.isInteger(a.id) || typeof a.content !== "string") {
      throw new UfbError("bad_checkpoint", `${name}: added_tokens[${i}] needs an integer id and a string content`);
    }
    const role = SPECIAL_TOKEN_ROLES[a.content];
    if (role && a.special !== false) {
      if (specialTokens[role] !== undefined) throw new UfbError("bad_checkpoint", `${name}: two added tokens for role ${role} (${a.content})`);
      specialTokens[role] = a.id as number;
    }
  }
  const rules = (t as { ufb_text_rules?: { version?: unknown } }).ufb_text_rules;
  if (rules !== undefined && (typeof rules !== "object" || rules === null || typeof rules.version !== "string")) {
    throw new UfbError("bad_checkpoint", `${name}: ufb_text_rules needs a string version`);
  }
  return {
    specialTokens, vocabSize: Math.max(ids.length, maxId + 1), modelType: String(t.model.type),
    ...(rules ? { textRules: rules.version as string } : {}),
  };
}
