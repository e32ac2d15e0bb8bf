// Builds train/tokenizer/ufb-uncased-v2/tokenizer.json: bert-base-uncased with crammedBERT special-token
// spellings, non-ASCII characters isolated, and our pre-normalization table ("ufb_text_rules").
//   npx node train/build_tokenizer_v2.mjs [--bert ../shared/data/vocab/bert-base-uncased/tokenizer.json]
//                                         [--out train/tokenizer/ufb-uncased-v2/tokenizer.json]
// Paths are relative to the repository root. The output is deterministic (committed; training and packages
// use the committed file, this script only documents and repeats how it was made).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const bertPath = resolve(root, opt("--bert", "../shared/data/vocab/bert-base-uncased/tokenizer.json"));
const outPath = resolve(root, opt("--out", "train/tokenizer/ufb-uncased-v2/tokenizer.json"));

export const RULES_VERSION = "ufb-text-rules-1";
const EMOJI_PACKAGE = "emojibase-data";

export const ISOLATE_PATTERN = "[^\\x00-\\x7F\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F]";

const RENAME = { "[PAD]": "<pad>", "[UNK]": "<unk>", "[CLS]": "<cls>", "[SEP]": "<sep>", "[MASK]": "<mask>" };

// ---------------------------------------------------------------------------------------------------------
// The tokenizer proper
// ---------------------------------------------------------------------------------------------------------
const bert = JSON.parse(readFileSync(bertPath, "utf8"));
const vocab = {};
for (const [tok, id] of Object.entries(bert.model.vocab)) {
  const name = RENAME[tok] ?? tok;
  if (name !== tok && name in bert.model.vocab) throw new Error(`${name} is already a token of the vocabulary`);
  vocab[name] = id;
}
const renameAdded = bert.added_tokens.map((t) => {
  if (!(t.content in RENAME)) throw new Error(`unexpected added token ${t.content}`);
  return { ...t, content: RENAME[t.content] };
});
const special = (t) => ({ id: t, ids: [vocab[t]], tokens: [t] });
const sp = (id, type_id = 0) => ({ SpecialToken: { id, type_id } });
const seq = (id, type_id = 0) => ({ Sequence: { id, type_id } });

const tokenizer = {
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: renameAdded,
  // BERT's normalizer unchanged: clean_text drops control/format characters (zero-width ones included),
  // CJK ideographs get spaces around them, lowercase, and strip_accents null = strip when lowercasing.
  normalizer: bert.normalizer,
  // BERT's whitespace+punctuation split, then every character outside ASCII and the Latin letters
  // (U+00C0–U+024F without × and ÷) becomes its own word: otherwise a symbol or a letter of another script
  // glued to a word turns the whole word into <unk>, and scripts without spaces give one <unk> per sentence.
  // Latin letters are left in their words so that Latin-script text tokenizes as in bert-base-uncased
  // ("straße" → "stra ##ße", not "stra ß e"); most are ASCII by now anyway (accents stripped).
  // The pattern holds the Latin range as literal characters: Rust's and the JS library's regex syntaxes
  // agree on those and on \xHH, not on every form of \u escape.
  pre_tokenizer: {
    type: "Sequence",
    pretokenizers: [
      { type: "BertPreTokenizer" },
      { type: "Split", pattern: { Regex: ISOLATE_PATTERN }, behavior: "Isolated", invert: false },
    ],
  },
  // type ids are kept as in bert-base-uncased (B = 1); the engine ignores them (no token-type embedding).
  post_processor: {
    type: "TemplateProcessing",
    single: [sp("<cls>"), seq("A"), sp("<sep>")],
    pair: [sp("<cls>"), seq("A"), sp("<sep>"), seq("B", 1), sp("<sep>", 1)],
    special_tokens: { "<cls>": special("<cls>"), "<sep>": special("<sep>") },
  },
  decoder: bert.decoder,
  model: { ...bert.model, unk_token: "<unk>", vocab },
  ufb_text_rules: buildRules(),
};

mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, stringify(tokenizer));
const r = tokenizer.ufb_text_rules;
console.log(`${outPath}: vocab ${Object.keys(vocab).length}, emoji ${Object.keys(r.emoji).length}, emoticons ${Object.keys(r.emoticons).length}`);

