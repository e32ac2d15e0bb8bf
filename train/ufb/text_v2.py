"""Pure-Python twin of the engine's ufb-uncased-v2 tokenizer (src/model/tokenizer.ts + text-rules.ts).

The engine runs our pre-normalization ("ufb_text_rules" of tokenizer.json) and then @huggingface/tokenizers
0.2.0 with BertNormalizer, Sequence[BertPreTokenizer, Split(non-Latin character, Isolated)], WordPiece and
the template.  This module does the same from the same tokenizer.json, without any library, and must give
the same ids: test/fixtures/tokenizer-v2/cases.json holds the ids of a few hundred texts, checked by
test/model/tokenizer-v2.test.ts (TypeScript) and train/tests/test_text_v2.py (this module).

Where the JS library and Python differ, the library is the reference:
  * whitespace is JavaScript's \\s (not str.isspace: no U+001C-U+001F or U+0085, but U+FEFF);
  * the CJK spacing of BertNormalizer looks at UTF-16 code units, so only BMP ideographs get spaces
    (harmless here: every other non-Latin character is isolated by the pre-tokenizer anyway);
  * Unicode data: Node 24 has Unicode 17, Python 3.11 has 14.0.  Characters assigned after 14.0 may differ
    (a new combining mark is deleted by the engine and becomes <unk> here); new emoji are not affected
    because the rules table replaces them first.

    python3 -m ufb.text_v2 tokenizer.json "some text"     (from train/) prints ids and tokens
"""
from __future__ import annotations

import json
import re
import sys
import unicodedata

from .wordpiece import greedy_pieces

# JavaScript's \s, as in src/model/text-rules.ts JS_WHITESPACE.
JS_WHITESPACE = "\t\n\x0b\x0c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_WS_SET = frozenset("\t\n\x0b\x0c\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff") | frozenset(
    chr(c) for c in range(0x2000, 0x200B))
