"""Model soups (Wortsman et al. 2022): average the weights of classifiers fine-tuned from one pretrained encoder.

    /usr/bin/python3 train/soup.py --out .train-out/soup/ufb-sst2-2x9 <checkpoint> <checkpoint> ... [--weights 1,1,2]

Fine-tunings that start from the same masked-LM weights stay in one basin of the loss, so the mean of their
weights is itself a good model, and often better than each ingredient (no extra inference cost, unlike an
ensemble of logits). The FFF trees are averaged like every other matrix: a node's split is the sign of a dot
product with its (averaged) weight row, which stays close to each ingredient's when they agree.

Every checkpoint must be a folder that `npx ufb convert` reads (train/assemble2.py writes them), of the same
architecture and tokenizer; after the first, an ingredient may also be a package unpacked by `npx ufb unpack
<package> <dir>` (int8 weights dequantized) — so a shipped soup, whose ingredients are gone, can be averaged with
new fine-tunings from the same pretrained encoder (weight it by the number of checkpoints it holds). The soup
is written in the same layout (model.safetensors in f32, the first ingredient's config.json, model_config.json
and tokenizer.json) with SOUP.json naming the ingredients and weights; `ufb convert` then quantizes it as any
other checkpoint.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ufb.export import read_safetensors, write_safetensors  # noqa: E402

COPIED = ("config.json", "model_config.json", "tokenizer.json")


def file_digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def is_unpacked_package(folder: str) -> bool:
    """A folder `npx ufb unpack` wrote (model.safetensors, package-config.json, tokenizer.json), not a checkpoint."""
    return not os.path.exists(os.path.join(folder, "config.json")) and os.path.exists(os.path.join(folder, "package-config.json"))


def package_config_expected(checkpoint: str) -> dict:
    """What `ufb convert` puts in a package's config for this checkpoint (the fields a soup depends on)."""
    with open(os.path.join(checkpoint, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    arch = config["arch"]
    expected = {"numLayers": arch["num_transformer_layers"], "hiddenSize": arch["hidden_size"],
                "numHeads": arch["attention"]["num_attention_heads"], "fffTrees": arch["intermed_size"],
                "fffDepth": arch["intermed_depth"], "vocabSize": arch["embedding"]["vocab_size"],
                "maxSeqLength": arch["embedding"]["max_seq_length"]}
    if "id2label" in config:
        expected["labels"] = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
    return expected


def check_unpacked_config(first: str, package: str) -> None:
    """An unpacked package (e.g. an earlier soup that exists only as its int8 package) has no config.json: its
    package config must have the checkpoint's shape and labels — heads matter though no tensor shape shows them."""
    with open(os.path.join(package, "package-config.json"), encoding="utf-8") as f:
        got = json.load(f)["config"]
    for field, want in package_config_expected(first).items():
        if got.get(field) != want:
            raise SystemExit(f"{package}: package config {field} is {got.get(field)!r}, {first} has {want!r}: "
                             "not the same model to average")


def check_compatible(checkpoints: list[str]) -> None:
    """Same architecture, labels and tokenizer, else the mean of the weights means nothing."""
    first = checkpoints[0]
    if is_unpacked_package(first):
        raise SystemExit(f"{first}: the first ingredient must be a checkpoint (config.json): the soup takes its config files")
    for other in checkpoints[1:]:
        unpacked = is_unpacked_package(other)
        if unpacked:
            check_unpacked_config(first, other)
        # an unpacked package brings the tokenizer (`npx ufb unpack` copies it) but not the checkpoint's config files
        for name in ("tokenizer.json",) if unpacked else COPIED:
            a, b = os.path.join(first, name), os.path.join(other, name)
            if os.path.exists(a) != os.path.exists(b):
                raise SystemExit(f"{other}: {name} is {'missing' if os.path.exists(a) else 'extra'} (against {first})")
            if not os.path.exists(a):
                continue
            if name == "tokenizer.json":
                same = file_digest(a) == file_digest(b)
            else:
                with open(a, encoding="utf-8") as fa, open(b, encoding="utf-8") as fb:
                    same = json.load(fa) == json.load(fb)
            if not same:
                raise SystemExit(f"{other}: {name} differs from {first}'s: not the same model to average")


def average(tensor_sets: list[dict[str, np.ndarray]], weights: list[float]) -> dict[str, np.ndarray]:
    keys = list(tensor_sets[0])
    for i, ts in enumerate(tensor_sets[1:], 1):
        if set(ts) != set(keys):
            raise SystemExit(f"ingredient {i} has other tensors: {sorted(set(ts) ^ set(keys))[:5]}")
        for k in keys:
            if ts[k].shape != tensor_sets[0][k].shape:
                raise SystemExit(f"ingredient {i}: {k} has shape {ts[k].shape}, not {tensor_sets[0][k].shape}")
    total = float(sum(weights))
    out = {}
    for k in keys:
        acc = np.zeros(tensor_sets[0][k].shape, dtype=np.float64)
        for ts, w in zip(tensor_sets, weights):
            acc += ts[k].astype(np.float64) * (w / total)
        out[k] = acc.astype(tensor_sets[0][k].dtype)
    return out


def make_soup(checkpoints: list[str], out_dir: str, weights: list[float] | None = None) -> dict:
    if len(checkpoints) < 1:
        raise SystemExit("name at least one checkpoint")
    weights = weights or [1.0] * len(checkpoints)
    if len(weights) != len(checkpoints) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise SystemExit("--weights: one non-negative weight per checkpoint, not all zero")
    check_compatible(checkpoints)
    sets = [read_safetensors(os.path.join(c, "model.safetensors")) for c in checkpoints]
    for c, ts in zip(checkpoints[1:], sets[1:]):
        if is_unpacked_package(c):
            # packages do not store attention's norm_factor (1/sqrt(head size), a constant of the shape the config check
            # above compared): the checkpoint's value stands in
            ts.update({k: v for k, v in sets[0].items() if k.endswith(".norm_factor") and k not in ts})
    tensors = average(sets, weights)
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(tensors, os.path.join(out_dir, "model.safetensors"))
    for name in COPIED:
        src = os.path.join(checkpoints[0], name)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(out_dir, name))
    record = {"method": "weighted mean of every tensor (model soup)",
              "ingredients": [{"checkpoint": os.path.basename(os.path.normpath(c)),
                               "sha256": file_digest(os.path.join(c, "model.safetensors")), "weight": w}
                              | ({"unpacked_package": True} if is_unpacked_package(c) else {})
                              for c, w in zip(checkpoints, weights)]}
    with open(os.path.join(out_dir, "SOUP.json"), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    return record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoints", nargs="+", help="checkpoint folders fine-tuned from the same pretrained encoder")
    ap.add_argument("--out", required=True, help="folder for the soup (a checkpoint folder)")
    ap.add_argument("--weights", default="", help="comma-separated weight per checkpoint (default: equal)")
    a = ap.parse_args()
    weights = [float(w) for w in a.weights.split(",")] if a.weights else None
    record = make_soup(a.checkpoints, a.out, weights)
    print(f"wrote {a.out}: mean of {len(record['ingredients'])} checkpoints")


if __name__ == "__main__":
    main()
