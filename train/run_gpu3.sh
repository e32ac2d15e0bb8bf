#!/usr/bin/env bash
# GPU call that turns one pretrained MLM into the shipped classifier and embedding model, side by side:
# fine-tuning variants (train/pipeline.py --stage finetune, one per "name|extra args" entry) and
# train/embed.py, all from the same MLM. Run from the repository root with DATA carried, holding
#   mlm.q8.npz.xz[.NNN parts]  mlm-results.json (the pretrain stage's results.json)
#   pretrain-meta.json cls.json.xz val_reviews.u16.xz wikitext_val.u16.xz <stream> embed.json.xz
#   DATA=.data/call2 STREAM=reviews-ft.u16.xz bash train/run_gpu3.sh 300 \
#       "ufb-sst2-2x9|--ft-sources sst2_train,aug,kotzias,blitzer" "ufb-sst2-2x9-imdb|--ft-sources ...,imdb_train"
# $1 is the seconds each job may train. PRETRAIN_SECONDS=N first continues the MLM's pretraining for N seconds on
# STREAM (PRETRAIN_ARGS: pipeline.py arguments) and fine-tunes from the result; EMBED_NAME= (empty) trains no
# embedding model. Returned in $OUT: results.tar.xz (every job's results, predictions and
# log) and the int8 weights as <name>.q8.npz.xz.NNN parts, the best classifier (SST-2 dev f32) first, then
# the embedding model, then the other classifiers while the tool's size limits allow.
set -uo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-out}
WORK=${WORK:-/tmp/ufb3}
DATA=${DATA:-.data/call2}
STREAM=${STREAM:-reviews-ft.u16.xz}
EMBED_NAME=${EMBED_NAME-ufb-embed-2x9}
seconds=$1
shift
mkdir -p "$OUT" "$WORK"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
init="$WORK/mlm.q8.npz.xz"
if compgen -G "$DATA/mlm.q8.npz.xz.*" >/dev/null; then cat "$DATA"/mlm.q8.npz.xz.* >"$init"; else cp "$DATA/mlm.q8.npz.xz" "$init"; fi
# the MLM's shape: every job below builds the same encoder (a deeper or wider MLM must not be cut to the defaults)
mlm_shape() {
  python3 -c "import json,sys; a=json.load(open(sys.argv[1]))['args']; print(a['trees'], a['depth'], f\"--layers {a['layers']} --hidden {a['hidden']} --heads {a['heads']}\")" "$1"
}
read -r trees depth shape < <(mlm_shape "$DATA/mlm-results.json")
arch="$DATA/mlm-results.json"
if [[ -n "${PRETRAIN_SECONDS:-}" ]]; then
  mkdir -p "$WORK/mlm"
  # shellcheck disable=SC2086
  python3 train/pipeline.py --name mlm --trees "$trees" --depth "$depth" $shape --data "$DATA" --stream "$STREAM" \
    --work "$WORK/mlm" --stage pretrain --init "$init" --seconds "$PRETRAIN_SECONDS" ${PRETRAIN_ARGS:-} \
    >"$WORK/mlm/log.txt" 2>&1 || { tail -n 20 "$WORK/mlm/log.txt"; exit 1; }
  tail -n 2 "$WORK/mlm/log.txt"
  init="$WORK/mlm/weights.q8.npz"
  arch="$WORK/mlm/results.json"
  # PRETRAIN_ARGS may change the shape (--layers 8 --init-stack: a deeper teacher): the jobs take the new one
  read -r trees depth shape < <(mlm_shape "$arch")
fi
pids=() names=()
for v in "$@"; do
  name=${v%%|*}
  extra=${v#*|}
  mkdir -p "$WORK/$name"
  # shellcheck disable=SC2086
  python3 train/pipeline.py --name "$name" --trees "$trees" --depth "$depth" $shape --data "$DATA" --stream "$STREAM" \
    --work "$WORK/$name" --stage finetune --init "$init" --ft-seconds "$seconds" $extra >"$WORK/$name/log.txt" 2>&1 &
  pids+=($!) names+=("$name")
done
if [[ -n "$EMBED_NAME" ]]; then
  mkdir -p "$WORK/$EMBED_NAME"
  # shellcheck disable=SC2086
  python3 train/embed.py --init "$init" --arch "$arch" --data "$DATA/embed.json.xz" \
    --work "$WORK/$EMBED_NAME" --seconds "$seconds" ${EMBED_ARGS:-} >"$WORK/$EMBED_NAME/log.txt" 2>&1 &
  pids+=($!)
fi
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
for n in "${names[@]}" $EMBED_NAME; do echo "== $n"; tail -n 3 "$WORK/$n/log.txt"; done
# the best classifier by SST-2 dev f32 first, then the embedding model, then the other classifiers
mapfile -t ranked < <(python3 - "$WORK" "${names[@]}" <<'PY'
import json, os, sys
work, names = sys.argv[1], sys.argv[2:]

def dev(name):
    try:
        return json.load(open(os.path.join(work, name, "results.json")))["evaluations"]["sst2_dev_f32"]
    except (OSError, KeyError):
        return -1.0

ranked = sorted(names, key=dev, reverse=True)
print("classifiers by SST-2 dev f32:", [(n, round(dev(n), 4)) for n in ranked], file=sys.stderr)
print("\n".join(ranked))
PY
)
# shellcheck disable=SC2086
python3 train/pack_out.py "$WORK" "$OUT" "${ranked[0]}" $EMBED_NAME ${PRETRAIN_SECONDS:+mlm} "${ranked[@]:1}"
exit $status
