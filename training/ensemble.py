"""Join letter networks trained apart into one ONNX file that averages their logits.

    .venv-train/bin/python training/ensemble.py --members build/letters-a build/letters-b \\
        --rendered build/rendered.npz --out build/letters

Two networks of the same shape that started from different weights make
different mistakes; the mean of their logits is right more often than
either, and, which matters more for automatic acceptance, it is sure of
itself less often when it is wrong. Joined into one graph, the reader
loads and runs it as it runs one network (one session, one call per page).
The temperature is fitted anew on the validation renders the members were
trained with (``--rendered``), and ``train.json`` in ``--out`` holds it with
the members' own training records, for ``calibrate.py``.

``--average probabilities`` (the shipped Cyrillic pair) averages the
members' calibrated probabilities instead of their logits: the mean of
logits follows whichever member is surer, the mean of probabilities stays
doubtful where they disagree, and that is what automatic acceptance needs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_letters import PRIOR_KEYS, ece, fit_temperature

INPUT, OUTPUT = "glyphs", "logits"


def join(paths: list[Path], temperatures: list[float] | None = None) -> onnx.ModelProto:
    """One graph: the shared input goes to every member, the output is their mean logits.

    With ``temperatures`` (each member's own), the output is instead the log of
    the mean of the members' calibrated probabilities: where the members
    disagree the mean stays doubtful, where the mean of logits follows the
    surer member.
    """
    first = onnx.load(str(paths[0]))
    nodes, inits, outs = [], [], []
    for k, path in enumerate(paths):
        g = onnx.load(str(path)).graph
        if [i.name for i in g.input] != [INPUT] or [o.name for o in g.output] != [OUTPUT]:
            raise SystemExit(f"{path}: not a letter network (inputs {INPUT!r}, outputs {OUTPUT!r})")

        def rename(name: str, k: int = k) -> str:
            return name if name in (INPUT, "") else f"m{k}/{name}"

        for init in g.initializer:
            init.name = rename(init.name)
            inits.append(init)
        for node in g.node:
            node.input[:] = [rename(n) for n in node.input]
            node.output[:] = [rename(n) for n in node.output]
            node.name = rename(node.name or f"{node.op_type}{len(nodes)}")
            nodes.append(node)
        outs.append(rename(OUTPUT))
    inits.append(helper.make_tensor("ensemble/scale", TensorProto.FLOAT, [], [1.0 / len(paths)]))
    terms = outs
    if temperatures is not None:
        terms = []
        for k, (out, t) in enumerate(zip(outs, temperatures, strict=True)):
            inits.append(helper.make_tensor(f"ensemble/inv_t{k}", TensorProto.FLOAT, [], [1.0 / t]))
            nodes.append(
                helper.make_node("Mul", [out, f"ensemble/inv_t{k}"], [f"ensemble/z{k}"], name=f"ensemble/T{k}")
            )
            nodes.append(
                helper.make_node("Softmax", [f"ensemble/z{k}"], [f"ensemble/p{k}"], axis=-1, name=f"ensemble/P{k}")
            )
            terms.append(f"ensemble/p{k}")
    mean = OUTPUT if temperatures is None else "ensemble/mean"
    nodes.append(helper.make_node("Sum", terms, ["ensemble/sum"], name="ensemble/Sum"))
    nodes.append(helper.make_node("Mul", ["ensemble/sum", "ensemble/scale"], [mean], name="ensemble/Mul"))
    if temperatures is not None:
        nodes.append(helper.make_node("Log", [mean], [OUTPUT], name="ensemble/Log"))
    graph = helper.make_graph(nodes, "letters-ensemble", list(first.graph.input), list(first.graph.output), inits)
    model = helper.make_model(graph, opset_imports=list(first.opset_import))
    model.ir_version = first.ir_version
    onnx.checker.check_model(model)
    return model


def logits_of(path: Path, x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    out = [
        sess.run(None, {INPUT: (x[i : i + 4096, None] / 255.0).astype(np.float32)})[0] for i in range(0, len(x), 4096)
    ]
    return np.concatenate(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=Path, nargs="+", required=True, help="training output folders")
    ap.add_argument("--rendered", type=Path, required=True, help="the members' rendered glyphs (validation part)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument(
        "--average",
        choices=("logits", "probabilities"),
        default="logits",
        help="mean of the logits, or of the members' calibrated probabilities (their own temperatures)",
    )
    args = ap.parse_args()
    t0 = time.time()
    metas = [json.loads((m / "train.json").read_text()) for m in args.members]
    if len({tuple(m["classes"]) for m in metas}) != 1:
        raise SystemExit("the members read different classes")
    with np.load(args.rendered) as cached:
        xva, yva, pva = cached["xva"], cached["yva"], cached["pva"]
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = args.out / "letters.onnx.tmp"
    temperatures = [float(m["temperature"]) for m in metas] if args.average == "probabilities" else None
    onnx.save(join([m / "letters.onnx" for m in args.members], temperatures), str(tmp))
    logits = logits_of(tmp, xva)
    os.replace(tmp, args.out / "letters.onnx")

    def accuracy(z: np.ndarray) -> dict[str, float]:
        right = z.argmax(1) == yva
        return {"all": float(right.mean()), "tablet": float(right[~pva].mean()), "paper": float(right[pva].mean())}

    for m in args.members:
        print(f"member {m}: val {accuracy(logits_of(m / 'letters.onnx', xva))}", flush=True)
    acc = accuracy(logits)
    temperature = fit_temperature(logits, yva)
    z = logits / temperature
    probs = np.exp(z - z.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    print(f"ensemble: val {acc} temperature {temperature:.3f} ECE {ece(probs, yva):.4f}", flush=True)
    meta = {
        "classes": metas[0]["classes"],
        "input_size": metas[0]["input_size"],
        "temperature": temperature,
        # The members trained on the same renders: their class shares are one.
        **{k: metas[0][k] for k in PRIOR_KEYS if k in metas[0]},
        "val_letter_accuracy": acc["all"],
        "val_letter_accuracy_by_source": f"tablet {acc['tablet']:.4f} paper {acc['paper']:.4f}",
        "val_ece_calibrated": ece(probs, yva),
        "ensemble_of": len(metas),
        "ensemble_average": args.average,
        "parameters": sum(int(m["parameters"]) for m in metas),
        "members": [{k: v for k, v in m.items() if k not in ("classes", "input_size")} for m in metas],
        "seconds": round(time.time() - t0, 1),
    }
    (args.out / "train.json").write_text(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
