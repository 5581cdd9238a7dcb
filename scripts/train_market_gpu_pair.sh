#!/usr/bin/env bash
# Flow regressor and generator side by side on ONE GPU, each for S seconds, both continuing from the shipped
# weights with a weight average (what session 11 ran on a lent H200: neither net fills the GPU alone, so two
# runs at once cost one call). The generator uses the shipped flow regressor, not the one trained beside it.
# Usage on the device machine (data staged as scripts/train_market_gpu.sh says):
#   S=380 W=7 MARKET=.device_data/market1501 OUT=$OUT bash scripts/train_market_gpu_pair.sh
# EXTRA_FLOW / EXTRA_GEN add -s overrides to each (later ones win); the generator starts from the shipped
# generator.safetensors (scripts/stage_device.sh can put generator_ssim there). EXTRA_GEN2 set (may be " "):
# a second generator arm with those overrides runs beside the first (same start, same base overrides), so
# two loss settings are compared in one call. PAIR_FLOW=0 leaves the flow arm out (generator arms only).
# FLOW_TUNE=1 / GEN_TUNE=1 / FLOW_CLEAN=1 reach
# scripts/train_market_gpu.sh (bf16 / layout picked by a one-minute benchmark on the device; flow on
# unaugmented pairs; see there). Each run is cut at S + 150 s whatever happens, so the results still come back.
# Results (the device tool returns at most 8 files, 16 MiB each): $OUT/f.tar (flow: weights/, flow_stats.jsonl),
# $OUT/g.tar and $OUT/h.tar (generator arms: weights/, gen_stats.jsonl), $OUT/grids.tar (each arm's last
# validation grid), $OUT/log.txt.
set -u
S=${S:-380}; DEV=${DEVICE:-cuda}; W=${W:-7}; MARKET=${MARKET:-../shared/data/market1501}; OUT=${OUT:-out/gpu_pair}
BASE_GEN="-s loss.gan_start_epoch=1000 -s optim.ema_decay=0.999 -s optim.lr_step_epochs=8"
EXTRA_FLOW="-s optim.lr_step_epochs=10 ${EXTRA_FLOW:-}"
EXTRA_GEN="$BASE_GEN ${EXTRA_GEN:-}"
CUT=$((S + 150))
# Two or three trainers and their loader workers share the machine's cores: each trainer's own torch CPU pool is
# kept small (its heavy work is on the GPU) so the pools do not oversubscribe the cores.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
mkdir -p "$OUT/g"
flow_pid=
if [ "${PAIR_FLOW:-1}" = 1 ]; then
  mkdir -p "$OUT/f"
  ( CONTINUE=1 FLOW_S=$S GEN_S=0 DEVICE=$DEV WORKERS=$W MARKET=$MARKET OUT=$OUT/f RUNS=/tmp/runs_pair_f \
    EXTRA_FLOW="$EXTRA_FLOW" timeout $CUT bash scripts/train_market_gpu.sh > /tmp/pair_f.log 2>&1 ) &
  flow_pid=$!
  sleep 5  # the flow stage's renderer check first, alone
else
  echo "flow arm skipped (PAIR_FLOW=0)" > /tmp/pair_f.log
fi
h_pid=
if [ -n "${EXTRA_GEN2+x}" ]; then
  mkdir -p "$OUT/h"
  ( CONTINUE=1 FLOW_S=0 GEN_S=$S DEVICE=$DEV WORKERS=$W MARKET=$MARKET OUT=$OUT/h RUNS=/tmp/runs_pair_h \
    EXTRA_GEN="$BASE_GEN $EXTRA_GEN2" timeout $CUT bash scripts/train_market_gpu.sh > /tmp/pair_h.log 2>&1 ) &
  h_pid=$!
fi
CONTINUE=1 FLOW_S=0 GEN_S=$S DEVICE=$DEV WORKERS=$W MARKET=$MARKET OUT=$OUT/g RUNS=/tmp/runs_pair_g \
  EXTRA_GEN="$EXTRA_GEN" timeout $CUT bash scripts/train_market_gpu.sh > /tmp/pair_g.log 2>&1
gen_rc=$?
flow_rc=0; [ -n "$flow_pid" ] && { wait "$flow_pid"; flow_rc=$?; }
h_rc=0; [ -n "$h_pid" ] && { wait "$h_pid"; h_rc=$?; }
# A run cut by the timeout never reached its export: export its best checkpoint and copy its log here instead.
salvage() {  # ARM STAGE NAME STATS
  local run=/tmp/runs_pair_$1/$2
  [ -f "$OUT/$1/weights/$3.safetensors" ] || [ ! -f "$run/checkpoints/best.pt" ] && return 0
  echo "arm $1 was cut: exporting $run/checkpoints/best.pt" | tee -a "/tmp/pair_$1.log"
  cp "$run/stats.jsonl" "$OUT/$1/$4" 2>/dev/null
  last=$(ls "$run"/val_epoch*.png 2>/dev/null | tail -1); [ -n "$last" ] && cp "$last" "$OUT/$1/gen_val_last.png"
  ${PY:-python3} -m reid_augment.cli.app weights export "$run/checkpoints/best.pt" --name "$3" --dest "$OUT/$1/weights" \
    >> "/tmp/pair_$1.log" 2>&1
}
[ -n "$flow_pid" ] && salvage f flow flow flow_stats.jsonl
salvage g gen generator gen_stats.jsonl
[ -n "$h_pid" ] && salvage h gen generator gen_stats.jsonl
# Only the new weights come back: each run's copy of the weights it did not train goes.
rm -f "$OUT"/[gh]/weights/flow.safetensors "$OUT"/[gh]/weights/flow.json "$OUT"/f/weights/generator.*
{ echo "=== flow (rc $flow_rc)"; cat /tmp/pair_f.log; echo "=== generator (rc $gen_rc)"; cat /tmp/pair_g.log
  [ -n "$h_pid" ] && { echo "=== generator arm 2 (rc $h_rc)"; cat /tmp/pair_h.log; }; } > "$OUT/log.txt"
mkdir -p "$OUT/grids"
for a in g h; do [ -f "$OUT/$a/gen_val_last.png" ] && mv "$OUT/$a/gen_val_last.png" "$OUT/grids/$a.png"; done
for a in f g h grids; do [ -d "$OUT/$a" ] && tar -C "$OUT" -cf "$OUT/$a.tar" "$a" && rm -rf "${OUT:?}/$a"; done
tail -c 4000 /tmp/pair_f.log; tail -c 3000 /tmp/pair_g.log; [ -n "$h_pid" ] && tail -c 3000 /tmp/pair_h.log
[ "$flow_rc" = 0 ] && [ "$gen_rc" = 0 ] && [ "$h_rc" = 0 ]
