#!/usr/bin/env bash
# Stage the Market-1501 training data for a call on the lent device machine and check the payload fits.
# The device tool sends the working tree (tracked + untracked, not ignored files) plus the carried paths,
# 64 MiB at most; ../shared does not travel. This copies what a training call reads into the ignored
# .device_data/market1501 (remove it afterwards: Market images never enter the project) and prints the total.
# Usage: bash scripts/stage_device.sh flow|gen [MARKET] [START]
#   flow: the annotation CSV only; gen: + bounding_box_train. Both generators do not fit beside the images, so
#   for gen the weights are cut to the one a run starts from: START = generator (default, kept as is) or
#   generator_ssim (copied over generator.safetensors / .json, which the GPU scripts start from); the other pair
#   leaves the tree (generator_ssim.* deleted; git has them).
#   restore: puts the shipped weights back from git and removes .device_data.
# Then: device call with carry [".device_data"] and MARKET=.device_data/market1501 (scripts/train_market_gpu*.sh).
# Over the limit, it names the largest tracked files.
set -euo pipefail
what=${1:?flow, gen or restore}; MARKET=${2:-../shared/data/market1501}; START=${3:-generator}
DEST=.device_data/market1501; W=diaflow_core/weights
if [ "$what" = restore ]; then
  git checkout -- "$W" && rm -rf .device_data && git status --short "$W" && echo "weights restored, .device_data removed"
  exit 0
fi
LIMIT=$((64 * 1024 * 1024))
[ -f "$MARKET/market-annotation-train.csv" ] || { echo "no $MARKET/market-annotation-train.csv" >&2; exit 2; }
mkdir -p "$DEST"
cp "$MARKET/market-annotation-train.csv" "$DEST/"
case "$what" in
  flow) rm -rf "$DEST/bounding_box_train" ;;
  gen) rm -rf "$DEST/bounding_box_train"; cp -r "$MARKET/bounding_box_train" "$DEST/"
    case "$START" in
      generator) ;;
      generator_ssim) cp "$W/generator_ssim.safetensors" "$W/generator.safetensors"
        cp "$W/generator_ssim.json" "$W/generator.json" ;;
      *) echo "unknown START '$START' (generator or generator_ssim)" >&2; exit 2 ;;
    esac
    rm -f "$W/generator_ssim.safetensors" "$W/generator_ssim.json"
    echo "generator for the call: $START (undo with: bash scripts/stage_device.sh restore)" ;;
  *) echo "unknown stage '$what' (flow or gen)" >&2; exit 2 ;;
esac
# `; true`: a tracked file deleted above has no size, and pipefail would end the script here
tree=$(git ls-files -z -co --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}'; true)
data=$(find .device_data -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
total=$((tree + data))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "tree $(mib "$tree") + .device_data $(mib "$data") = $(mib "$total") (limit 64 MiB)"
if [ "$total" -gt "$LIMIT" ]; then
  echo "over the limit by $(mib $((total - LIMIT))); largest files in the tree:" >&2
  git ls-files -z -co --exclude-standard | xargs -0 -r stat -c '%s %n' | sort -rn | head -5 >&2 || true
  exit 1
fi
