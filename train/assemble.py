"""Rebuild the exported checkpoint folder from what a GPU call returned, and re-evaluate it on the CPU.

    /usr/bin/python3 train/assemble.py --from <files_at> --ckpt .train-out/ckpt --data .data/ufb [--eval]

Joins model.safetensors.NNN (or converts model_bf16.pt.NNN, whose values are bf16, to F32), writes
config.json / model_config.json (from results.json) and copies tokenizer.json: the folder that
`npx ufb convert` reads.  --eval recomputes the SST-2 dev accuracy in f32 on this machine (both the masked
all-nodes forward and the engine's conditional per-token walk) and compares with the GPU's predictions.
"""
from __future__ import annotations

import argparse
import glob
import io
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prepare_data import load_npz_xz  # noqa: E402
from ufb.export import config_from_arch, export_checkpoint, load_checkpoint  # noqa: E402
from ufb.model import UFBForSequenceClassification  # noqa: E402

LABELS = {0: "negative", 1: "positive"}


def join(prefix):
    parts = sorted(glob.glob(prefix + ".[0-9][0-9][0-9]"))
    return b"".join(open(p, "rb").read() for p in parts) if parts else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="src", required=True)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--data", default=".data/ufb")
    ap.add_argument("--eval", action="store_true")
    args = ap.parse_args()
    with open(os.path.join(args.src, "results.json")) as f:
        results = json.load(f)
    cfg = config_from_arch(results["export"]["config"]["arch"])
    os.makedirs(args.ckpt, exist_ok=True)
    raw = join(os.path.join(args.src, "model.safetensors"))
    tok = os.path.join(args.data, "tokenizer.json")
    if raw is not None:
        model = UFBForSequenceClassification(cfg)
        export_checkpoint(model, args.ckpt, tok, LABELS)  # config files; weights replaced below
        with open(os.path.join(args.ckpt, "model.safetensors"), "wb") as f:
            f.write(raw)
    else:
        sd = torch.load(io.BytesIO(join(os.path.join(args.src, "model_bf16.pt"))), map_location="cpu")
        model = UFBForSequenceClassification(cfg)
        model.load_state_dict({k: v.float() for k, v in sd.items()})
        export_checkpoint(model, args.ckpt, tok, LABELS)
    model = load_checkpoint(args.ckpt)
    print("checkpoint:", args.ckpt, sorted(os.listdir(args.ckpt)))
    if not args.eval:
        return
    dev = load_npz_xz(os.path.join(args.data, "sst2_dev.npz.xz"))
    with open(os.path.join(args.src, "sst2-dev-predictions.json")) as f:
        gpu = json.load(f)
    n_ok = n_ok_c = agree = 0
    maxdiff = 0.0
    min_margin = float("inf")
    with torch.no_grad():
        for i in range(len(dev["labels"])):
            ids = torch.from_numpy(dev["ids"][i:i + 1, :dev["lengths"][i]]).long()
            logits, _ = model(ids, use_sdpa=False)
            trace = []
            h = model.encoder(ids, use_sdpa=False, conditional=True, trace=trace)
            logits_c = model.head(model.pooler(h))
            for _, plog in trace:
                min_margin = min(min_margin, float(plog[..., :-1].abs().min()) if plog.shape[-1] > 1 else min_margin)
            p, pc = int(logits.argmax()), int(logits_c.argmax())
            n_ok += p == dev["labels"][i]
            n_ok_c += pc == dev["labels"][i]
            agree += p == gpu["examples"][i]["pred"]
            maxdiff = max(maxdiff, float((logits[0] - torch.tensor(gpu["examples"][i]["logits"])).abs().max()))
    n = len(dev["labels"])
    print(f"CPU f32: accuracy {n_ok / n:.4f} (masked forward), {n_ok_c / n:.4f} (conditional walk); GPU reported "
          f"{gpu['accuracy']:.4f}; predictions agree with GPU on {agree}/{n}; max |logit diff| vs GPU {maxdiff:.2e}; "
          f"min |branching logit| {min_margin:.2e}")


if __name__ == "__main__":
    main()
