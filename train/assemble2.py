"""Turn what a GPU call returned into checkpoint folders that `npx ufb convert` reads.

    /usr/bin/python3 train/assemble2.py --from <files_at> --out .train-out/gen2 [--tokenizer <tokenizer.json>]
    /usr/bin/python3 train/assemble2.py --embedding --from <embed.py --work folder> --out .train-out/embed --name ufb-embed-2x9

Classifiers and MLMs (train/run_gpu2.sh): for every variant that came back as <name>.q8.npz.xz.NNN: joins the
parts, dequantizes the int8 matrices with their row scales (the package's q8 rule, so `ufb convert --dtype int8`
gives back exactly these int8 values) and writes <out>/<name>/ (model.safetensors in f32, config.json,
model_config.json, tokenizer.json). results.tar.xz is unpacked into <out>/results/.  A classifier keeps its tied
MLM decoder (the word embedding): config.json says so with "tied_mlm_decoder": true.  An MLM (a paused
pretraining) is written as such.

--embedding (train/embed.py): the folder holds weights.q8.npz (or .xz, or .xz.NNN parts) and results.json; the
same dequantization, written as <out>/<name>/ with config.json "sentence_embedding": {pooler, normalize "l2"}
(embed.py trains on cosines of L2-normalised mean-pooled vectors), which `ufb convert` turns into a package of
kind "embedding": no head, no fill-mask.  results.json is copied beside it as <name>.results.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import shutil
import sys
import tarfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pipeline import unpack_q8  # noqa: E402
from ufb.export import config_from_arch, export_checkpoint  # noqa: E402
from ufb.model import UFBForMLM, UFBForSequenceClassification  # noqa: E402

LABELS = {0: "negative", 1: "positive"}


def read_parts(prefix: str) -> bytes:
    """<prefix> itself, else <prefix>.xz, else the parts <prefix>.xz.000, .001, … joined (unpack_q8 takes xz or not)."""
    for path in (prefix, prefix + ".xz"):
        if os.path.exists(path):
            with open(path, "rb") as f:
                return f.read()
    parts = sorted(glob.glob(prefix + ".xz.[0-9][0-9][0-9]"))
    if not parts:
        raise SystemExit(f"assemble2: none of {prefix}, {prefix}.xz, {prefix}.xz.NNN exists")
    return b"".join(open(p, "rb").read() for p in parts)


def load_model(sd: dict, cfg, model_cls):
    model = model_cls(cfg)
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}, strict=False)
    assert not unexpected, unexpected
    assert all(m == "decoder.weight" for m in missing), missing
    if model_cls is UFBForMLM:
        model.decoder.weight = model.encoder.embedding.word_embedding.weight
    return model


def params(model) -> str:
    return f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters"


def assemble_embedding(args) -> None:
    with open(os.path.join(args.src, "results.json")) as f:
        results = json.load(f)
    sd = unpack_q8(read_parts(os.path.join(args.src, "weights.q8.npz")))
    if "head.weight" in sd or "pooler.dense.weight" in sd:
        raise SystemExit(f"assemble2 --embedding: {args.src} holds a classification head; train/embed.py exports none")
    arch = results["export"]["config"]["arch"]
    pooler = (arch.get("classification_head") or {}).get("pooler", "avg")
    cfg = dataclasses.replace(config_from_arch(arch), num_labels=None, head_dim=None, pooler=pooler)
    model = load_model(sd, cfg, UFBForMLM)
    ckpt = os.path.join(args.out, args.name)
    export_checkpoint(model, ckpt, args.tokenizer, None, extra={"sentence_embedding": {"pooler": pooler, "normalize": "l2"}})
    shutil.copyfile(os.path.join(args.src, "results.json"), os.path.join(args.out, f"{args.name}.results.json"))
    sel = results.get("selected", {})
    print(f"{ckpt}: sentence embedding ({pooler} pooler, L2-normalised), {params(model)}; "
          f"STS-B dev Spearman in training: f32 {sel.get('spearman_f32')}, int8 weights {sel.get('spearman_int8_weights')} ({sel.get('stage')})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokenizer", default="train/tokenizer/ufb-uncased-v2/tokenizer.json")
    ap.add_argument("--embedding", action="store_true", help="the folder is train/embed.py's --work output")
    ap.add_argument("--name", help="--embedding: the package name (e.g. ufb-embed-2x9)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.embedding:
        if not args.name:
            ap.error("--embedding needs --name")
        assemble_embedding(args)
        return
    res_dir = os.path.join(args.out, "results")
    os.makedirs(res_dir, exist_ok=True)
    with tarfile.open(os.path.join(args.src, "results.tar.xz")) as tar:
        tar.extractall(res_dir)
    names = sorted({os.path.basename(p).split(".q8.npz.xz.")[0] for p in glob.glob(os.path.join(args.src, "*.q8.npz.xz.*"))})
    for name in names:
        sd = unpack_q8(read_parts(os.path.join(args.src, f"{name}.q8.npz")))
        with open(os.path.join(res_dir, name, "results.json")) as f:
            results = json.load(f)
        cfg = config_from_arch(results["export"]["config"]["arch"])
        is_clf = "head.weight" in sd
        if is_clf:
            cfg = dataclasses.replace(cfg, num_labels=2, head_dim=sd["pooler.dense.weight"].shape[0])
        model = load_model(sd, cfg, UFBForSequenceClassification if is_clf else UFBForMLM)
        ckpt = os.path.join(args.out, name)
        export_checkpoint(model, ckpt, args.tokenizer, LABELS if is_clf else None,
                          extra={"tied_mlm_decoder": True} if is_clf else None)
        print(f"{ckpt}: {'classifier (+ tied MLM decoder)' if is_clf else 'MLM'}, {params(model)}")


if __name__ == "__main__":
    main()
