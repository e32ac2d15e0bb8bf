#!/usr/bin/env bash
# Rebuilds, from ../shared and committed files alone, the git-ignored folders that the next GPU calls carry — a
# new checkout has no .data/, and a cut-off session's data does not come back:
#   bash train/rebuild_data.sh          # both folders below
#   bash train/rebuild_data.sh ft       # .data/ft-2x9: fine-tunings of the committed 2 x 9 MLM (run_gpu3.sh)
#   bash train/rebuild_data.sh embed    # .data/embed-2x9: embedding variants of the same MLM (run_gpu4.sh -)
#   bash train/rebuild_data.sh combo    # both, then .data/combo: ft-2x9 + embed.json.xz (hard links, 57.7 MiB),
#                                       # one call with classifier jobs and an embedding job side by side
# Every intermediate goes to a folder of its own and is skipped when it exists (delete it to rebuild):
#   .data/ufb2     pretraining streams and held-out text (prepare_reviews.ts pretrain), aug3.tsv (augment.py)
#   .data/distill  300,000 unlabelled review sentences for distillation (prepare_reviews.ts distill)
#   .data/neg      negation pairs of real review sentences, rule sets 1 and 3, and their dev splits (negate.py)
#   .data/label7   the shipped packages' logits over the distillation sentences (label.ts) and their ensemble
# .data/ft-2x9 carries the split `neg` (rule set 1) and `neg3` (rule set 3) and the teacher teacher-gen7.npy: the
# shipped ufb-sst2-2x9 and ufb-sst2-1x11 (seventh generation) averaged. .data/embed-2x9 has WordNet pairs when
# Debian's wordnet-base is installed (apt-get install wordnet-base); NO_WORDNET=1 builds it without them.
# Times on the 2-core VM (23 min in all): pretrain 2 min, augment and negate 1.3 min, distill 0.5 min, labels
# 17 min (the two packages side by side), classify 1.5 min, embed 1 min.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -c "import numpy" 2>/dev/null || { echo "$PY has no numpy (PYTHON=/usr/bin/python3 after 'npm run test:train' installed python3-torch)" >&2; exit 1; }
what=${1:-all}
case "$what" in all | ft | embed | combo) ;; *) echo "usage: bash train/rebuild_data.sh [all|ft|embed|combo]" >&2; exit 2 ;; esac
step() { printf '== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
u16_head() { "$PY" -c "import sys; sys.path.insert(0, 'train'); from prepare_data import load_u16, save_u16; save_u16(sys.argv[2], load_u16(sys.argv[1])[:int(sys.argv[3])])" "$@"; }
mlm_into() {
  cp train/checkpoints/ufb-mlm-2x9.q8.npz.xz "$1/mlm.q8.npz.xz"
  cp train/checkpoints/ufb-mlm-2x9.results.json "$1/mlm-results.json"
}

if [[ ! -s .data/ufb2/pretrain-meta.json ]]; then
  step "pretraining streams → .data/ufb2"
  npx node train/prepare_reviews.ts pretrain
fi

if [[ "$what" != embed ]]; then
  if [[ ! -s .data/ufb2/aug3.tsv ]]; then
    step "template augmentation → .data/ufb2/aug3.tsv"
    "$PY" train/augment.py --out .data/ufb2/aug3.tsv --n 60000
  fi
  if [[ ! -s .data/neg/neg3.tsv ]]; then
    step "negation pairs, rule sets 1 and 3 → .data/neg"
    mkdir -p .data/neg
    "$PY" train/negate.py --version 1 --out .data/neg/neg.tsv --dev-out .data/neg/neg-dev.jsonl
    "$PY" train/negate.py --version 3 --out .data/neg/neg3.tsv --dev-out .data/neg/neg3-dev.jsonl
  fi
  if [[ ! -s .data/distill/distill.u16.xz ]]; then
    step "distillation sentences → .data/distill"
    npx node train/prepare_reviews.ts distill --out .data/distill
  fi
  if [[ ! -s .data/label7/teacher-gen7.npy ]]; then
    step "teacher logits of the shipped packages → .data/label7 (about 20 minutes)"
    mkdir -p .data/label7
    pids=()
    for name in ufb-sst2-2x9 ufb-sst2-1x11; do
      npx node train/label.ts "weights/$name" --sentences .data/distill/distill.u16.xz --out ".data/label7/$name.npy" &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    "$PY" train/ensemble_logits.py --out .data/label7/teacher-gen7.npy .data/label7/ufb-sst2-2x9.npy .data/label7/ufb-sst2-1x11.npy
  fi
fi
if [[ "$what" != embed && ! -s .data/ft-2x9/mlm-results.json ]]; then
  step "fine-tuning call → .data/ft-2x9"
  rm -rf .data/ft-2x9 && mkdir -p .data/ft-2x9
  npx node train/prepare_reviews.ts classify --imdb --imdb-more --aug .data/ufb2/aug3.tsv --neg .data/neg/neg.tsv \
    --neg3 .data/neg/neg3.tsv --behaviour train/behaviour/cases.jsonl --out .data/ft-2x9
  cp .data/ufb2/{val_reviews.u16.xz,wikitext_val.u16.xz,pretrain-meta.json} .data/distill/distill.u16.xz \
    .data/label7/teacher-gen7.npy .data/ft-2x9/
  u16_head .data/ufb2/reviews.u16.xz .data/ft-2x9/reviews-ft.u16.xz 3000000
  mlm_into .data/ft-2x9
  du -sh .data/ft-2x9
fi

if [[ "$what" != ft && ! -s .data/embed-2x9/mlm-results.json ]]; then
  step "embedding call → .data/embed-2x9"
  wordnet=()
  if [[ -z "${NO_WORDNET:-}" ]]; then
    noun=$(dpkg -L wordnet-base 2>/dev/null | grep -m1 '/data.noun$' || true)
    [[ -n "$noun" ]] || { echo "WordNet pairs need Debian's wordnet-base (apt-get install wordnet-base), or set NO_WORDNET=1" >&2; exit 1; }
    wordnet=(--wordnet "$(dirname "$noun")")
  fi
  rm -rf .data/embed-2x9 && mkdir -p .data/embed-2x9
  npx node train/prepare_reviews.ts embed --out .data/embed-2x9 --unsup-sentences 120000 "${wordnet[@]}"
  mlm_into .data/embed-2x9
  du -sh .data/embed-2x9
fi

if [[ "$what" == combo ]]; then
  step "combined call → .data/combo"
  rm -rf .data/combo && mkdir -p .data/combo
  ln .data/ft-2x9/* .data/combo/ && ln .data/embed-2x9/embed.json.xz .data/combo/
  du -sh .data/combo
fi
