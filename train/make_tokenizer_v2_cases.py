"""Writes test/fixtures/tokenizer-v2/cases.json: texts and the ids the Python twin (ufb/text_v2.py) gives them.

    /usr/bin/python3 train/make_tokenizer_v2_cases.py [--data ../shared/data]

Paths are relative to the repository root.  The TypeScript engine must give the same ids
(test/model/tokenizer-v2.test.ts); train/tests/test_text_v2.py checks that the twin still does.
Texts: SST-2 dev sentences, snippets of IMDb (with <br /> tags) and Blitzer (HTML entities) reviews, and
hand-written cases for every rule and script.  Lone surrogates are written as JSON escapes.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "train"))
from ufb.text_v2 import TokenizerV2  # noqa: E402

TOKENIZER = "train/tokenizer/ufb-uncased-v2/tokenizer.json"
OUT = "test/fixtures/tokenizer-v2/cases.json"

HAND = [
    # accents and Latin letters
    "café", "Café au lait", "naïve", "Ångström", "CRÈME BRÛLÉE", "Straße", "STRASSE", "Øresund", "Æsir", "Łódź",
    "Ðe ðorn", "œuvre", "İstanbul", "ıi", "façade déjà vu", "São Paulo", "Ærø", "ﬁne ﬂour", "Ⅻ chapters", "½ star",
    # other scripts
    "Привет, мир!", "ОТЛИЧНЫЙ ФИЛЬМ", "Ελληνικά ΟΔΟΣ οδός", "ΣΊΣΥΦΟΣ", "مرحبا بالعالم", "فيلم رائع جدا", "שלום עולם",
    "नमस्ते दुनिया", "यह फ़िल्म अच्छी है", "日本語のテキスト", "这部电影很好看！", "很好", "𠀀𠀁 astral CJK", "한국어 텍스트", "정말 좋아요",
    "ภาษาไทย", "หนังดีมาก", "ქართული", "Հայերեն", "ትግርኛ", "தமிழ்", "বাংলা", "ગુજરાતી", "ᚠᚢᚦ runes", "mixedРусскийtext",
    "abc中文def", "東京tower", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ", "ｶﾀｶﾅ", "Ⓐⓑⓒ",
    # emoji
    "😍", "😍😍😍", "👍 great", "👎", "👎👎 terrible", "great movie😍", "❤️", "❤", "♥", "💔", "😂😂", "🙄",
    "👍🏽", "👍🏿👍🏻", "🏽", "👨‍👩‍👧", "👩‍❤️‍👨", "👩🏽‍💻", "🏳️‍🌈", "🏴‍☠️", "🇺🇸", "🇩🇪🇫🇷", "🇦", "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "1️⃣", "#️⃣ keycap", "5⃣", "©", "™ brand", "®", "‼️", "☺", "☹", "⭐", "🌟", "🫠", "🫶", "🪿", "🐦‍🔥", "🙂‍↔️",
    "🧑‍🧑‍🧒", "👁️‍🗨️", "not bad 😐", "worst film ever 🤮🤮", "10/10 🔥🔥🔥", "😀x😀", "a😀b",
    # emoticons
    ":)", ":-)", ":(", ":-(", ":D", ";)", ";-)", "<3", "</3", ":P", ":p", ":/", ":-/", "xD", "XD", ":'(", ":')",
    "=)", "^_^", "-_-", "T_T", "O:)", ">:(", "Loved it :)", "Hated it :(", "good :) bad :(", "smile:)", ":)!",
    "http://example.com", "see (this:)", "time 10:30", "a :P b", ":-D :-D", "\\m/", "xp and XP", "8)",
    # ratings
    "★★★★☆", "★★★★★", "★☆☆☆☆", "☆☆☆☆☆", "★★★⯪☆", "⭐⭐⭐⭐⭐", "⭐️⭐️⭐️", "🌟🌟🌟", "★", "☆", "★ ★ ★",
    "Rating: ★★★☆☆ (3/5)", "5/5 stars", "★★★★★★★★★★★★", "✩✩", "★★☆☆☆ meh",
    # no content, whitespace, controls
    "", " ", "   ", "\t\n", "\u200b", "\u200b\u200c\u200d", "\u200d \u200b", "\ufeff", "\u2060\u2063",
    "\u0000\u0001\u0002", "\u0007\u001b", "\u00a0\u2003\u3000", "\u2028\u2029", "\u00ad", "\ufe0f", "\ufffd",
    "\x0b\x0c", "\x1c\x1d\x1e\x1f", "\x85", "a\u0000b", "zero\u200bwidth", "soft\u00adhyphen", "tab\tseparated",
    "line\nbreak", "cr\r\nlf", "\ue000 private", "\U000f0000",
    # lone surrogates (JS strings only; escaped in the JSON fixture)
    "\ud83d", "\ude0d", "lone \ud800 high", "x\udfffy", "\ud83d\ud83d",
    # specials and markup
    "<mask>", "the movie was <mask> .", "<cls> <sep>", "<unk>", "[CLS] [MASK]", "<pad>", "<s>", "I <3 it",
    "great<br /><br />film", "it&#39;s &quot;fine&quot; &amp; ok", "Tom &amp; Jerry", "<b>bold</b>",
    # misc
    "don't won't can't", "U.S.A.", "e-mail", "3.14159", "$100", "100%", "#hashtag @user", "...", "!!!???",
    "a" * 120, "supercalifragilisticexpialidocious", "ALL CAPS TEXT", "MiXeD CaSe", "“curly quotes” ‘single’",
    "em—dash – en-dash", "…", "•bullet", "→ arrow", "€5 £3 ¥7", "°C", "x² + y³", "2×3÷4", "µ", "℃",
    "Greek final: ΟΔΟΣ.", "Σ", "ΑΣ ΑΣ", "i̇", "ǅ", "ﬀ",
]


# Code point ranges for random strings: scripts, symbols, emoji, marks, format/control characters.
BLOCKS = [
    (0x20, 0x7E), (0x00, 0x1F), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x530, 0x58F),
    (0x590, 0x5FF), (0x600, 0x6FF), (0x900, 0x97F), (0x980, 0x9FF), (0xE00, 0xE7F), (0x10A0, 0x10FF),
    (0x1100, 0x11FF), (0x2000, 0x206F), (0x20A0, 0x20BF), (0x2100, 0x214F), (0x2190, 0x21FF), (0x2600, 0x27BF),
    (0x3000, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFE00, 0xFE0F), (0xFF00, 0xFFEF), (0xD800, 0xDFFF),
    (0xE000, 0xE0FF), (0x1D400, 0x1D4FF), (0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F900, 0x1F9FF),
    (0x1F3FB, 0x1F3FF), (0x1F1E6, 0x1F1FF), (0x20000, 0x2A6DF),
]


def random_texts(n: int, seed: int = 1234) -> list[str]:
    """Seeded random strings mixing the blocks above.  Code points that Python's Unicode data (14.0) does
    not know are skipped: there the engine (Unicode 17) and the twin may legitimately differ."""
    import random
    import unicodedata
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        k = rng.randint(1, 10)
        chars = []
        for _ in range(k):
            lo, hi = rng.choice(BLOCKS)
            c = chr(rng.randint(lo, hi))
            if unicodedata.category(c) == "Cn":
                continue
            chars.append(c)
            if rng.random() < 0.2:
                chars.append(" ")
        out.append("".join(chars))
    return out


def read_tsv_gz(path: str) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        next(f)
        return [line.rstrip("\n").split("\t", 1)[1] for line in f]


def snippet(text: str, n: int = 300) -> str:
    if len(text) <= n:
        return text
    cut = text.rfind(" ", 0, n)
    return text[: cut if cut > 0 else n]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data")
    args = ap.parse_args()
    data = os.path.join(ROOT, args.data)

    texts: list[str] = []
    with open(os.path.join(data, "glue/SST-2/dev.tsv"), encoding="utf-8") as f:
        next(f)
        sst = [line.rstrip("\n").split("\t")[0] for line in f]
    texts += sst[::6]  # 146 sentences
    imdb = read_tsv_gz(os.path.join(data, "reviews/imdb/test.tsv.gz"))
    texts += [snippet(t) for t in imdb if "<br />" in t][:50:1]
    texts += [snippet(t) for t in imdb if any(ord(c) > 0x7F for c in t)][:25]
    for name in ("books", "electronics"):
        bl = read_tsv_gz(os.path.join(data, f"reviews/blitzer-mds/{name}.tsv.gz"))
        texts += [snippet(t) for t in bl if "&" in t or "\ufffd" in t][:15]
    texts += HAND
    texts += random_texts(120)

    tok = TokenizerV2.from_file(os.path.join(ROOT, TOKENIZER))
    cases = {
        "about": "ids of the ufb-uncased-v2 tokenizer (single template), from train/ufb/text_v2.py; "
                 "written by train/make_tokenizer_v2_cases.py",
        "tokenizer": TOKENIZER,
        "rules_version": tok.rules.version,
        "texts": texts,
        "ids": [tok.encode(t) for t in texts],
        "content_tokens": [tok.content_tokens(t) for t in texts],
    }
    out = os.path.join(ROOT, OUT)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="ascii") as f:
        # ensure_ascii: lone surrogates and invisible characters stay visible as escapes
        f.write("{\n")
        keys = list(cases)
        for k in keys:
            v = cases[k]
            end = "," if k != keys[-1] else ""
            if isinstance(v, list):
                f.write(f' "{k}": [\n' + ",\n".join("  " + json.dumps(x, ensure_ascii=True) for x in v) + f"\n ]{end}\n")
            else:
                f.write(f' "{k}": {json.dumps(v)}{end}\n')
        f.write("}\n")
    print(f"{out}: {len(texts)} texts")


if __name__ == "__main__":
    main()
