"""Measures classifier packages the way a generation's shipping decision compares them, through the engine.

    /usr/bin/python3 train/candidates.py --out .train-out/gen8-candidates.json \
        "soup of four=.train-out/pkg/soup4-int8" "shipped=weights/ufb-sst2-2x9" \
        --set holdout=train/behaviour/holdout.jsonl --set rules_dev=.data/neg/neg-dev.jsonl

For each "name=package" it runs `npx ufb eval <package> --fill-mask none --json` (SST-2 dev and the behaviour set)
and once more per --set with `--behaviour <file>`, and writes a list of rows {candidate, package, sst2_dev, cases,
<set>…}, each figure "correct/n" per phenomenon. The default sets are the three blind hold-out files; a missing file
is an error, not a skipped column. Paths are relative to the current directory. Progress goes to stderr, one line
per package.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SETS = [f"{n}=train/behaviour/{n}.jsonl" for n in ("holdout", "holdout2", "holdout3")]


def named(spec: str, what: str) -> tuple[str, str]:
    """"name=path" -> (name, path); the name may hold spaces and commas, the path is after the last '='."""
    name, sep, path = spec.rpartition("=")
    if not sep or not name or not path:
        raise SystemExit(f"{what}: expected name=path, got {spec!r}")
    return name, path


def counts(table: dict) -> dict:
    """ufb eval's behaviour table -> {phenomenon: "correct/n"}, sorted by phenomenon."""
    return {k: f"{v['correct']}/{v['n']}" for k, v in sorted(table.items())}


def ufb_eval(package: str, *extra: str) -> dict:
    # npx runs in the repository root; paths are the caller's, so they go absolute (and are recorded as given)
    out = subprocess.run(["npx", "ufb", "eval", os.path.abspath(package), "--fill-mask", "none", "--json", *extra],
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"ufb eval {package}: {out.stderr.strip() or out.stdout.strip()}")
    return json.loads(out.stdout)


def measure(name: str, package: str, sets: list[tuple[str, str]]) -> dict:
    r = ufb_eval(package)
    row = {"candidate": name, "package": package, "sst2_dev": f"{r['correct']}/{r['examples']}",
           "cases": counts(r["behaviour"]["table"])}
    for set_name, path in sets:
        row[set_name] = counts(ufb_eval(package, "--behaviour", os.path.abspath(path))["behaviour"]["table"])
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("packages", nargs="+", help="name=package-dir")
    ap.add_argument("--set", action="append", default=None, help="name=cases.jsonl (default: the three hold-out sets)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    packages = [named(p, "package") for p in args.packages]
    sets = [named(s, "--set") for s in (args.set or DEFAULT_SETS)]
    for _, path in sets:
        if not os.path.exists(path):
            raise SystemExit(f"--set: {path}: no such file")
    rows = []
    for name, package in packages:
        row = measure(name, package, sets)
        rows.append(row)
        print(name, row["sst2_dev"], row["cases"]["all"], {s: row[s]["all"] for s, _ in sets}, file=sys.stderr)
    with open(args.out, "w") as f:
        json.dump(rows, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
