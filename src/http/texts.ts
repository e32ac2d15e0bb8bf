/**
 * The checks on the texts of a request that the schema does not express (so they are 422, not 400):
 * how many, not empty, not too long. Every offending text is listed with its index.
 */
import { LIMITS } from "./limits.ts";
import type { TextField } from "./env.ts";
import { ProblemError, type ProblemItem } from "./problem.ts";

/** Counts Unicode code points (what JSON Schema's maxLength counts), not UTF-16 units. */
export function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    // a high surrogate followed by a low one is one code point
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < text.length) {
      const v = text.charCodeAt(i + 1);
      if (v >= 0xdc00 && v <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * Returns the texts of a validated body (`text` xor `texts`; the schema already enforced exactly one)
 * as an array, or throws a 422 problem.
 */
export function requestTexts(body: { text?: string; texts?: string[] }): string[] {
  const single = body.text !== undefined;
  const texts = single ? [body.text as string] : (body.texts ?? []);
  return checkTexts(texts, single ? { field: "text", single: true } : { field: "texts", single: false });
}

/**
 * The checks every route makes on its texts, whatever the body's shape (native `texts`, Hugging Face
 * `inputs`, OpenAI `input`, Workers AI `text`): at least one, at most LIMITS.maxTexts, none empty, none too
 * long. `where` names the field, so each offending text is listed with its own JSON Pointer.
 */
export function checkTexts<T extends string | number[]>(texts: T[], where: TextField): T[] {
  const { field, single } = where;
  if (texts.length === 0) throw new ProblemError("no_texts", `${field} is empty; send between 1 and ${LIMITS.maxTexts} texts.`, { errors: [{ pointer: `#/${field}`, detail: "must contain at least 1 text" }] });
  if (texts.length > LIMITS.maxTexts) {
    throw new ProblemError("too_many_texts", `${field} has ${texts.length} items; at most ${LIMITS.maxTexts} are allowed per request.`, {
      errors: [{ pointer: `#/${field}`, detail: `must contain at most ${LIMITS.maxTexts} texts, got ${texts.length}` }],
    });
  }
  const empty: ProblemItem[] = [];
  const long: ProblemItem[] = [];
  texts.forEach((text, i) => {
    const pointer = single ? `#/${field}` : `#/${field}/${i}`;
    const name = single ? field : `${field}[${i}]`;
    if (typeof text !== "string") {
      if (text.length === 0) empty.push({ pointer, detail: `${name} is an empty list of token ids` });
      else if (text.length > LIMITS.maxTextChars) long.push({ pointer, detail: `${name} has ${text.length} token ids; at most ${LIMITS.maxTextChars} are allowed` });
    } else if (text.trim() === "") empty.push({ pointer, detail: `${name} is empty or only whitespace` });
    else {
      const n = text.length > LIMITS.maxTextChars ? codePoints(text) : 0;
      if (n > LIMITS.maxTextChars) long.push({ pointer, detail: `${name} has ${n} characters; at most ${LIMITS.maxTextChars} are allowed` });
    }
  });
  if (empty.length) throw new ProblemError("empty_text", `${listed(empty)}; every text must contain non-whitespace characters.`, { errors: empty });
  if (long.length) throw new ProblemError("text_too_long", `${listed(long)}.`, { errors: long });
  return texts;
}

function listed(items: ProblemItem[]): string {
  return items.length === 1 ? items[0].detail : `${items[0].detail} (and ${items.length - 1} more; see errors)`;
}
