#!/usr/bin/env bash
# npm run test:train — Python unit tests + tiny CPU train -> export -> `ufb convert` -> `ufb run` -> compare.
# Needs Debian's python3-torch (torch 1.13 for /usr/bin/python3); installs it when missing and root.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
if ! $PY -c "import torch, numpy" 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing python3-torch (Debian) ..."
    (apt-get install -y python3-torch || (apt-get update && apt-get install -y python3-torch)) >/tmp/apt-python3-torch.log 2>&1 \
      || { tail -20 /tmp/apt-python3-torch.log; exit 1; }
  else
    echo "python3-torch missing and not root: run 'sudo apt-get install -y python3-torch'" >&2
    exit 1
  fi
fi
WORK=$(mktemp -d /tmp/ufb-test-train.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
echo "== Python unit tests (model vs reference fixtures, FFF masked == conditional, export round trip, tokenizer)"
(cd train && $PY -m unittest discover -s tests)
echo "== tiny pipeline: train, export, ufb convert, ufb run, compare"
$PY train/tiny_pipeline.py --work "$WORK"
