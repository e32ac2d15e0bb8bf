"""A checkpoint folder (train/assemble2.py, train/soup.py, `npx ufb unpack`) -> weights.q8.npz.xz, the form a GPU
call carries and `pipeline.py --init` / `--ft-from` read.

    /usr/bin/python3 train/pack_q8.py .train-out/gen9-soups/s3ship4 .data/stage2/s3ship4.q8.npz.xz

The f32 folder of a 2 x 9 classifier is 85 MB, over what a call may carry beside its data; its int8 form is 20 MB.
The matrices are rounded by the package's q8 rule (pipeline.quantized_arrays), so the GPU job starts from exactly the
weights the int8 package of that checkpoint holds.
"""
from __future__ import annotations

import argparse
import io
import json
import lzma
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pipeline import quantized_arrays  # noqa: E402
from ufb.export import read_safetensors  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="folder with model.safetensors")
    ap.add_argument("out", help="the .q8.npz.xz to write")
    args = ap.parse_args(argv)
    packed, _ = quantized_arrays(read_safetensors(os.path.join(args.checkpoint, "model.safetensors")))
    buf = io.BytesIO()
    np.savez(buf, **packed)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "wb") as f:
        f.write(lzma.compress(buf.getvalue(), preset=6))
    q8 = sum(1 for k in packed if k.endswith("::q8"))
    print(json.dumps({"out": args.out, "bytes": os.path.getsize(args.out), "int8_matrices": q8,
                      "tensors": len(packed) - q8}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
