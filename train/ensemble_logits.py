"""Several teachers' logits over the same distillation sentences (pipeline.py --label, train/label.ts) as one
ensemble teacher: the mean of their log-probabilities (a normalised geometric mean of the distributions), written
as float32 logits [sentences, labels] for pipeline.py --distill.

    python3 train/ensemble_logits.py --out .data/call7/teacher-logits.npy a.npy b.npy c.npy
"""
from __future__ import annotations

import argparse
import sys

import numpy as np


def ensemble(logits: list[np.ndarray]) -> np.ndarray:
    if not logits or any(x.shape != logits[0].shape for x in logits):
        raise ValueError(f"teachers must label the same sentences: shapes {[x.shape for x in logits]}")
    logp = [x - np.logaddexp.reduce(x.astype(np.float64), axis=1, keepdims=True) for x in logits]
    return np.mean(logp, axis=0).astype(np.float32)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("teachers", nargs="+", help=".npy logits, one row per sentence")
    args = ap.parse_args(argv)
    teachers = [np.load(p) for p in args.teachers]
    out = ensemble(teachers)
    np.save(args.out, out)
    votes = np.stack([t.argmax(1) for t in teachers])
    print(f"{args.out}: {out.shape[0]} sentences; each teacher agrees with the ensemble on "
          + ", ".join(f"{(v == out.argmax(1)).mean():.3f}" for v in votes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
