#!/usr/bin/env bash
# Trains and calibrates a shipped letter network from the handwriting folder.
#   scripts/train.sh latin     letters.onnx + letters.json   (about an hour on 2 cores)
#   scripts/train.sh cyrillic  cyrillic.onnx + cyrillic.json (about 55 minutes on 2 cores with bfloat16)
# Torch lives in its own environment (.venv-train); the package never needs it.
set -euo pipefail
cd "$(dirname "$0")/.."
script=${1:-latin}
data=${PETITIONSCAN_HANDWRITING:-../shared/handwriting}
train=.venv-train/bin/python
if [ ! -x "$train" ]; then
  python3 -m venv .venv-train
  .venv-train/bin/pip install -q torch==2.13.0 numpy opencv-python-headless onnx onnxruntime pillow
fi
case "$script" in
  latin)
    # Fine-tunes the pen-stroke network (training/base) on pen strokes and pen-on-paper capitals.
    "$train" training/train_letters.py --data "$data" --out build/letters --seed 7 \
      --init training/base/letters-strokes.onnx --reps 4 --paper-reps 4 --lr 1e-3 --batch 512 --workers 2 --time-budget 2100
    cp build/letters/letters.onnx petitionscan/recognize/letters.onnx
    ;;
  cyrillic)
    # Two networks trained apart (other weights at the start, other batches) on the same renders,
    # side by side, one core each, then joined into one file that averages their calibrated
    # probabilities. 32 epochs each; the budget only caps a slow machine (the schedule then
    # follows the time left). bfloat16 where the CPU has it natively, else fp32 (slower: the cap
    # then ends training early); TRAIN_DEVICE=cuda on a GPU (a few minutes).
    device=${TRAIN_DEVICE:-cpu}
    precision=fp32
    if [ "$device" != cpu ] || grep -qw -e avx512_bf16 -e amx_bf16 /proc/cpuinfo 2>/dev/null; then precision=bf16; fi
    common=(--script cyrillic --data "$data" --seed 7 --rendered build/cyrillic-rendered.npz --made-letters
      --reps 3 --paper-reps 4 --per-class 1500 --lr 3e-3 --batch 512)
    rm -f build/cyrillic-rendered.npz  # rendered once, from the data as it is now
    "$train" training/train_letters.py "${common[@]}" --out build/cyrillic-1 --workers 2 --render-only
    pids=()
    for member in 1 2; do
      OMP_NUM_THREADS=1 "$train" training/train_letters.py "${common[@]}" --out "build/cyrillic-$member" \
        --member-seed $((6 + member)) --epochs 32 --precision "$precision" --device "$device" --workers 1 \
        --time-budget "${CYRILLIC_BUDGET:-4200}" > "build/cyrillic-$member.out" 2>&1 &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    "$train" training/ensemble.py --members build/cyrillic-1 build/cyrillic-2 --rendered build/cyrillic-rendered.npz \
      --average probabilities --out build/cyrillic
    cp build/cyrillic/letters.onnx petitionscan/recognize/cyrillic.onnx
    ;;
  *) echo "usage: scripts/train.sh latin|cyrillic" >&2; exit 2 ;;
esac
.venv/bin/python training/calibrate.py --script "$script" --data "$data"
