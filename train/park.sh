#!/usr/bin/env bash
# Moves the big tracked files out of the checkout for a GPU call, and back. The device tool sends the working tree
# (tracked and untracked-not-ignored files) plus the carried folder, 64 MiB in all; the committed packages, the
# MLM checkpoint and the fixtures are about 100 MB and no GPU job reads them (the jobs read the carried folder).
#   bash train/park.sh park      # before the call: moves them to $PARK_DIR (default ../ufb-edge-parked)
#   bash train/park.sh unpark    # after it: puts them back
#   bash train/park.sh size      # what would travel now, carried folder excluded
# mv within one file system keeps open files readable, so a running `train/label.ts` over a package survives it.
set -euo pipefail
cd "$(dirname "$0")/.."
PARK_DIR=${PARK_DIR:-../ufb-edge-parked}
BIG=(weights/ufb-sst2-2x9 weights/ufb-sst2-1x11 weights/ufb-embed-2x9 weights/tiny-synthetic test/fixtures
  worker-configuration.d.ts docs/playground.png train/results train/checkpoints)

# stat fails on the parked (missing) paths; the sum of those present is what counts
size() {
  local mib
  mib=$(git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {printf "%.1f", s / 1048576}') || true
  echo "tracked files present: $mib MiB"
}

case "${1:-}" in
  park)
    for p in "${BIG[@]}"; do
      [[ -e "$p" ]] || continue
      [[ ! -e "$PARK_DIR/$p" ]] || { echo "$PARK_DIR/$p exists: unpark first" >&2; exit 1; }
      mkdir -p "$PARK_DIR/$(dirname "$p")" && mv "$p" "$PARK_DIR/$p"
    done
    size ;;
  unpark)
    for p in "${BIG[@]}"; do
      [[ -e "$PARK_DIR/$p" ]] || continue
      [[ ! -e "$p" ]] || { echo "$p exists in the checkout and in $PARK_DIR: resolve by hand" >&2; exit 1; }
      mv "$PARK_DIR/$p" "$p"
    done
    find "$PARK_DIR" -depth -type d -empty -delete 2>/dev/null || true
    git status --short ;;
  size) size ;;
  *) echo "usage: bash train/park.sh park|unpark|size" >&2; exit 2 ;;
esac
