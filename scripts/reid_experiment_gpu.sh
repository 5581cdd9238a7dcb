#!/usr/bin/env bash
# Issue 7, part 4: does pose-transfer augmentation help re-ID? Everything in ONE GPU call of < 10 minutes.
#   1. unpack the carried Market-1501 data (../shared does not travel to the GPU machine: see "pack")
#   2. reid-augment augment: K samples per training image with the shipped pose-transfer weights
#      (--pose-backend annotations: the dataset's keypoint CSV, no mediapipe needed there)
#   3. reid-augment reid-experiment: one recipe (recipes/reid_market1501.yaml), same seeds, on
#      (a) bounding_box_train and (b) bounding_box_train + the generated samples; checkpoint chosen on
#      held-out TRAINING ids; test = query vs bounding_box_test; identity preservation with the arm-a models.
#      PARALLEL=1: three processes share the GPU -- (a) seed 0 then seed 1, (b) seed 0, (b) seed 1 -- since
#      one small ResNet-18 run leaves the GPU mostly idle (per-iteration overhead, not FLOPs, bounds it).
#   4. the merged report $OUT/reid_experiment.json, the logs, and the runs' small files.
#
# Usage. On the CPU machine, once (writes .device_data/reid/market_reid.tar.xz, ~35 MB; lossless):
#     bash scripts/reid_experiment_gpu.sh pack
#   then one device call with carry [".device_data/reid"]:
#     OUT=$OUT bash scripts/reid_experiment_gpu.sh
#   With the data already on disk: MARKET=/path/to/market1501 OUT=... bash scripts/reid_experiment_gpu.sh
#
# GPU time estimate (colleague's H200 numbers: resnet18 at 128x64, ~2 s per epoch over ~8.5k images):
#   unpack + query rebuild ~10 s; augment K=1 (9,399 samples; ~1-3 ms CPU work each, the generator is
#   cheap at batch 256) ~30-60 s; training 40 epochs: (a) ~85 s per seed, (b) ~170 s per seed (twice the
#   images), in 3 parallel processes ~3-4 min allowing for contention; test + identity evaluation ~1 min.
#   Command ~5-6 min (TOTAL_S=540 caps it; finished arms are kept if it runs out), plus machine start and
#   transfers ~2 min: ~8 of the 15 device minutes. PARALLEL=0 (one process) would need ~10-11 min: too long
#   for one call. K=2 adds ~170 s per (b) run: only with PARALLEL=1 and a raised TOTAL_S (max ~570).
#
# Carry size (limit 64 MiB with the working tree, whose shipped weights are ~25 MB of ~26 MB): the raw
#   folders are train 22.8 MB, test 27.7 MB, query 7.1 MB (du -sb): too much. The pack leaves out query/
#   (each query image is a byte-identical copy of a bounding_box_test image: rebuilt from query.txt) and
#   the 1,485 junk (-1) gallery images (3.7 MB; the protocol never scores them), and xz shares the JPEG
#   headers across the small files: ~34.6 MB, every image byte-identical (no recompression: the benchmark
#   is unchanged).
# Output ($OUT, at most 8 files come back): reid_experiment.json, logs.tgz (augment.log and log_*.txt, one per
#   process; left loose if the call is cut short), augment_preview.png, runs_small.tgz (arm.json,
#   stats.jsonl, config.json of every arm).
# Env knobs: MARKET, PACK, WORK, OUT, K, SEEDS (comma list), EPOCHS, DEVICE, WORKERS, THREADS, AUG_BS,
#   TOTAL_S, AUG_S, PARALLEL, RECIPE, PY; EXTRA_EXP (more reid-experiment options for every call, e.g.
#   "--generated-smoothing 1.0" or "--max-generated 1": arm a stays the plain run); CONTROL=1 (with PARALLEL=1:
#   also the control arm (c) of every seed, one more process each); EXTRA_AUG (more augment options, e.g.
#   "--views any": view changes too; the default, same, keeps the source's view class, which keeps identity best).
set -uo pipefail
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 YOLO_OFFLINE=1 NO_ALBUMENTATIONS_UPDATE=1
export COLUMNS=${COLUMNS:-150}  # rich tables in the logs
PACK=${PACK:-.device_data/reid/market_reid.tar.xz}
WORK=${WORK:-/tmp/reid_experiment}; OUT=${OUT:-out/reid_gpu}
K=${K:-1}; SEEDS=${SEEDS:-0,1}; EPOCHS=${EPOCHS:-}; DEVICE=${DEVICE:-cuda}
WORKERS=${WORKERS:-4}; THREADS=${THREADS:-4}; AUG_BS=${AUG_BS:-256}
TOTAL_S=${TOTAL_S:-540}; AUG_S=${AUG_S:-150}; PARALLEL=${PARALLEL:-1}; EXTRA_EXP=${EXTRA_EXP:-}; CONTROL=${CONTROL:-0}
EXTRA_AUG=${EXTRA_AUG:-}
RECIPE=${RECIPE:-recipes/reid_market1501.yaml}
PY=${PY:-python3}; CLI="$PY -m reid_augment.cli.app"

