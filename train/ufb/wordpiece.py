"""A pure-Python WordPiece tokenizer of the crammedBERT kind, and a small vocabulary trainer.

Why pure Python: the development machine has no Hugging Face `tokenizers` library, but the corpus must be
pre-tokenized there.  This module reproduces exactly what `tokenizers` (Rust/Python) and
`@huggingface/tokenizers` (JS) do with the tokenizer.json that `write_tokenizer_json` produces:

  normalizer   Replace("``" -> '"'), Replace("''" -> '"'), NFD, Lowercase, StripAccents,
               Replace(/ {2,}/ -> " "), Replace(/[^\\x00-\\x7F]+/ -> "")
  pre-token.   Whitespace: /\\w+|[^\\w\\s]+/   (the text is ASCII by then)
  model        WordPiece, unk "<unk>", prefix "##", max_input_chars_per_word 100
  template     single "<cls> $A <sep>"; pair "<cls> $A <sep> $B <sep>"

Equality with the JS library is checked by train/check_tokenizer.mjs, and with the Python library on the
GPU machine (train.py --phase tokcheck).
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter

SPECIALS = ["<pad>", "<unk>", "<cls>", "<sep>", "<mask>", "<s>", "</s>"]
PREFIX = "##"
MAX_CHARS = 100

# After normalization the text is pure ASCII, so \w and \s reduce to these ASCII classes.  \s is the Unicode
# White_Space property (Rust regex), which for ASCII is \t \n \x0b \x0c \r and space -- NOT \x1c-\x1f, which
# Python's `re` would treat as spaces; hence explicit classes.
_PRETOK = re.compile(r"[A-Za-z0-9_]+|[^A-Za-z0-9_\t\n\x0b\x0c\r ]+")
_SPACES = re.compile(r" {2,}")
_NONASCII = re.compile(r"[^\x00-\x7F]+")


def normalize(text: str) -> str:
    text = text.replace("``", '"').replace("''", '"')
    if not text.isascii():
        text = unicodedata.normalize("NFD", text)
        # char-wise lowercase (the Rust normalizer has no final-sigma context; irrelevant after ASCII filter)
        text = "".join(c.lower() for c in text)
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    else:
        text = text.lower()
    text = _SPACES.sub(" ", text)
    text = _NONASCII.sub("", text)
    return text


def pre_tokenize(normalized: str) -> list[str]:
    return _PRETOK.findall(normalized)


def words_of(text: str) -> list[str]:
    return pre_tokenize(normalize(text))


def greedy_pieces(word: str, vocab: dict[str, int], prefix: str, unk: int, max_chars: int) -> list[int]:
    """BERT's WordPiece: the longest vocabulary piece from the left, then again after it (`prefix` marks a
    continuation); one unknown piece makes the whole word [unk], as does a word longer than `max_chars`."""
    if len(word) > max_chars:
        return [unk]
    out = []
    start, n = 0, len(word)
    while start < n:
        end = n
        cur = None
        while start < end:
            piece = word[start:end]
            if start > 0:
                piece = prefix + piece
            cur = vocab.get(piece)
            if cur is not None:
                break
            end -= 1
        if cur is None:
            return [unk]
        out.append(cur)
        start = end
    return out


class WordPiece:
    def __init__(self, vocab: list[str]):
        self.vocab = list(vocab)
        self.ids = {t: i for i, t in enumerate(self.vocab)}
        self.unk = self.ids["<unk>"]
        self.cls = self.ids["<cls>"]
        self.sep = self.ids["<sep>"]
        self.pad = self.ids["<pad>"]
        self.mask = self.ids["<mask>"]
        self._cache: dict[str, list[int]] = {}
        specials = sorted(SPECIALS, key=len, reverse=True)
        self._special_re = re.compile("(" + "|".join(re.escape(s) for s in specials) + ")")

    def word_ids(self, word: str) -> list[int]:
        got = self._cache.get(word)
        if got is None:
            got = greedy_pieces(word, self.ids, PREFIX, self.unk, MAX_CHARS)
            if len(self._cache) < 2_000_000:
                self._cache[word] = got
        return got

    def encode_plain(self, text: str) -> list[int]:
        """Token ids of `text` without template tokens (special-token strings in the text are honoured)."""
        out: list[int] = []
        for k, part in enumerate(self._special_re.split(text)):
            if k % 2 == 1:
                out.append(self.ids[part])
            elif part:
                for w in words_of(part):
                    out.extend(self.word_ids(w))
        return out

    def encode(self, text: str) -> list[int]:
        """Single-sentence encoding with the template `<cls> $A <sep>` (what the engine does for classify)."""
        return [self.cls] + self.encode_plain(text) + [self.sep]


# ----------------------------------------------------------------------------------------------------------
# Vocabulary training: the Hugging Face WordPiece trainer is a BPE trainer over pre-tokenized words whose
# non-initial characters carry the "##" prefix; the merged symbols become the WordPiece vocabulary.  This is
# the same algorithm, with every printable ASCII character (plain and "##") forced into the alphabet so that
# no ASCII word ever becomes <unk>.
# ----------------------------------------------------------------------------------------------------------

def train_vocab(word_counts: Counter, vocab_size: int, min_word_count: int = 1, log=print) -> list[str]:
    import heapq

    alphabet = set()
    for c in map(chr, range(0x21, 0x7F)):
        alphabet.add(c)
        alphabet.add(PREFIX + c)
    words: list[list[str]] = []
    counts: list[int] = []
    for w, n in word_counts.items():
        if n < min_word_count or len(w) > MAX_CHARS:
            continue
        syms = [w[0]] + [PREFIX + c for c in w[1:]]
        alphabet.update(syms)
        words.append(syms)
        counts.append(n)
    vocab = list(SPECIALS) + sorted(alphabet)
    known = set(vocab)
    pair_count: dict[tuple[str, str], int] = {}
    where: dict[tuple[str, str], set[int]] = {}
    for i, syms in enumerate(words):
        n = counts[i]
        for a, b in zip(syms, syms[1:]):
            p = (a, b)
            pair_count[p] = pair_count.get(p, 0) + n
            s = where.get(p)
            if s is None:
                where[p] = s = set()
            s.add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = 0
    while len(vocab) < vocab_size and heap:
        negc, p = heapq.heappop(heap)
        c = pair_count.get(p, 0)
        if c <= 0:
            continue
        if -negc != c:
            heapq.heappush(heap, (-c, p))
            continue
        a, b = p
        new = a + (b[len(PREFIX):] if b.startswith(PREFIX) else b)
        if new not in known:
            known.add(new)
            vocab.append(new)
        merges += 1
        touched: dict[tuple[str, str], int] = {}
        for i in list(where.get(p, ())):
            syms = words[i]
            n = counts[i]
            # remove old pairs
            for x, y in zip(syms, syms[1:]):
                q = (x, y)
                pair_count[q] -= n
                touched[q] = 1
                s = where.get(q)
                if s is not None:
                    s.discard(i)
            out = []
            j = 0
            L = len(syms)
            while j < L:
                if j + 1 < L and syms[j] == a and syms[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(syms[j])
                    j += 1
            words[i] = out
            for x, y in zip(out, out[1:]):
                q = (x, y)
                pair_count[q] = pair_count.get(q, 0) + n
                touched[q] = 1
                s = where.get(q)
                if s is None:
                    where[q] = s = set()
                s.add(i)
        pair_count.pop(p, None)
        where.pop(p, None)
        for q in touched:
            cq = pair_count.get(q, 0)
            if cq > 0 and q != p:
                heapq.heappush(heap, (-cq, q))
            elif cq <= 0:
                pair_count.pop(q, None)
        if merges % 2000 == 0:
            log(f"  merges {merges}, vocab {len(vocab)}, last {new!r} ({c})")
    return vocab


def tokenizer_json(vocab: list[str]) -> dict:
    ids = {t: i for i, t in enumerate(vocab)}
    added = [
        {"id": ids[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for s in sorted(SPECIALS, key=lambda s: ids[s])
    ]
    seq = lambda x: {"Sequence": {"id": x, "type_id": 0}}
    sp = lambda x: {"SpecialToken": {"id": x, "type_id": 0}}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Replace", "pattern": {"String": "``"}, "content": "\""},
            {"type": "Replace", "pattern": {"String": "''"}, "content": "\""},
            {"type": "NFD"},
            {"type": "Lowercase"},
            {"type": "StripAccents"},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
            {"type": "Replace", "pattern": {"Regex": "[^\\x00-\\x7F]+"}, "content": ""},
        ]},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [sp("<cls>"), seq("A"), sp("<sep>")],
            "pair": [sp("<cls>"), seq("A"), sp("<sep>"), seq("B"), sp("<sep>")],
            "special_tokens": {
                "<cls>": {"id": "<cls>", "ids": [ids["<cls>"]], "tokens": ["<cls>"]},
                "<sep>": {"id": "<sep>", "ids": [ids["<sep>"]], "tokens": ["<sep>"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "<unk>", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": MAX_CHARS, "vocab": ids},
    }


def write_tokenizer_json(vocab: list[str], path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(vocab), f, ensure_ascii=False, indent=1)
        f.write("\n")


def load_vocab_from_tokenizer_json(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        j = json.load(f)
    ids = j["model"]["vocab"]
    vocab = [None] * len(ids)
    for t, i in ids.items():
        vocab[i] = t
    assert all(v is not None for v in vocab)
    return vocab
