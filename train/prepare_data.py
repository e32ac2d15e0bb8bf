"""Build the WordPiece vocabulary and pre-tokenize all training data (runs on the CPU, no GPU, no `tokenizers`).

    /usr/bin/python3 train/prepare_data.py --out .data/ufb

Writes (git-ignored; carried to the GPU machine with the working tree):
    tokenizer.json            crammedBERT-style WordPiece tokenizer (template "<cls> $A <sep>")
    gutenberg.u16.xz          token stream of the Gutenberg corpus, one <sep> after every paragraph
    sst2_text.u16.xz          token stream of the SST-2 training sentences (MLM only, labels unused)
    wikitext_val.u16.xz       token stream of wikitext-2 test (held out, MLM validation only)
    sst2_{train,dev}.npz.xz   classification inputs: ids (padded with <pad>), lengths, labels
    sst2_dev_sentences.json   the 872 dev sentences (for the tokenizer cross-checks)
    meta.json                 sizes, vocabulary size, sha256 of every file
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import io
import json
try:
    import lzma
except ImportError:  # Python built without liblzma: fall back to the xz command
    lzma = None
import os
import sys
import time
from collections import Counter

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ufb.wordpiece import WordPiece, train_vocab, words_of, write_tokenizer_json  # noqa: E402

# The data sets live in the project's shared/ folder beside the repository (../shared/data from the repo
# root); UFB_DATA points elsewhere. No machine path is written here.
DATA = os.environ.get("UFB_DATA") or os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data"))


def read_sst2(path: str) -> tuple[list[str], list[int]]:
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[0] == "sentence\tlabel", lines[0]
    texts, labels = [], []
    for line in lines[1:]:
        if not line:
            continue
        s, l = line.split("\t")
        texts.append(s)
        labels.append(int(l))
    return texts, labels


def unxz(b: bytes) -> bytes:
    if lzma is not None:
        return lzma.decompress(b)
    import subprocess
    return subprocess.run(["xz", "-dc"], input=b, stdout=subprocess.PIPE, check=True).stdout


def xz_bytes(b: bytes) -> bytes:
    return lzma.compress(b, preset=9 | lzma.PRESET_EXTREME)


def save_u16(path: str, arr: np.ndarray) -> None:
    a = np.asarray(arr, dtype="<u2")
    # byte planes (all low bytes, then all high bytes) compress better than interleaved uint16
    planes = np.concatenate([a.view(np.uint8)[0::2], a.view(np.uint8)[1::2]])
    with open(path, "wb") as f:
        f.write(xz_bytes(planes.tobytes()))


def load_u16(path: str) -> np.ndarray:
    with open(path, "rb") as f:
        planes = np.frombuffer(unxz(f.read()), dtype=np.uint8)
    n = planes.size // 2
    out = np.empty(n, dtype="<u2")
    out.view(np.uint8)[0::2] = planes[:n]
    out.view(np.uint8)[1::2] = planes[n:]
    return out


def save_npz_xz(path: str, **arrays) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with open(path, "wb") as f:
        f.write(xz_bytes(buf.getvalue()))


def load_npz_xz(path: str) -> dict:
    with open(path, "rb") as f:
        z = np.load(io.BytesIO(unxz(f.read())))
        return {k: z[k] for k in z.files}


def encode_classification(wp: WordPiece, texts: list[str], max_len: int = 128):
    seqs = []
    for t in texts:
        ids = wp.encode(t)
        if len(ids) > max_len:  # keep <cls> ... <sep>
            ids = ids[: max_len - 1] + [wp.sep]
        seqs.append(ids)
    L = max(len(s) for s in seqs)
    arr = np.full((len(seqs), L), wp.pad, dtype=np.int32)
    for i, s in enumerate(seqs):
        arr[i, : len(s)] = s
    return arr, np.array([len(s) for s in seqs], dtype=np.int32)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".data/ufb")
    ap.add_argument("--vocab-size", type=int, default=10240)
    ap.add_argument("--sst-weight", type=int, default=6, help="weight of SST-2 train words when training the vocab")
    ap.add_argument("--tokenizer", default=None, help="use this tokenizer.json instead of training one")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    log = lambda *a: print(f"[{time.time() - t0:6.1f}s]", *a, flush=True)

    gut_files = sorted(glob.glob(f"{DATA}/corpus/gutenberg/gutenberg_en_*.txt"))
    gut_lines: list[str] = []
    for fn in gut_files:
        with open(fn, encoding="utf-8") as f:
            gut_lines.extend(line.rstrip("\n") for line in f)
    sst_train, y_train = read_sst2(f"{DATA}/glue/SST-2/train.tsv")
    sst_dev, y_dev = read_sst2(f"{DATA}/glue/SST-2/dev.tsv")
    log(f"read {len(gut_lines)} Gutenberg lines, {len(sst_train)} SST-2 train, {len(sst_dev)} dev")

    if args.tokenizer:
        from ufb.wordpiece import load_vocab_from_tokenizer_json
        vocab = load_vocab_from_tokenizer_json(args.tokenizer)
    else:
        counts: Counter = Counter()
        for line in gut_lines:
            counts.update(words_of(line))
        for s in sst_train:
            for w in words_of(s):
                counts[w] += args.sst_weight
        log(f"{sum(counts.values())} weighted words, {len(counts)} types; training vocab {args.vocab_size}")
        vocab = train_vocab(counts, args.vocab_size, log=log)
    wp = WordPiece(vocab)
    write_tokenizer_json(vocab, os.path.join(args.out, "tokenizer.json"))
    log("vocab", len(vocab))

    # Gutenberg: paragraphs, each followed by <sep>; empty lines (book boundaries) are skipped
    gut = []
    for line in gut_lines:
        if line.strip():
            gut.extend(wp.encode_plain(line))
            gut.append(wp.sep)
    gut = np.array(gut, dtype=np.uint16)
    log(f"gutenberg tokens {gut.size}, unk {np.mean(gut == wp.unk):.5f}")
    sst_text = []
    for s in sst_train:
        sst_text.extend(wp.encode_plain(s))
        sst_text.append(wp.sep)
    sst_text = np.array(sst_text, dtype=np.uint16)
    wiki = []
    with open(f"{DATA}/corpus/wikitext-2-raw/wiki.test.raw", encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.strip().startswith("="):
                wiki.extend(wp.encode_plain(line))
                wiki.append(wp.sep)
    wiki = np.array(wiki, dtype=np.uint16)
    log(f"sst2 text tokens {sst_text.size}, wikitext val tokens {wiki.size}")

    save_u16(os.path.join(args.out, "gutenberg.u16.xz"), gut)
    save_u16(os.path.join(args.out, "sst2_text.u16.xz"), sst_text)
    save_u16(os.path.join(args.out, "wikitext_val.u16.xz"), wiki)
    for name, texts, labels in (("train", sst_train, y_train), ("dev", sst_dev, y_dev)):
        ids, lens = encode_classification(wp, texts)
        save_npz_xz(os.path.join(args.out, f"sst2_{name}.npz.xz"), ids=ids, lengths=lens,
                    labels=np.array(labels, dtype=np.int64))
        log(f"sst2 {name}: {ids.shape}, mean length {lens.mean():.1f}, max {lens.max()}")
    with open(os.path.join(args.out, "sst2_dev_sentences.json"), "w", encoding="utf-8") as f:
        json.dump(sst_dev, f, ensure_ascii=False)

    meta = {"vocab_size": len(vocab), "special_ids": {t: wp.ids[t] for t in ("<pad>", "<unk>", "<cls>", "<sep>", "<mask>")},
            "gutenberg_tokens": int(gut.size), "sst2_text_tokens": int(sst_text.size), "wikitext_val_tokens": int(wiki.size),
            "files": {}}
    for fn in sorted(os.listdir(args.out)):
        if fn == "meta.json":
            continue
        with open(os.path.join(args.out, fn), "rb") as f:
            b = f.read()
        meta["files"][fn] = {"bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()}
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    log("total bytes", sum(v["bytes"] for v in meta["files"].values()))


if __name__ == "__main__":
    main()