pack() {  # on the CPU machine: train + test (junk left out) + train keypoints + the query name list
  local src=${MARKET:-../shared/data/market1501} tmp
  tmp=$(mktemp -d)
  ls "$src/query" | sort > "$tmp/query.txt"
  mkdir -p "$(dirname "$PACK")"
  tar -C "$src" --sort=name --exclude='bounding_box_test/-1_*' -cf - bounding_box_train bounding_box_test \
    market-annotation-train.csv -C "$tmp" query.txt | xz -T2 -6 > "$PACK" || exit 1
  echo "$PACK: $(stat -c %s "$PACK") bytes, $(wc -l < "$tmp/query.txt") query names"
  rm -rf "$tmp"
}

unpack() {  # on the GPU machine: $1 = destination Market root
  local dest=$1
  mkdir -p "$dest/query"
  tar -xJf "$PACK" -C "$dest" 2>/dev/null || $PY -c "import sys, tarfile
tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter='data')" "$PACK" "$dest" || exit 1
  (cd "$dest/bounding_box_test" && xargs -a ../query.txt cp -t ../query/) || exit 1
}

count() { ls "$1" 2>/dev/null | wc -l; }

if [ "${1:-run}" = "pack" ]; then pack; exit 0; fi
if [ "${1:-run}" = "unpack" ]; then unpack "${2:?unpack DEST}"; exit 0; fi

T0=$(date +%s)
left() { echo $(( TOTAL_S - ($(date +%s) - T0) )); }
mkdir -p "$OUT" "$WORK"; OUT=$(cd "$OUT" && pwd)
$PY -c "
import importlib.util, torch
print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')
print('triplet loss:', 'pytorch-metric-learning' if importlib.util.find_spec('pytorch_metric_learning') else 'built-in fallback')
import reid_augment.cli.app, diaflow_core.reid.experiment" || exit 1

# 1. data
if [ -z "${MARKET:-}" ]; then
  MARKET="$WORK/market1501"
  if [ ! -d "$MARKET/bounding_box_train" ]; then unpack "$MARKET"; fi
fi
echo "data $MARKET: train $(count "$MARKET/bounding_box_train"), test $(count "$MARKET/bounding_box_test")," \
  "query $(count "$MARKET/query") images; $(( $(date +%s) - T0 )) s"

# 2. augment (resumable: a rerun skips what manifest.csv lists)
AUG="$WORK/augmented_k$K${EXTRA_AUG:+_$(printf %s "$EXTRA_AUG" | tr -c 'a-zA-Z0-9' _)}"  # options: own folder
timeout -k 10 "$AUG_S" $CLI augment "$MARKET" --out "$AUG" --per-image "$K" --pose-backend annotations \
  --device "$DEVICE" --batch-size "$AUG_BS" --originals none $EXTRA_AUG > "$OUT/augment.log" 2>&1
rc=$?
grep -v "━" "$OUT/augment.log" | tail -15
[ -f "$AUG/preview.png" ] && cp "$AUG/preview.png" "$OUT/augment_preview.png"
n_gen=$(count "$AUG/bounding_box_train")
echo "augment rc=$rc: $n_gen generated samples; $(( $(date +%s) - T0 )) s"
[ "$n_gen" -gt 0 ] || exit 1

# 3. the experiment
RUNS="$WORK/runs_k$K"
budget=$(( $(left) - 40 ))
common=(--data "$MARKET" --augmented "$AUG" --out "$RUNS" --device "$DEVICE" --config "$RECIPE"
  --workers "$WORKERS" --threads "$THREADS")
[ -n "$EPOCHS" ] && common+=(--epochs "$EPOCHS")
# shellcheck disable=SC2206  # options as words, on purpose
[ -n "$EXTRA_EXP" ] && common+=($EXTRA_EXP)
echo "experiment: seeds $SEEDS, budget $budget s, parallel=$PARALLEL"
if [ "$PARALLEL" = "1" ]; then
  timeout -k 10 "$budget" $CLI reid-experiment "${common[@]}" --seeds "$SEEDS" --arms baseline \
    --time-budget "$budget" > "$OUT/log_baseline.txt" 2>&1 &
  arms_b=augmented; [ "$CONTROL" = "1" ] && arms_b="augmented repeated"
  for s in ${SEEDS//,/ }; do
    for arm in $arms_b; do
      timeout -k 10 "$budget" $CLI reid-experiment "${common[@]}" --seeds "$s" --arms "$arm" \
        > "$OUT/log_${arm}_seed$s.txt" 2>&1 &
    done
  done
  wait
else
  timeout -k 10 "$budget" $CLI reid-experiment "${common[@]}" --seeds "$SEEDS" --time-budget "$budget" \
    > "$OUT/log_experiment.txt" 2>&1
fi
echo "training and evaluation done; $(( $(date +%s) - T0 )) s"

# 4. the merged report
$CLI reid-experiment "${common[@]}" --seeds "$SEEDS" --summarize-only --json "$OUT/reid_experiment.json" 2>&1
(cd "$RUNS" && tar czf "$OUT/runs_small.tgz" $(ls seed*/*/arm.json seed*/*/stats.jsonl seed*/*/config.json 2>/dev/null))
(cd "$OUT" && tar czf logs.tgz augment.log log_*.txt && rm -f augment.log log_*.txt)  # 5+ logs: one file back
echo "total $(( $(date +%s) - T0 )) s"
