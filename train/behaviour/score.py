#!/usr/bin/env python3
"""Score predictions on the behaviour set: accuracy per phenomenon and overall (stdlib only).

    /usr/bin/python3 train/behaviour/score.py PREDICTIONS [--cases train/behaviour/cases.jsonl]
                                              [--out scores.json] [--name MODEL]

PREDICTIONS is JSON or JSONL, keyed by case id, in any of these forms:
  - a JSON object {id: value}
  - a JSON list, or JSONL lines, of objects {"id": ..., <value key>: value}, with the value under one of
    "label", "pred", "prediction", "prob", "p_pos", "probs", "logits", "scores"
and each value one of
  - a label: 0/1, or "negative"/"positive" (any case; also "neg"/"pos", "LABEL_0"/"LABEL_1")
  - a float in [0, 1]: probability of *positive*; predicted label = 1 iff p >= 0.5
  - a list of two numbers [negative, positive] (probabilities or logits): predicted label = argmax
  - an object with one of the keys above (e.g. {"label": "positive", "score": 0.93})
A case with no prediction counts as an error (and is reported as missing).
"""
import argparse
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CASES = os.path.join(HERE, "cases.jsonl")
VALUE_KEYS = ("label", "pred", "prediction", "prob", "p_pos", "probs", "logits", "scores")
LABEL_NAMES = {"0": 0, "1": 1, "negative": 0, "positive": 1, "neg": 0, "pos": 1, "label_0": 0, "label_1": 1}


def load_cases(path=DEFAULT_CASES):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def to_label(v):
    """Predicted label (0/1) from one prediction value; ValueError if it cannot be read."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, dict):
        for k in VALUE_KEYS:
            if k in v:
                return to_label(v[k])
        raise ValueError(f"no prediction key in {v!r}")
    if isinstance(v, str):
        k = v.strip().lower()
        if k in LABEL_NAMES:
            return LABEL_NAMES[k]
        raise ValueError(f"unknown label name {v!r}")
    if isinstance(v, int):
        if v in (0, 1):
            return v
        raise ValueError(f"label must be 0 or 1, got {v}")
    if isinstance(v, float):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"probability out of [0, 1]: {v}")
        return int(v >= 0.5)
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v):
        return int(v[1] > v[0])
    raise ValueError(f"cannot read a prediction from {v!r}")


def load_predictions(path):
    """-> {id: label}."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        data = json.loads(text)
        items = data if isinstance(data, list) else None
    except json.JSONDecodeError:
        items = [json.loads(line) for line in text.splitlines() if line.strip()]
        data = None
    if items is None:
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object, a JSON list or JSONL")
        if "predictions" in data and isinstance(data["predictions"], (dict, list)):
            return load_predictions_obj(data["predictions"])
        return {str(k): to_label(v) for k, v in data.items()}
    return load_predictions_obj(items)


def load_predictions_obj(obj):
    if isinstance(obj, dict):
        return {str(k): to_label(v) for k, v in obj.items()}
    out = {}
    for it in obj:
        if not isinstance(it, dict) or "id" not in it:
            raise ValueError(f"list items need an 'id': {it!r}")
        out[str(it["id"])] = to_label({k: v for k, v in it.items() if k != "id"})
    return out


def score(cases, preds):
    """preds: {id: label or any value `to_label` reads} -> result dict: per phenomenon and overall n, correct, accuracy, missing; error ids."""
    per = collections.OrderedDict()
    errors, missing_ids = [], []
    for c in cases:
        p = per.setdefault(c["phenomenon"], {"n": 0, "correct": 0, "missing": 0,
                                             "pos_n": 0, "pos_correct": 0, "neg_n": 0, "neg_correct": 0})
        p["n"] += 1
        side = "pos" if c["label"] == 1 else "neg"
        p[side + "_n"] += 1
        pred = preds.get(c["id"])
        pred = None if pred is None else to_label(pred)
        if pred is None:
            p["missing"] += 1
            missing_ids.append(c["id"])
            errors.append(c["id"])
        elif pred == c["label"]:
            p["correct"] += 1
            p[side + "_correct"] += 1
        else:
            errors.append(c["id"])
    for p in per.values():
        p["accuracy"] = p["correct"] / p["n"]
    n = sum(p["n"] for p in per.values())
    correct = sum(p["correct"] for p in per.values())
    known = {c["id"] for c in cases}
    return {
        "overall": {"n": n, "correct": correct, "accuracy": correct / n if n else 0.0,
                    "missing": len(missing_ids),
                    "macro_accuracy": sum(p["accuracy"] for p in per.values()) / len(per) if per else 0.0},
        "phenomena": per,
        "errors": errors,
        "missing": missing_ids,
        "unknown_ids": sorted(set(preds) - known),
    }


def table(res, name=None):
    lines = []
    if name:
        lines.append(f"model: {name}")
    lines.append(f"{'phenomenon':<26}{'n':>5}{'correct':>9}{'acc %':>8}{'pos %':>8}{'neg %':>8}{'missing':>9}")
    for ph, p in res["phenomena"].items():
        pa = 100 * p["pos_correct"] / p["pos_n"] if p["pos_n"] else float("nan")
        na = 100 * p["neg_correct"] / p["neg_n"] if p["neg_n"] else float("nan")
        lines.append(f"{ph:<26}{p['n']:>5}{p['correct']:>9}{100 * p['accuracy']:>8.1f}{pa:>8.1f}{na:>8.1f}"
                     f"{p['missing']:>9}")
    o = res["overall"]
    lines.append(f"{'overall':<26}{o['n']:>5}{o['correct']:>9}{100 * o['accuracy']:>8.1f}{'':>8}{'':>8}"
                 f"{o['missing']:>9}")
    lines.append(f"{'macro (mean of phenomena)':<26}{'':>5}{'':>9}{100 * o['macro_accuracy']:>8.1f}")
    if res["unknown_ids"]:
        lines.append(f"warning: {len(res['unknown_ids'])} prediction ids are not behaviour-set cases")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description="accuracy per phenomenon on the behaviour set")
    ap.add_argument("predictions", help="JSON/JSONL predictions keyed by case id (see module doc)")
    ap.add_argument("--cases", default=DEFAULT_CASES)
    ap.add_argument("--out", help="write the result as JSON here")
    ap.add_argument("--name", help="model name, printed and stored in the JSON")
    a = ap.parse_args(argv)
    res = score(load_cases(a.cases), load_predictions(a.predictions))
    if a.name:
        res = {"model": a.name, **res}
    print(table(res, a.name))
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1, ensure_ascii=False)
            f.write("\n")
        print(f"wrote {a.out}", file=sys.stderr)
    return res


if __name__ == "__main__":
    main()
