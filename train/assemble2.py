"""Turn what a train/run_gpu2.sh call returned into checkpoint folders that `npx ufb convert` reads.

    /usr/bin/python3 train/assemble2.py --from <files_at> --out .train-out/gen2 [--tokenizer <tokenizer.json>]

For every variant that came back as <name>.q8.npz.xz.NNN: joins the parts, dequantizes the int8 matrices with
their row scales (the package's q8 rule, so `ufb convert --dtype int8` gives back exactly these int8 values)
and writes <out>/<name>/ (model.safetensors in f32, config.json, model_config.json, tokenizer.json).
results.tar.xz is unpacked into <out>/results/.  A classifier keeps its tied MLM decoder (the word embedding):
config.json says so with "tied_mlm_decoder": true.  An MLM (a paused pretraining) is written as such.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tarfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pipeline import unpack_q8  # noqa: E402
from ufb.export import config_from_arch, export_checkpoint  # noqa: E402
from ufb.model import UFBForMLM, UFBForSequenceClassification  # noqa: E402

LABELS = {0: "negative", 1: "positive"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokenizer", default="train/tokenizer/ufb-uncased-v2/tokenizer.json")
    args = ap.parse_args()
    res_dir = os.path.join(args.out, "results")
    os.makedirs(res_dir, exist_ok=True)
    with tarfile.open(os.path.join(args.src, "results.tar.xz")) as tar:
        tar.extractall(res_dir)
    names = sorted({os.path.basename(p).split(".q8.npz.xz.")[0] for p in glob.glob(os.path.join(args.src, "*.q8.npz.xz.*"))})
    for name in names:
        parts = sorted(glob.glob(os.path.join(args.src, f"{name}.q8.npz.xz.[0-9][0-9][0-9]")))
        sd = unpack_q8(b"".join(open(p, "rb").read() for p in parts))
        with open(os.path.join(res_dir, name, "results.json")) as f:
            results = json.load(f)
        cfg = config_from_arch(results["export"]["config"]["arch"])
        is_clf = "head.weight" in sd
        if is_clf:
            import dataclasses
            cfg = dataclasses.replace(cfg, num_labels=2, head_dim=sd["pooler.dense.weight"].shape[0])
            model = UFBForSequenceClassification(cfg)
        else:
            model = UFBForMLM(cfg)
        missing, unexpected = model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}, strict=False)
        assert not unexpected, unexpected
        assert all(m == "decoder.weight" for m in missing), missing
        if not is_clf:
            model.decoder.weight = model.encoder.embedding.word_embedding.weight
        ckpt = os.path.join(args.out, name)
        export_checkpoint(model, ckpt, args.tokenizer, LABELS if is_clf else None,
                          extra={"tied_mlm_decoder": True} if is_clf else None)
        print(f"{ckpt}: {'classifier (+ tied MLM decoder)' if is_clf else 'MLM'}, "
              f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")


if __name__ == "__main__":
    main()