// ---------------------------------------------------------------------------------------------------------
// Pre-normalization rules (applied by src/model/text-rules.ts and train/ufb/text_v2.py before the library)
// ---------------------------------------------------------------------------------------------------------
function buildRules() {
  const require = createRequire(resolve(root, "package.json"));
  const pkg = require(`${EMOJI_PACKAGE}/package.json`);
  const data = require(`${EMOJI_PACKAGE}/en/data.json`);

  // Variation selectors carry no meaning for us and the normalizer deletes them anyway (category Mn), so
  // they are removed before matching and never part of a key.
  const bare = (s) => s.replace(/[\uFE0E\uFE0F]/g, "");
  // CLDR short names: "flag: United States" → "flag united states", "keycap: 1" → "keycap 1".
  const name = (label) => label.toLowerCase().replace(/:/g, "").replace(/\s+/g, " ").trim();

  const emoji = {};
  const nameOf = new Map();
  const add = (seqText, label) => {
    const key = bare(seqText);
    if (!key || /^[\x00-\x7F]*$/.test(key)) return;
    if (!(key in emoji)) emoji[key] = name(label);
  };
  for (const e of data) {
    add(e.emoji, e.label);
    if (e.text) add(e.text, e.label);
    nameOf.set(bare(e.emoji), name(e.label));
    // Skin-tone variants read as the base emoji: the tone says nothing about what is meant, and one name
    // per emoji keeps the names the model sees few.
    for (const s of e.skins ?? []) add(s.emoji, e.label);
  }

  // Emoticons: emojibase's, minus those that are ordinary words or list markers in review text, plus the
  // same faces with a nose and a few common ones emojibase lacks. Matched only between whitespace.
  const excluded = new Set(["xo", "XO", "xp", "xP", "XP", "8)", "8D", "8#", "Dx", ":l", ":L", ":j", ":z", ":Z", ":E", ":B", ":#", ":?", ":&", "%(", ":{>"]);
  const emoticons = {};
  const addEmoticon = (text, emojiText) => {
    const n = nameOf.get(bare(emojiText));
    if (!n) throw new Error(`no emoji ${emojiText} for emoticon ${text}`);
    if (!(text in emoticons)) emoticons[text] = n;
  };
  for (const e of data) {
    if (!e.emoticon) continue;
    for (const t of [e.emoticon].flat()) {
      if (excluded.has(t)) continue;
      addEmoticon(t, e.emoji);
      if (/^[:;][^-]$/.test(t)) addEmoticon(`${t[0]}-${t[1]}`, e.emoji);
      if (/^:'[^-]$/.test(t)) addEmoticon(`:'-${t[2]}`, e.emoji);
    }
  }
  const extra = [
    ["=)", "🙂"], ["(:", "🙂"], [":]", "🙂"], ["=]", "🙂"], ["=D", "😄"], [":-]", "🙂"],
    ["=(", "☹️"], [":[", "☹️"], [":-[", "☹️"], ["):", "☹️"],
    ["^_^", "😊"], ["^^", "😊"], ["-_-", "😑"], ["T_T", "😭"], [";_;", "😢"], ["o_O", "🤨"], ["O_o", "🤨"],
    [":'-)", "😂"], ["<33", "❤️"], ["<333", "❤️"],
  ];
  for (const [t, e] of extra) addEmoticon(t, e);

  // Runs of rating symbols. Stars that are only decorative (✪ ✫ ✬) are left out.
  const ratings = {
    filled: "★⭐✭✮✯✰🌟",
    half: "⯨⯩⯪⯫",
    empty: "☆✩⚝",
    min_run: 2,
    numbers: ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"],
  };

  return {
    version: RULES_VERSION,
    source: `${EMOJI_PACKAGE}@${pkg.version}`,
    order: ["variation_selectors", "ratings", "emoticons", "emoji"],
    variation_selectors: ["U+FE0E", "U+FE0F"],
    ratings,
    emoticons: sortKeys(emoticons),
    emoji: sortKeys(emoji),
  };
}

function sortKeys(o) {
  const out = {};
  for (const k of Object.keys(o).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) out[k] = o[k];
  return out;
}

// One entry per line for vocab and tables (reviewable diffs), everything else compact.
function stringify(obj) {
  const lines = ["{"];
  const keys = Object.keys(obj);
  keys.forEach((k, i) => {
    const v = obj[k];
    const end = i < keys.length - 1 ? "," : "";
    if (k === "model") {
      const { vocab: vv, ...rest } = v;
      lines.push(` "model": ${JSON.stringify(rest).slice(0, -1)}, "vocab": ${block(vv, "  ")}}${end}`);
    } else if (k === "ufb_text_rules") {
      const { emoji: em, emoticons: et, ...rest } = v;
      lines.push(` "ufb_text_rules": ${JSON.stringify(rest).slice(0, -1)},`);
      lines.push(`  "emoticons": ${block(et, "   ")},`);
      lines.push(`  "emoji": ${block(em, "   ")}}${end}`);
    } else {
      lines.push(` ${JSON.stringify(k)}: ${JSON.stringify(v)}${end}`);
    }
  });
  lines.push("}");
  return lines.join("\n") + "\n";
}

function block(o, indent) {
  const entries = Object.entries(o).map(([k, v]) => `${indent}${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${entries.join(",\n")}\n${indent.slice(1)}}`;
}
