/** Pure helpers of the page (no DOM), so that they can be tested in Node. */

/** Special tokens ([CLS], <sep>, …) carry no text: they are neither removed nor attributed. */
export function isSpecial(token: string): boolean {
  return /^(\[[A-Za-z_]+\]|<\/?[A-Za-z_]+>)$/.test(token);
}

/** Text back from WordPiece tokens ("##" continues a word; "▁"/"Ġ" start one, for SentencePiece/BPE models). */
export function detokenize(tokens: readonly string[]): string {
  let out = "";
  for (const t of tokens) {
    if (t.startsWith("##")) out += t.slice(2);
    else if (t.startsWith("▁") || t.startsWith("Ġ")) out += " " + t.slice(1);
    else out += (out ? " " : "") + t;
  }
  return out.trim();
}

/**
 * Leave-one-out inputs: texts[0] is the baseline (all content tokens, rebuilt the same way as the variants so
 * that only the removed token differs), then one text per attributed token. The API takes at most `max` texts
 * per request, so at most max − 1 tokens are attributed (`positions` says which).
 */
export function leaveOneOut(tokens: readonly string[], max = 32): { texts: string[]; positions: number[] } {
  const content = tokens.map((t, i) => [t, i] as const).filter(([t]) => !isSpecial(t));
  const texts = [detokenize(content.map(([t]) => t))];
  const positions: number[] = [];
  for (let k = 0; k < content.length && texts.length < max; k++) {
    // a continuation after the removed token starts a word of its own ("gorg ##eous" without "gorg" is "eous",
    // not glued to the word before)
    const kept = content.filter((_, j) => j !== k).map(([t], j) => (j === k && t.startsWith("##") ? t.slice(2) : t));
    const rest = detokenize(kept);
    if (rest === "") continue; // a one-token text: removing it leaves nothing to classify
    texts.push(rest);
    positions.push(content[k][1]);
  }
  return { texts, positions };
}

/** A POSIX-shell single-quoted word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The exact request as a curl command line. */
export function curlCommand(url: string, body: unknown, token: string): string {
  const parts = [`curl -sS ${shellQuote(url)}`, "-H 'Content-Type: application/json'"];
  if (token) parts.push(`-H ${shellQuote(`Authorization: Bearer ${token}`)}`);
  parts.push(`--data-raw ${shellQuote(JSON.stringify(body))}`);
  return parts.join(" \\\n  ");
}
