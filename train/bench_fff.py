"""Training cost of one FFF layer, masked (every node, then a mask) against gathered (the path rows only):

    python3 train/bench_fff.py                      # GPU: batch 512 x 128 tokens, hidden 512, bf16 autocast
    python3 train/bench_fff.py --tokens 2048 --repeat 3 --device cpu      # a CPU smoke run

Prints forward+backward milliseconds per variant and tree shape (median of --repeat after --warmup), and the
largest difference of the outputs (they must agree: tests/test_model.py checks values and gradients in f64).
Prediction for the next GPU session (train/README.md): masked cost grows with the node count (1 x 11: 4,095 per
token), gathered with the depth, so 1 x 11 should train at least 3x faster gathered and 16 x 5 not at all.
"""
import argparse
import contextlib
import json
import statistics
import time

import torch

from ufb.model import UFBConfig, FFF


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--tokens", type=int, default=512 * 128)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--shapes", default="16x5,2x9,1x11")
    ap.add_argument("--dense-levels", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=10)
    a = ap.parse_args()
    torch.manual_seed(0)
    cuda = a.device.startswith("cuda")
    rows = []
    for shape in a.shapes.split(","):
        K, D = (int(v) for v in shape.split("x"))
        cfg = UFBConfig(hidden_size=a.hidden, fff_trees=K, fff_depth=D, fff_dense_levels=a.dense_levels)
        ffn = FFF(cfg).to(a.device)
        x = torch.randn(a.tokens, a.hidden, device=a.device, requires_grad=True)
        out = {}
        for mode in ("masked", "gathered"):
            ffn.train_mode = mode
            times = []
            for i in range(a.warmup + a.repeat):
                if cuda:
                    torch.cuda.synchronize()
                t = time.perf_counter()
                with torch.autocast("cuda", dtype=torch.bfloat16) if cuda else contextlib.nullcontext():
                    y = ffn(x)
                y.float().square().mean().backward()
                if cuda:
                    torch.cuda.synchronize()
                if i >= a.warmup:
                    times.append((time.perf_counter() - t) * 1000)
            out[mode] = (statistics.median(times), y.detach().float())
        diff = float((out["masked"][1] - out["gathered"][1]).abs().max())
        row = {"shape": shape, "nodes_per_tree": cfg.fff_nodes, "masked_ms": round(out["masked"][0], 3),
               "gathered_ms": round(out["gathered"][0], 3), "speedup": round(out["masked"][0] / out["gathered"][0], 2),
               "max_abs_diff": diff}
        rows.append(row)
        print(f"{shape:>6}  masked {row['masked_ms']:9.3f} ms  gathered {row['gathered_ms']:9.3f} ms  "
              f"x{row['speedup']:.2f}  max |diff| {diff:.2e}", flush=True)
    print(json.dumps({"device": torch.cuda.get_device_name(0) if cuda else "cpu", "tokens": a.tokens, "rows": rows}))


if __name__ == "__main__":
    main()
