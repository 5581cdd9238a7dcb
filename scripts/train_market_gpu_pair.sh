#!/usr/bin/env bash
# Flow regressor and generator side by side on ONE GPU, each for S seconds, both continuing from the shipped
# weights with a weight average (what session 11 ran on a lent H200: neither net fills the GPU alone, so two
# runs at once cost one call). The generator uses the shipped flow regressor, not the one trained beside it.
# Usage on the device machine (data staged as scripts/train_market_gpu.sh says):
#   S=380 W=7 MARKET=.device_data/market1501 OUT=$OUT bash scripts/train_market_gpu_pair.sh
# Results: $OUT/f (flow: weights/, flow_stats.jsonl), $OUT/g (generator: weights/, gen_stats.jsonl, last
# validation grid), $OUT/log.txt. EXTRA_FLOW / EXTRA_GEN add -s overrides to each (later ones win); the generator
# starts from the shipped generator.safetensors (identity-tuned): EXTRA_GEN="-s init_weights=<generator_ssim>" to
# continue the SSIM-tuned one instead. FLOW_TUNE=1 / GEN_TUNE=1 / FLOW_CLEAN=1 reach scripts/train_market_gpu.sh (bf16 / layout
# picked by a one-minute benchmark on the device; flow on unaugmented pairs; see there).
set -u
S=${S:-380}; DEV=${DEVICE:-cuda}; W=${W:-7}; MARKET=${MARKET:-../shared/data/market1501}; OUT=${OUT:-out/gpu_pair}
EXTRA_FLOW="-s optim.lr_step_epochs=10 ${EXTRA_FLOW:-}"
EXTRA_GEN="-s loss.gan_start_epoch=1000 -s optim.ema_decay=0.999 -s optim.lr_step_epochs=8 ${EXTRA_GEN:-}"
mkdir -p "$OUT/f" "$OUT/g"
( CONTINUE=1 FLOW_S=$S GEN_S=0 DEVICE=$DEV WORKERS=$W MARKET=$MARKET OUT=$OUT/f RUNS=/tmp/runs_pair_f \
  EXTRA_FLOW="$EXTRA_FLOW" bash scripts/train_market_gpu.sh > /tmp/pair_f.log 2>&1 ) &
flow_pid=$!
sleep 5  # the flow stage's renderer check first, alone
CONTINUE=1 FLOW_S=0 GEN_S=$S DEVICE=$DEV WORKERS=$W MARKET=$MARKET OUT=$OUT/g RUNS=/tmp/runs_pair_g \
  EXTRA_GEN="$EXTRA_GEN" bash scripts/train_market_gpu.sh > /tmp/pair_g.log 2>&1
gen_rc=$?
wait $flow_pid; flow_rc=$?
# Only the new weights come back (the device tool returns at most 8 files).
rm -f "$OUT"/g/weights/flow.safetensors "$OUT"/g/weights/flow.json "$OUT"/f/weights/generator.*
{ echo "=== flow (rc $flow_rc)"; cat /tmp/pair_f.log; echo "=== generator (rc $gen_rc)"; cat /tmp/pair_g.log; } > "$OUT/log.txt"
tail -c 5000 /tmp/pair_f.log; tail -c 4000 /tmp/pair_g.log
[ "$flow_rc" = 0 ] && [ "$gen_rc" = 0 ]
