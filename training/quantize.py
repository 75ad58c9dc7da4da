"""Make an 8-bit copy of a shipped letter network, to weigh speed against accuracy.

    .venv-train/bin/python training/quantize.py --script latin --data ../shared/handwriting
    .venv-train/bin/python training/quantize.py --script cyrillic --data ../shared/handwriting

Tried and not shipped (figures in docs/model-card.md, "8-bit networks"):
with 8-bit convolutions onnxruntime reads a page's letters in half the time,
but on pages of real pen-on-paper capitals the names read differently often
enough to lose a few tenths of a point of exact names, and the reader must
not trade accuracy for speed.

Only the convolutions are made 8-bit (static quantisation, weights per
output channel, activation ranges from validation writers' letters rendered
like scans by the training renderer, never a test writer's); the dense layers
and the averaging of the Cyrillic pair stay in float. By default weights use
7 of their 8 bits: on CPUs without integer dot-product instructions
onnxruntime multiplies pairs of 8-bit numbers into 16-bit sums, which
full-range weights can overflow, so only 7-bit weights give every laptop the
same letters as the machine a confidence was fitted on (``--full-range``
lifts that). The script prints how often the 8-bit network picks the same
letter as the float one and the accuracy of both on other validation letters,
and writes the copy to ``build/`` (``--out``); to read pages with it, put it
in place of the shipped file in a copy of the project and refit the field
confidence there (``training/calibrate.py``).
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

import train_letters as tl
from ensemble import INPUT, logits_of

NETWORKS = {"latin": "letters", "cyrillic": "cyrillic"}


def validation_glyphs(script: str, data: Path, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Validation writers' letters, rendered and degraded like scans, cut by the reading code."""
    rng = np.random.default_rng(seed)
    if script == "cyrillic":
        tl.CLASSES = tl.CYRILLIC
        samples = tl.load_cyrillic_set(data, per_class, rng)
    else:
        samples = tl.load_all(data)
    by_class: dict[str, list[tl.Sample]] = defaultdict(list)
    for s in samples:
        if tl.split_of(s.writer, script) == "val":
            by_class[s.label].append(s)
    chosen: list[tl.Sample] = []
    for label in sorted(by_class):
        pool = by_class[label]
        chosen += [pool[int(i)] for i in sorted(rng.permutation(len(pool))[:per_class])]
    return tl.render_set(chosen, 1, seed, 2, plain_share=0.2, marks_share=0.5)


def quantize(
    source: Path,
    target: Path,
    calibration: np.ndarray,
    float_first: bool = False,
    full_range: bool = False,
    unsigned_weights: bool = False,
) -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.at = 0

        def get_next(self) -> dict[str, np.ndarray] | None:
            if self.at >= len(calibration):
                return None
            batch = calibration[self.at : self.at + 256]
            self.at += 256
            return {INPUT: (batch.astype(np.float32) / 255.0)[:, None]}

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared))
        import onnx

        convs = [n.name for n in onnx.load(str(prepared)).graph.node if n.op_type == "Conv"]
        first = [c for c in convs if c.endswith("/0/Conv")]  # each network's first (one per member)
        quantize_static(
            str(prepared),
            str(target),
            Reader(),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["Conv"],
            per_channel=True,
            reduce_range=not full_range,
            nodes_to_exclude=first if float_first else [],
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QUInt8 if unsigned_weights else QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--script", choices=sorted(NETWORKS), default="latin")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "handwriting")
    ap.add_argument("--source", type=Path, help="the float network (default: the shipped one)")
    ap.add_argument("--out", type=Path, help="the 8-bit network (default: build/<name>-int8.onnx)")
    ap.add_argument("--per-class", type=int, default=160, help="validation letters per class (half set the ranges)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--float-first", action="store_true", help="leave each network's first convolution in float")
    ap.add_argument("--full-range", action="store_true", help="8-bit weights (may overflow on CPUs without VNNI)")
    ap.add_argument("--unsigned-weights", action="store_true", help="weights as unsigned 8-bit numbers")
    args = ap.parse_args()
    name = NETWORKS[args.script]
    source = args.source or ROOT / "petitionscan" / "recognize" / f"{name}.onnx"
    out = args.out or ROOT / "build" / f"{name}-int8.onnx"
    out.parent.mkdir(parents=True, exist_ok=True)
    x, y = validation_glyphs(args.script, args.data, args.per_class, args.seed)
    order = np.random.default_rng(args.seed).permutation(len(x))
    calibration, check = order[: len(order) // 2], order[len(order) // 2 :]
    print(f"{len(x)} validation letters: {len(calibration)} set the ranges, {len(check)} check", flush=True)
    quantize(source, out, x[calibration], args.float_first, args.full_range, args.unsigned_weights)
    before = logits_of(source, x[check])
    after = logits_of(out, x[check])
    agree = float((before.argmax(1) == after.argmax(1)).mean())
    acc_before = float((before.argmax(1) == y[check]).mean())
    acc_after = float((after.argmax(1) == y[check]).mean())
    print(
        f"{out}: {out.stat().st_size / 1e6:.2f} MB (float {source.stat().st_size / 1e6:.2f} MB); "
        f"same letter as the float network {agree:.2%}; validation letters {acc_before:.2%} float, "
        f"{acc_after:.2%} 8-bit; logits differ by {np.abs(before - after).mean():.3f} on average"
    )


if __name__ == "__main__":
    main()
