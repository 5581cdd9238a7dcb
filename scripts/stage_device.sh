#!/usr/bin/env bash
# Stage the Market-1501 training data for a call on the lent device machine and check the payload fits.
# The device tool sends the working tree (tracked + untracked, not ignored files) plus the carried paths,
# 64 MiB at most; ../shared does not travel. This copies what a training call reads into the ignored
# .device_data/market1501 (remove it afterwards: Market images never enter the project) and prints the total.
# Usage: bash scripts/stage_device.sh flow|gen [MARKET]     (flow: the annotation CSV only; gen: + bounding_box_train)
# Then: device call with carry [".device_data"] and MARKET=.device_data/market1501 (scripts/train_market_gpu*.sh).
# Over the limit, it names the largest tracked files: a call needs only the weights it starts from (e.g. copy
# generator_ssim.safetensors over generator.safetensors and move the _ssim pair out; `git checkout` restores).
set -euo pipefail
what=${1:?flow or gen}; MARKET=${2:-../shared/data/market1501}; DEST=.device_data/market1501
LIMIT=$((64 * 1024 * 1024))
[ -f "$MARKET/market-annotation-train.csv" ] || { echo "no $MARKET/market-annotation-train.csv" >&2; exit 2; }
mkdir -p "$DEST"
cp "$MARKET/market-annotation-train.csv" "$DEST/"
case "$what" in
  flow) rm -rf "$DEST/bounding_box_train" ;;
  gen) rm -rf "$DEST/bounding_box_train"; cp -r "$MARKET/bounding_box_train" "$DEST/" ;;
  *) echo "unknown stage '$what' (flow or gen)" >&2; exit 2 ;;
esac
tree=$(git ls-files -z -co --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
data=$(find .device_data -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
total=$((tree + data))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "tree $(mib "$tree") + .device_data $(mib "$data") = $(mib "$total") (limit 64 MiB)"
if [ "$total" -gt "$LIMIT" ]; then
  echo "over the limit by $(mib $((total - LIMIT))); largest files in the tree:" >&2
  git ls-files -z -co --exclude-standard | xargs -0 -r stat -c '%s %n' | sort -rn | head -5 >&2 || true
  exit 1
fi
