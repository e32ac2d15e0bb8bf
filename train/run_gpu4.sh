#!/usr/bin/env bash
# GPU call that starts a new FFF tree shape from a trained model and trains embedding variants beside it:
#   1. train/bench_fff.py: one FFF layer's forward+backward, masked against gathered, on this GPU; the faster
#      mode for the new shape is the one its pretraining uses;
#   2. train/pipeline.py --stage pretrain --init-partial: MLM pretraining of the new shape warm-started from the
#      MLM in DATA (embeddings, attention and norms loaded, FFF fresh);
#   3. train/embed.py variants from the same MLM, side by side (one per "name|extra args" entry).
# Run from the repository root with DATA carried, holding mlm.q8.npz.xz[.NNN parts], mlm-results.json,
# pretrain-meta.json, reviews.u16.xz, val_reviews.u16.xz, wikitext_val.u16.xz, embed.json.xz:
#   DATA=.data/call4 bash train/run_gpu4.sh "ufb-mlm-1x11:1:11" 430 400 "embed-a|--pair-sources qnli,mrpc" ...
# $2: pretraining seconds, $3: seconds each embedding job may train. $1 = "-" skips steps 1 and 2 (the embedding
# variants alone, from DATA's MLM; then DATA needs only mlm.q8.npz.xz, mlm-results.json and embed.json.xz):
#   DATA=.data/call14 bash train/run_gpu4.sh - 0 400 "embed-base|" "embed-wn|--pair-sources mrpc,wordnet"
# Returned in $OUT: results.tar.xz, the
# bench table, the new MLM as <name>.q8.npz.xz.NNN parts, then the embedding variants by retrieval-dev R@10 +
# STS-B dev Spearman while the size limits allow.
set -uo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-out}
WORK=${WORK:-/tmp/ufb4}
DATA=${DATA:-.data/call4}
PRETRAIN_ARGS=${PRETRAIN_ARGS:---batch 512 --lr 8e-4 --warmup 300}
pname=""
[[ "$1" == "-" ]] || IFS=: read -r pname trees depth <<<"$1"
pseconds=$2
eseconds=$3
shift 3
mkdir -p "$OUT" "$WORK"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
init="$WORK/mlm.q8.npz.xz"
if compgen -G "$DATA/mlm.q8.npz.xz.*" >/dev/null; then cat "$DATA"/mlm.q8.npz.xz.* >"$init"; else cp "$DATA/mlm.q8.npz.xz" "$init"; fi

pids=() names=()
if [[ -n "$pname" ]]; then
  (cd train && timeout 120 python3 bench_fff.py --shapes "2x9,${trees}x${depth}") | tee "$OUT/bench_fff.txt"
  mode=$(tail -n 1 "$OUT/bench_fff.txt" | python3 -c "import json,sys; r=json.load(sys.stdin)['rows'][-1]; print('gathered' if r['gathered_ms'] < r['masked_ms'] else 'masked')" 2>/dev/null || echo masked)
  echo "pretraining ${trees}x${depth} with --fff-train $mode"
  mkdir -p "$WORK/$pname"
  # shellcheck disable=SC2086
  python3 train/pipeline.py --name "$pname" --trees "$trees" --depth "$depth" --data "$DATA" --work "$WORK/$pname" \
    --stage pretrain --init "$init" --init-partial --fff-train "$mode" --seconds "$pseconds" $PRETRAIN_ARGS \
    >"$WORK/$pname/log.txt" 2>&1 &
  pids+=($!)
fi
for v in "$@"; do
  name=${v%%|*}
  extra=${v#*|}
  mkdir -p "$WORK/$name"
  # shellcheck disable=SC2086
  python3 train/embed.py --init "$init" --arch "$DATA/mlm-results.json" --data "$DATA/embed.json.xz" \
    --work "$WORK/$name" --seconds "$eseconds" $extra >"$WORK/$name/log.txt" 2>&1 &
  pids+=($!) names+=("$name")
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
for n in $pname "${names[@]}"; do echo "== $n"; tail -n 3 "$WORK/$n/log.txt"; done
mapfile -t ranked < <(python3 - "$WORK" "${names[@]}" <<'PY'
import json, os, sys
work, names = sys.argv[1], sys.argv[2:]

def score(name):
    try:
        s = json.load(open(os.path.join(work, name, "results.json")))["selected"]
        return s["spearman_f32"] + s.get("retrieval_dev_f32", {}).get("recall_at_10", 0.0)
    except (OSError, KeyError):
        return -1.0

ranked = sorted(names, key=score, reverse=True)
print("embedding variants by STS-B dev + retrieval dev R@10:", [(n, round(score(n), 4)) for n in ranked], file=sys.stderr)
print("\n".join(ranked))
PY
)
# shellcheck disable=SC2086
python3 train/pack_out.py "$WORK" "$OUT" $pname "${ranked[@]}"
exit $status
