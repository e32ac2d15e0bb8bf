#!/usr/bin/env bash
# The training command (GPU machine, repository root; results go to $OUT). Re-run it to continue:
# each run resumes the pretraining from .train-out/state (the stable.pt.NNN + results.json of the previous
# run, carried back in) and always ends with a fine-tuned, evaluated, exported model. See train/README.md.
#   bash train/run_gpu.sh [extra train.py arguments]
set -eo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.used,memory.total,clocks.sm --format=csv 2>/dev/null || true
python3 train/train.py --data .data/ufb --state .train-out/state --out "$OUT" \
  --hidden 512 --layers 4 --heads 8 --trees 16 --depth 5 \
  --batch 512 --lr 1.5e-3 --warmup-steps 800 --mask-prob 0.2 --dropout 0.1 \
  --stable-seconds 700 --decay-seconds 90 --deadline 560 \
  --ft-lrs "${FT_LRS:-1e-4}" --ft-epochs 3 --ft-batch 32 --ft-seconds 130 \
  --pooler zero_index --export-dtype bf16 --seed 1234 "$@" 2>&1 | tee "$OUT/log.txt"
