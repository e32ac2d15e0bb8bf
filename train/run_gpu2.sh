#!/usr/bin/env bash
# GPU call of the second-generation recipe (train/pipeline.py): several variants side by side on one GPU,
# then one packed result in $OUT. Run from the repository root with `.data/ufb2` carried.
#   bash train/run_gpu2.sh "ufb-sst2-2x9:2:9 ufb-sst2-1x11:1:11" [pipeline.py arguments for every variant]
# Weights come back as <name>.q8.npz.xz.NNN (15 MiB parts) in the order given, as long as the total stays
# under the tool's 64 MiB; results.tar.xz holds every variant's results.json, predictions.json and log.
set -uo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-out}
WORK=${WORK:-/tmp/ufb2}
mkdir -p "$OUT" "$WORK"
variants=$1
shift
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
pids=()
for v in $variants; do
  IFS=: read -r name trees depth <<<"$v"
  mkdir -p "$WORK/$name"
  # continue a paused pretraining: from the full state when this is still the same machine, else from the
  # int8 MLM the previous call returned (INIT_DIR holds <name>.q8.npz.xz and <name>.resume = "step seconds")
  cont=(--resume "$WORK/$name/stable.pt")
  if [[ ! -f "$WORK/$name/stable.pt" && -n "${INIT_DIR:-}" && -f "$INIT_DIR/$name.q8.npz.xz" ]]; then
    read -r istep isec <"$INIT_DIR/$name.resume"
    cont+=(--init "$INIT_DIR/$name.q8.npz.xz" --init-step "$istep" --init-seconds "$isec")
  fi
  [[ -f "$WORK/$name/log.txt" ]] && mv "$WORK/$name/log.txt" "$WORK/$name/log-previous.txt"
  python3 train/pipeline.py --name "$name" --trees "$trees" --depth "$depth" --data .data/ufb2 \
    --work "$WORK/$name" "${cont[@]}" "$@" >"$WORK/$name/log.txt" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
for v in $variants; do IFS=: read -r name _ <<<"$v"; echo "== $name"; tail -n 4 "$WORK/$name/log.txt"; done
names=()
for v in $variants; do names+=("${v%%:*}"); done
python3 train/pack_out.py "$WORK" "$OUT" "${names[@]}"
exit $status
