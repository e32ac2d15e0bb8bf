// Checks that @huggingface/tokenizers (JS, the engine's tokenizer library) encodes texts exactly as given.
//   npx -c 'node train/check_tokenizer.mjs <tokenizer.json> <cases.json>'
// cases.json: {"texts": [...], "ids": [[...], ...]}  (ids of the single-sentence encoding, template included)
// Exits 1 on any mismatch.
import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";

const [tokPath, casesPath] = process.argv.slice(2);
const tok = new Tokenizer(JSON.parse(readFileSync(tokPath, "utf8")), {});
const cases = JSON.parse(readFileSync(casesPath, "utf8"));
let bad = 0;
for (let i = 0; i < cases.texts.length; i++) {
  const got = tok.encode(cases.texts[i]).ids;
  const want = cases.ids[i];
  if (got.length !== want.length || got.some((v, k) => v !== want[k])) {
    if (bad < 10) console.error(`mismatch #${i} ${JSON.stringify(cases.texts[i]).slice(0, 120)}\n  js  ${JSON.stringify(got)}\n  ref ${JSON.stringify(want)}`);
    bad++;
  }
}
console.log(`${cases.texts.length} texts, ${bad} mismatches`);
process.exit(bad ? 1 : 0);
