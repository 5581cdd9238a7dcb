#!/usr/bin/env bash
# The paper's generator ablations at one training budget: "w/o pixel warping" (the reference recipe, what ships),
# "w/o dual encoder", "w/o flow", "w/o visibility"; each from scratch with the same seed, data, batch and seconds,
# compared on the validation pairs of held-out training identities that every run logs each epoch (the test
# images are too large to travel to a lent device beside the training images). On a GPU the four run at once
# (none fills an H100 alone); on a CPU one after another. "full" = the pixel-warping stage on top of the
# reference: scripts/train_market_gpu.sh with PW_S.
# Usage: S=600 MARKET=.device_data/market1501 OUT=$OUT [DEVICE=cuda] [BS=32] [W=3] [EPOCHS=E] [EXTRA='-s ...'] \
#          bash scripts/train_ablations.sh
# S: seconds each (equal compute: the cheaper variants take more steps); EPOCHS=E instead trains each for E
# epochs (equal steps, the paper's kind of comparison; S then only caps a run).
# Results (5 files): $OUT/<variant>_stats.jsonl, $OUT/ablations.json (per variant: best validation SSIM, its
# masked SSIM and L1, epoch, steps, seconds, device), the log in $OUT/log.txt.
set -uo pipefail
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 YOLO_OFFLINE=1 NO_ALBUMENTATIONS_UPDATE=1
S=${S:-600}; DEVICE=${DEVICE:-cuda}; BS=${BS:-32}; W=${W:-3}; MARKET=${MARKET:-../shared/data/market1501}
OUT=${OUT:-out/ablations}; RUNS=${RUNS:-/tmp/runs_ablations}; EXTRA=${EXTRA:-}; PY=${PY:-python3}
[ -n "${EPOCHS:-}" ] && EXTRA="-s optim.epochs=$EPOCHS $EXTRA"
CLI="$PY -m reid_augment.cli.app"
declare -A RECIPE=([no_pixel_warp]=market1501_generator [no_dual]=market1501_generator_no_dual
  [no_flow]=market1501_generator_no_flow [no_vis]=market1501_generator_no_vis)
mkdir -p "$OUT" "$RUNS"
run() {  # variant
  $CLI train generator -r "recipes/${RECIPE[$1]}.yaml" -o "$RUNS/$1" --data "$MARKET" --device "$DEVICE" \
    --time-budget "$S" -s optim.batch_size="$BS" -s num_workers="$W" -s log_every=100 $EXTRA > "$RUNS/$1.log" 2>&1
  echo "$1: rc $?" >> "$RUNS/rc.txt"
}
rm -f "$RUNS/rc.txt"
t0=$(date +%s)
for v in no_pixel_warp no_dual no_flow no_vis; do
  if [ "$DEVICE" = cpu ]; then run "$v"; else run "$v" & fi
done
wait
echo "all variants done in $(( $(date +%s) - t0 )) s"
for v in no_pixel_warp no_dual no_flow no_vis; do cp "$RUNS/$v/stats.jsonl" "$OUT/${v}_stats.jsonl" 2>/dev/null; done
{ cat "$RUNS/rc.txt"; for v in no_pixel_warp no_dual no_flow no_vis; do echo "=== $v"; grep -v "━" "$RUNS/$v.log" | tail -15; done; } \
  > "$OUT/log.txt"
$PY - "$OUT" "$S" "$BS" "$DEVICE" <<'SUMMARY'
import json, sys
from pathlib import Path
out, budget, batch, device = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = {}
for v in ("no_pixel_warp", "no_dual", "no_flow", "no_vis"):
    f = out / f"{v}_stats.jsonl"
    recs = [json.loads(line) for line in f.read_text().splitlines()] if f.is_file() else []
    vals = [r for r in recs if "val" in r]
    steps = max((r.get("step", 0) for r in recs), default=0)
    best = max(vals, key=lambda r: r["val"]["ssim"], default=None)
    rows[v] = {"steps": steps, "validations": len(vals)} | (
        {"best_epoch": best["epoch"], **{k: best["val"][k] for k in ("ssim", "masked_ssim", "l1", "pairs")}} if best else {}
    )
report = {"budget_s_each": budget, "batch": batch, "device": device, "variants": rows}
(out / "ablations.json").write_text(json.dumps(report, indent=1) + "\n")
print(f"{'variant':15s} {'steps':>6s} {'val SSIM':>9s} {'masked':>7s} {'L1':>7s}")
for v, r in rows.items():
    print(f"{v:15s} {r['steps']:6d} " + (f"{r['ssim']:9.4f} {r['masked_ssim']:7.4f} {r['l1']:7.4f}" if "ssim" in r else "  no validation"))
SUMMARY
