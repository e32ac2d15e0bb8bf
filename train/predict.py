"""PyTorch f32 predictions of a classifier checkpoint folder on a labelled TSV, on the CPU.

    /usr/bin/python3 train/predict.py .train-out/gen7-ship/ufb-sst2-2x9 --out train/results/gen7/ufb-sst2-2x9-sst2-dev-predictions.json

Writes the file train/summarize.py writes from a GPU job (`summarize.predictions_record`,
ufb-sst2-dev-predictions-v1: per sentence the gold label, the prediction and the logits), for checkpoints made on
the CPU side (train/soup.py): the independent reference that test/node/default-model.test.ts holds the engine's
int8 package to. Texts are tokenized by the checkpoint's own
tokenizer.json through train/ufb/text_v2.py (held equal to the engine's tokenizer by test_text_v2.py).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ufb.export import load_checkpoint  # noqa: E402
from ufb.model import UFBForSequenceClassification  # noqa: E402
from ufb.text_v2 import TokenizerV2  # noqa: E402
from summarize import predictions_record  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(ROOT, "test", "data", "sst2-dev.tsv")


def read_labelled(path: str) -> list[tuple[str, int]]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or "sentence" not in rows[0] or "label" not in rows[0]:
        raise SystemExit(f"{path}: needs a header with 'sentence' and 'label'")
    return [(r["sentence"], int(r["label"])) for r in rows]


@torch.no_grad()
def predict(ckpt: str, data: str, weights: str = "PyTorch f32 (before int8 export)", batch: int = 64) -> dict:
    model = load_checkpoint(ckpt)
    if not isinstance(model, UFBForSequenceClassification):
        raise SystemExit(f"{ckpt}: not a classifier checkpoint (no head)")
    tok = TokenizerV2.from_file(os.path.join(ckpt, "tokenizer.json"))
    max_len = model.cfg.max_seq_length
    rows = read_labelled(data)
    seqs = []
    for text, _ in rows:
        ids = tok.encode(text)
        # the engine's truncation: keep the first max_len - 1 ids and end with the template's last token
        seqs.append(ids if len(ids) <= max_len else ids[:max_len - 1] + ids[-1:])
    # shortest first (less padding); the FFF walked per token as the engine does (forward_conditional: the same
    # values as the training forward, test_model.py holds them equal, at a fraction of the CPU time)
    order = sorted(range(len(seqs)), key=lambda k: len(seqs[k]))
    logits: list = [None] * len(seqs)
    for i in range(0, len(order), batch):
        chunk = [seqs[k] for k in order[i:i + batch]]
        width = max(len(s) for s in chunk)
        ids = torch.zeros((len(chunk), width), dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for j, s in enumerate(chunk):
            ids[j, :len(s)] = torch.tensor(s)
            mask[j, :len(s)] = 1
        out, _ = model(ids, mask, conditional=True)
        for k, z in zip(order[i:i + batch], out.float().tolist()):
            logits[k] = z
    with open(os.path.join(ckpt, "config.json"), encoding="utf-8") as f:
        names = json.load(f).get("id2label", {"0": "negative", "1": "positive"})
    return predictions_record(os.path.basename(os.path.normpath(ckpt)), weights, [names[k] for k in sorted(names, key=int)],
                              [label for _, label in rows], logits)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="a classifier checkpoint folder (model.safetensors, config.json, tokenizer.json)")
    ap.add_argument("--data", default=DEFAULT_DATA, help="labelled TSV with 'sentence' and 'label' (default SST-2 dev)")
    ap.add_argument("--out", required=True, help="predictions JSON to write")
    ap.add_argument("--weights-note", default="PyTorch f32 (before int8 export)", help="what the weights are (the file's 'weights')")
    a = ap.parse_args()
    out = predict(a.checkpoint, a.data, a.weights_note)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"{out['model']}: f32 accuracy {out['accuracy']} ({out['n']} sentences)")


if __name__ == "__main__":
    main()
