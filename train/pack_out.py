"""Packs a GPU call's work for the trip back (the device tool returns ≤ 8 files, each ≤ 16 MiB, ≤ 64 MiB):

    python3 train/pack_out.py <work> <out> <name> [<name> …]

results.tar.xz holds every job's results.json, predictions.json and logs (<work>/<name>/…); then each job's
weights.q8.npz, xz-compressed and cut into 15 MiB parts <name>.q8.npz.xz.NNN, in the order given, as long as
the limits allow (a job that does not fit is named, not returned). Used by run_gpu2.sh and run_gpu3.sh.
"""
import lzma
import os
import sys
import tarfile

BUDGET, PART, MAX_FILES = 62 * 2**20, 15 * 2**20, 8


def main(work: str, out: str, names: list[str]) -> None:
    tar_path = os.path.join(out, "results.tar.xz")
    with tarfile.open(tar_path, "w:xz") as tar:
        for name in names:
            for f in ("results.json", "predictions.json", "log.txt", "log-previous.txt", "teacher-logits.npy"):
                p = os.path.join(work, name, f)
                if os.path.exists(p):
                    tar.add(p, arcname=f"{name}/{f}")
    budget, files = BUDGET - os.path.getsize(tar_path), 1
    for name in names:
        p = os.path.join(work, name, "weights.q8.npz")
        if not os.path.exists(p):
            continue
        with open(p, "rb") as f:
            data = lzma.compress(f.read(), preset=6)
        n = (len(data) + PART - 1) // PART
        if len(data) > budget or files + n > MAX_FILES:
            print(f"not returned (over the size limit): {name} ({len(data)} bytes)")
            continue
        for i in range(n):
            with open(os.path.join(out, f"{name}.q8.npz.xz.{i:03d}"), "wb") as f:
                f.write(data[i * PART:(i + 1) * PART])
        budget -= len(data)
        files += n
        print(f"returned {name}: {len(data)} bytes in {n} parts")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