_CONTROL_CATS = frozenset(("Cc", "Cf", "Co", "Cs"))
_ASCII_PUNCT = frozenset(chr(c) for c in [*range(0x21, 0x30), *range(0x3A, 0x41), *range(0x5B, 0x61), *range(0x7B, 0x7F)])
_VARIATION_SELECTORS = re.compile("[\ufe0e\ufe0f]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


def _is_chinese_bmp(cp: int) -> bool:
    # the library's is_chinese_char applied to UTF-16 code units: astral ranges can never match
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF


def _isolated(c: str) -> bool:
    """The Split pre-tokenizer's class: outside ASCII and outside the Latin letters U+00C0-U+024F."""
    o = ord(c)
    if o < 0x80:
        return False
    if 0xC0 <= o <= 0x24F:
        return o in (0xD7, 0xF7)
    return True


class TextRules:
    """Emoji / emoticon / star-rating names, as TextRules in src/model/text-rules.ts."""

    def __init__(self, rules: dict):
        self.version = rules["version"]
        self.source = rules["source"]
        r = rules["ratings"]
        self.filled = set(r["filled"])
        self.half = set(r["half"])
        self.numbers = list(r["numbers"])
        chars = "".join(re.escape(c) for c in r["filled"] + r["half"] + r["empty"])
        self.rating_re = re.compile(f"[{chars}]{{{int(r['min_run'])},}}")
        self.emoticons = dict(rules["emoticons"])
        alts = sorted(self.emoticons, key=lambda s: (-_utf16_len(s), _utf16_key(s)))
        self.emoticon_re = re.compile(
            f"(?<![^{JS_WHITESPACE}])(?:{'|'.join(re.escape(a) for a in alts)})(?![^{JS_WHITESPACE}])"
        ) if alts else None
        self.trie: dict = {}
        for seq, name in rules["emoji"].items():
            node = self.trie
            for c in seq:
                node = node.setdefault(c, {})
            node[None] = name

    def apply(self, text: str) -> str:
        text = _VARIATION_SELECTORS.sub("", text)
        ascii_only = not _NON_ASCII.search(text)
        if not ascii_only:
            text = self.rating_re.sub(lambda m: f" {self._rating(m.group(0))} ", text)
        if self.emoticon_re is not None:
            text = self.emoticon_re.sub(lambda m: f" {self.emoticons[m.group(0)]} ", text)
        if not ascii_only:
            text = self._emoji(text)
        return text

    def _rating(self, run: str) -> str:
        n = len(run)
        filled = sum(1 for c in run if c in self.filled)
        half = sum(1 for c in run if c in self.half)
        num = lambda k: self.numbers[k] if k < len(self.numbers) else str(k)
        if filled == n:
            return f"{num(n)} stars"
        whole = filled + half // 2
        return f"{num(whole)}{' and a half' if half % 2 else ''} out of {num(n)} stars"

    def _emoji(self, text: str) -> str:
        out = []
        last = i = 0
        n = len(text)
        while i < n:
            node = self.trie
            j = i
            name = None
            end = i
            while j < n:
                node = node.get(text[j])
                if node is None:
                    break
                j += 1
                got = node.get(None)
                if got is not None:
                    name, end = got, j
            if name is not None:
                out.append(text[last:i])
                out.append(f" {name} ")
                i = last = end
            else:
                i += 1
        if last == 0:
            return text
        out.append(text[last:])
        return "".join(out)


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_key(s: str) -> bytes:
    # JS compares strings by UTF-16 code units
    return s.encode("utf-16-be", "surrogatepass")


def bert_normalize(text: str) -> str:
    """BertNormalizer(clean_text, handle_chinese_chars, lowercase, strip_accents=None) of the JS library."""
    out = []
    for c in text:
        o = ord(c)
        if o == 0 or o == 0xFFFD:
            continue
        if c not in "\t\n\r" and unicodedata.category(c) in _CONTROL_CATS:
            continue
        if c in _JS_WS_SET:
            out.append(" ")
        elif o <= 0xFFFF and _is_chinese_bmp(o):
            out.append(f" {c} ")
        else:
            out.append(c)
    text = "".join(out).lower()
    text = unicodedata.normalize("NFD", text)
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def _is_punct(c: str) -> bool:
    return c in _ASCII_PUNCT or unicodedata.category(c).startswith("P")


def pre_tokenize(normalized: str) -> list[str]:
    """BertPreTokenizer, then every non-Latin non-ASCII character as its own word."""
    words: list[str] = []
    cur: list[str] = []

    def push_word():
        if cur:
            # Split(Isolated)
            piece: list[str] = []
            for c in cur:
                if _isolated(c):
                    if piece:
                        words.append("".join(piece))
                        piece.clear()
                    words.append(c)
                else:
                    piece.append(c)
            if piece:
                words.append("".join(piece))
            cur.clear()

    for c in normalized:
        if c in _JS_WS_SET:
            push_word()
        elif _is_punct(c):
            push_word()
            words.append(c)
        else:
            cur.append(c)
    push_word()
    return words


class TokenizerV2:
    def __init__(self, tokenizer_json: dict):
        j = tokenizer_json
        model = j["model"]
        assert model["type"] == "WordPiece" if "type" in model else True
        self.vocab: dict[str, int] = dict(model["vocab"])
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.unk_token = model["unk_token"]
        self.prefix = model.get("continuing_subword_prefix", "##")
        self.max_chars = int(model.get("max_input_chars_per_word", 100))
        self.added = {t["content"]: t["id"] for t in j["added_tokens"]}
        assert all(t.get("normalized") is False for t in j["added_tokens"])
        self.added_re = re.compile("(" + "|".join(re.escape(a) for a in sorted(self.added, key=len, reverse=True)) + ")")
        post = j["post_processor"]
        self.single = post["single"]
        self.special_ids = {k: v["ids"] for k, v in post["special_tokens"].items()}
        self.rules = TextRules(j["ufb_text_rules"]) if j.get("ufb_text_rules") else None
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def from_file(cls, path: str) -> "TokenizerV2":
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))

    def word_ids(self, word: str) -> list[int]:
        got = self._cache.get(word)
        if got is None:
            got = greedy_pieces(word, self.vocab, self.prefix, self.vocab[self.unk_token], self.max_chars)
            if len(self._cache) < 2_000_000:
                self._cache[word] = got
        return got

    def encode_plain(self, text: str) -> list[int]:
        """Ids of `text` without template tokens (what train/tokenize.ts writes per line)."""
        if self.rules is not None:
            text = self.rules.apply(text)
        out: list[int] = []
        for k, part in enumerate(self.added_re.split(text)):
            if k % 2 == 1:
                out.append(self.added[part])
            elif part:
                for w in pre_tokenize(bert_normalize(part)):
                    out.extend(self.word_ids(w))
        return out

    def encode(self, text: str) -> list[int]:
        """Single-text encoding with the template (the engine's classify input)."""
        a = self.encode_plain(text)
        out: list[int] = []
        for item in self.single:
            if "SpecialToken" in item:
                out.extend(self.special_ids[item["SpecialToken"]["id"]])
            else:
                out.extend(a)
        return out

    def content_tokens(self, text: str) -> int:
        """As TokenizedText.contentTokens: tokens of the text, not counting literal <pad>/<cls>/<sep>."""
        skip = {self.added[t] for t in ("<pad>", "<cls>", "<sep>", "<s>", "</s>") if t in self.added}
        return sum(1 for i in self.encode_plain(text) if i not in skip)

    def tokens(self, ids: list[int]) -> list[str]:
        return [self.id_to_token[i] for i in ids]


if __name__ == "__main__":
    tok = TokenizerV2.from_file(sys.argv[1])
    for t in sys.argv[2:]:
        ids = tok.encode(t)
        print(ids)
        print(" ".join(tok.tokens(ids)))
