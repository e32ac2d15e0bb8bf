"""Writes train/results/gen3/ from what the third generation's GPU calls returned (results.tar.xz unpacked).

    /usr/bin/python3 train/summarize3.py --pretrain <call 1>/ufb-sst2-2x9 --call2 <call 2 dir> --call3 <call 3 dir> \
        --ship ufb-sst2-2x9=<call 3>/ufb-sst2-2x9 --out train/results/gen3

training-summary.json: every job's arguments, throughput, loss curve and evaluations (predictions left out);
<name>-sst2-dev-predictions.json: the shipped classifier's PyTorch f32 predictions on SST-2 dev (what
test/node/default-model.test.ts compares the engine with).
"""
import argparse
import glob
import json
import os


def load(d):
    with open(os.path.join(d, "results.json")) as f:
        r = json.load(f)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pretrain", required=True)
    ap.add_argument("--call2", required=True)
    ap.add_argument("--call3", required=True)
    ap.add_argument("--ship", action="append", default=[], help="name=job dir of a shipped classifier")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    summary = {"format": "ufb-gen3-training-summary-v1",
               "recipe": "call 1: train/pipeline.py --stage pretrain (continued from the gen2 default's weights); "
                         "calls 2 and 3: train/run_gpu3.sh (classifier fine-tuning variants + train/embed.py)",
               "calls": {"1": {"pretrain": load(a.pretrain)}}}
    for call, d in (("2", a.call2), ("3", a.call3)):
        summary["calls"][call] = {os.path.basename(os.path.dirname(p)): load(os.path.dirname(p))
                                  for p in sorted(glob.glob(os.path.join(d, "*", "results.json")))}
    with open(os.path.join(a.out, "training-summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    for spec in a.ship:
        name, d = spec.split("=", 1)
        with open(os.path.join(d, "predictions.json")) as f:
            p = json.load(f)["sst2_dev"]
        ex = [{"i": i, "label": l, "pred": int(z[1] > z[0]), "logits": [round(z[0], 5), round(z[1], 5)]}
              for i, (l, z) in enumerate(zip(p["labels"], p["f32"]))]
        out = {"format": "ufb-sst2-dev-predictions-v1", "model": name, "weights": "PyTorch f32 (before int8 export)",
               "labels_names": ["negative", "positive"],
               "accuracy": round(sum(e["pred"] == e["label"] for e in ex) / len(ex), 6), "n": len(ex), "examples": ex}
        with open(os.path.join(a.out, f"{name}-sst2-dev-predictions.json"), "w") as f:
            json.dump(out, f, separators=(",", ":"))
        print(f"{name}: f32 accuracy {out['accuracy']}")


if __name__ == "__main__":
    main()
