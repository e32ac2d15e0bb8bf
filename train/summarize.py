"""Writes train/results/<generation>/ from what a generation's GPU calls returned (results.tar.xz unpacked).

    /usr/bin/python3 train/summarize.py --generation gen4 --recipe "…" --call 1=<call 1 dir> --call 2=<call 2 dir> \
        --ship ufb-sst2-1x11=<call 3 dir>/ufb-sst2-1x11-long-s3 --out train/results/gen4

training-summary.json: every job's arguments, throughput, loss curve and evaluations (each <call dir>/<job>/
results.json; predictions left out); <name>-sst2-dev-predictions.json: a shipped classifier's PyTorch f32
predictions on SST-2 dev (what test/node/default-model.test.ts compares the engine with).
"""
import argparse
import glob
import json
import os


def load(d):
    with open(os.path.join(d, "results.json")) as f:
        return json.load(f)


def predictions_record(model: str, weights: str, labels_names: list[str], labels: list[int],
                       logits: list[list[float]]) -> dict:
    """The ufb-sst2-dev-predictions-v1 file that test/node/default-model.test.ts holds a package to: per sentence the
    gold label, the prediction and the logits of a two-label classifier."""
    ex = [{"i": i, "label": l, "pred": int(z[1] > z[0]), "logits": [round(z[0], 5), round(z[1], 5)]}
          for i, (l, z) in enumerate(zip(labels, logits))]
    return {"format": "ufb-sst2-dev-predictions-v1", "model": model, "weights": weights, "labels_names": labels_names,
            "accuracy": round(sum(e["pred"] == e["label"] for e in ex) / len(ex), 6), "n": len(ex), "examples": ex}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--generation", required=True, help="e.g. gen4: names the summary's format")
    ap.add_argument("--recipe", required=True, help="one line: which script each call ran")
    ap.add_argument("--call", action="append", default=[], help="N=<dir>: the unpacked results of GPU call N")
    ap.add_argument("--ship", action="append", default=[], help="name=job dir of a shipped classifier")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    summary = {"format": f"ufb-{a.generation}-training-summary-v1", "recipe": a.recipe, "calls": {}}
    for spec in a.call:
        call, d = spec.split("=", 1)
        summary["calls"][call] = {os.path.basename(os.path.dirname(p)): load(os.path.dirname(p))
                                  for p in sorted(glob.glob(os.path.join(d, "*", "results.json")))}
    with open(os.path.join(a.out, "training-summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    for spec in a.ship:
        name, d = spec.split("=", 1)
        with open(os.path.join(d, "predictions.json")) as f:
            p = json.load(f)["sst2_dev"]
        out = predictions_record(name, "PyTorch f32 (before int8 export)", ["negative", "positive"], p["labels"], p["f32"])
        with open(os.path.join(a.out, f"{name}-sst2-dev-predictions.json"), "w") as f:
            json.dump(out, f, separators=(",", ":"))
        print(f"{name}: f32 accuracy {out['accuracy']}")


if __name__ == "__main__":
    main()
