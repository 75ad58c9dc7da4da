"""Train the letter classifier shipped as petitionscan/recognize/letters.onnx.

Reproducible from the handwriting folder and a seed:

    .venv-train/bin/python training/train_letters.py \
        --data ../shared/handwriting --out build/letters --seed 7

(CPU works, just slower; ``--device cuda`` on a GPU; ``--quick`` for a tiny smoke
run.) Torch is needed here only: the package runs the exported ONNX file with
OpenCV. Writes ``letters.onnx``, ``letters.pt`` (weights), ``train.json``
(split, temperature, figures) and ``train.log`` into ``--out``.

Writers are split, never samples: UNIPEN labs tos, imp, syn, pri and the whole
UJI set are test writers (never seen here), labs aga and kai are validation
writers (early stopping, temperature), the rest train. The pen-on-paper
capitals (``emnist-upper.npz``) train from the SD19 partition hsf_4; the
other writer population (hsf_0-3) is never trained on: one half of it is
validation, the other half test (see ``paper_split``). A few per cent of the
paper labels are doubtful (a lower-case l in an L box, a 0 for an O): with
``--trim`` the paper letters with the largest loss in each batch are left
out of the gradient once the network has seen every letter once. With ``--fonts`` the
handwriting fonts fetched by training/fetch_fonts.py join as more writers,
one font one writer, those in TEST_FONTS held out for the benchmark; with ``--lowercase``
their lower-case i j k m p u y, labelled as capitals (some people fill capital
boxes with such shapes). Each training letter is
re-rendered many times with a random pen, hand and paper (see
petitionscan.recognize.render) and cut out by the very code that reads sheets.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import itertools

from petitionscan.alphabets import CYRILLIC, LATIN
from petitionscan.recognize.glyph import GLYPH_SIZE, KIND_LETTER, extract_glyphs
from petitionscan.recognize.render import (
    CYRILLIC_AS_LATIN,
    FONT_WRITER,
    KAZAKH_BASES,
    MADE_RUSSIAN,
    RUSSIAN_FROM_LATIN,
    TEST_LABS,
    VALIDATION_LABS,
    Sample,
    cyrillic_split,
    hairline_drawing,
    is_lowercase_l,
    is_paper,
    is_test_font,
    kazakh_capital,
    kazakh_split,
    load_cyrillic_lookalikes,
    load_font_letters,
    load_paper_letters,
    load_stroke_file,
    paper_split,
    render_field,
    russian_capital,
)

CLASSES = LATIN
"""The network's classes: the Latin capitals, or the Cyrillic ones with ``--script cyrillic``."""

_POOL: list[Sample] = []


def split_of(writer: str, script: str = "latin") -> str:
    """train / val / test for a writer id (whole writers, whole labs).

    The Cyrillic drawings all train the Latin network (only their look-alike
    letters, as Latin ones); for the Cyrillic network whole session groups
    are held out.
    """
    if writer.startswith("UJI"):
        return "test"
    if writer.startswith("cyr-"):
        return "train" if script == "latin" else cyrillic_split(writer[4:])
    if writer.startswith("kaz-"):
        return kazakh_split(int(writer[4:]))
    if is_paper(writer):
        return paper_split(writer)
    if writer.startswith(FONT_WRITER):
        return "test" if is_test_font(writer) else "train"
    lab = writer.split("-")[0]
    if lab in TEST_LABS:
        return "test"
    if lab in VALIDATION_LABS:
        return "val"
    return "train"


def cap_per_writer(samples: list[Sample], cap: int, rng: np.random.Generator) -> list[Sample]:
    """At most ``cap`` samples per writer and letter: no writer dominates."""
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for s in samples:
        groups[(s.writer, s.label)].append(s)
    out: list[Sample] = []
    for key in sorted(groups):
        g = groups[key]
        if len(g) > cap:
            idx = rng.choice(len(g), cap, replace=False)
            g = [g[int(i)] for i in sorted(idx)]
        out.extend(g)
    return out


def load_all(data: Path, paper: bool = True) -> list[Sample]:
    samples = load_stroke_file(data / "unipen-strokes.jsonl.gz")
    samples += load_stroke_file(data / "uji1-strokes.jsonl.gz")
    cyr = data / "cyrillic.npz"
    if cyr.exists():
        samples += load_cyrillic_lookalikes(cyr)
    if paper:
        samples += load_paper_letters(data / "emnist-upper.npz")
    return samples


def load_cyrillic_set(data: Path, per_class: int, rng: np.random.Generator, made: str = "") -> list[Sample]:
    """Every Cyrillic capital to train and validate the Cyrillic network on.

    The Russian letters are the CoMNIST drawings (writer = their session
    group). The eleven that look like Latin capitals (А В Е К М Н О Р С Т Х)
    also come from the Latin sources: pen strokes and pen-on-paper letters,
    relabelled and keeping their writers (so their split). The Kazakh
    letters Ғ Қ Ң Ө Ұ Ү І are made from real base letters of those sets
    (:func:`kazakh_capital`), Ә and Һ are the Kazakh drawings (re-drawn from
    their own hairline width, :func:`drawing_pen`). Letters from
    the Latin sources and made Kazakh ones are capped at ``per_class`` per
    letter, so the letters only the drawings have are not swamped. With
    ``made`` (some of :data:`RUSSIAN_FROM_LATIN`), those Russian capitals are
    also made from the Latin sources' pen letters (:func:`russian_capital`: a
    mirrored N, an upside-down L, ...), as many, so those letters are not
    known from touch-screen drawings alone.
    """
    out: list[Sample] = []
    with np.load(data / "cyrillic.npz") as d:
        for img, label, group in zip(d["images"], d["labels"], d["writers"], strict=True):
            out.append(Sample(str(label), f"cyr-{group}", raster=np.asarray(img)))
    with np.load(data / "kazakh.npz") as d:
        for i, (img, label) in enumerate(zip(d["images"], d["labels"], strict=True)):
            if str(label) in ("Ә", "Һ"):
                out.append(hairline_drawing(str(label), f"kaz-{i}", img))
    latin = load_stroke_file(data / "unipen-strokes.jsonl.gz") + load_stroke_file(data / "uji1-strokes.jsonl.gz")
    latin += load_paper_letters(data / "emnist-upper.npz")
    as_cyrillic = {v: k for k, v in CYRILLIC_AS_LATIN.items()}
    borrowed: dict[str, list[Sample]] = defaultdict(list)
    for s in latin:
        if s.label in as_cyrillic:
            borrowed[as_cyrillic[s.label]].append(
                Sample(as_cyrillic[s.label], s.writer, s.strokes, s.raster, s.raster_pen)
            )

    def some(pool: list[Sample], n: int) -> list[Sample]:
        return [pool[int(i)] for i in sorted(rng.permutation(len(pool))[:n])]

    for group in borrowed.values():
        out += some(group, per_class)
    bases = {letter: [s for s in out if s.label == letter] for letter in set(KAZAKH_BASES.values()) - set(LATIN)}
    bases |= {letter: [s for s in latin if s.label == letter] for letter in set(KAZAKH_BASES.values()) & set(LATIN)}
    for letter, base in KAZAKH_BASES.items():
        out += [kazakh_capital(b, letter, rng) for b in some(bases[base], per_class)]
    for letter in made:
        pool = [s for s in latin if s.label == RUSSIAN_FROM_LATIN[letter][0] and not is_lowercase_l(s)]
        out += [russian_capital(b, letter, rng) for b in some(pool, per_class)]
    return out


def _render_chunk(args: tuple[list[int], int, int, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Render pool samples ``idx`` ``reps`` times each: glyphs (uint8) and labels."""
    idx, reps, seed, plain_share, marks_share, jitter = args
    cv2.setNumThreads(1)
    rng = np.random.default_rng(seed)
    xs: list[np.ndarray] = []
    ys: list[int] = []
    n = len(_POOL)
    for i in idx:
        s = _POOL[i]
        for _ in range(reps):
            left = _POOL[int(rng.integers(n))] if rng.random() < 0.5 else None
            right = _POOL[int(rng.integers(n))] if rng.random() < 0.5 else None
            degrade = rng.random() >= plain_share
            marks = degrade and rng.random() < marks_share
            img, boxes, blank = render_field(
                [left, s, right], rng, degrade=degrade, scan_marks=marks, stroke_jitter=jitter
            )
            g = extract_glyphs(img, boxes, blank, 8.0)[1]
            if g.kind != KIND_LETTER or g.image is None:
                continue
            xs.append((g.image * 255.0 + 0.5).astype(np.uint8))
            ys.append(CLASSES.index(s.label))
    if not xs:
        return np.zeros((0, GLYPH_SIZE, GLYPH_SIZE), np.uint8), np.zeros(0, np.int64)
    return np.stack(xs), np.asarray(ys, np.int64)


def render_set(
    samples: list[Sample],
    reps: int,
    seed: int,
    workers: int,
    plain_share: float,
    marks_share: float = 0.0,
    jitter: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    global _POOL
    _POOL = samples
    order = list(range(len(samples)))
    chunk = 200
    tasks = [
        (order[i : i + chunk], reps, seed * 100003 + i, plain_share, marks_share, jitter)
        for i in range(0, len(order), chunk)
    ]
    if workers > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_render_chunk, tasks)
    else:
        parts = [_render_chunk(t) for t in tasks]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    return x, y


ARCHS = ("small", "deep")


def build_model(torch: object, arch: str = "small") -> object:
    import torch.nn as nn

    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    if arch == "small":
        # About 8.3 M multiply-adds and 0.32 M parameters per glyph: a page of
        # 150 written boxes takes about 30 ms on one core with onnxruntime,
        # and the ONNX file stays under 2 MB. Width goes where maps are small.
        return nn.Sequential(
            *block(1, 24), nn.MaxPool2d(2),  # 16
            *block(24, 48), nn.MaxPool2d(2),  # 8
            *block(48, 96), nn.MaxPool2d(2),  # 4
            *block(96, 192), nn.AvgPool2d(2),  # 2
            nn.Flatten(), nn.Dropout(0.3),
            nn.Linear(192 * 4, 128), nn.ReLU(), nn.Dropout(0.3),
            nn.Linear(128, len(CLASSES)),
        )  # fmt: skip
    # About 20 M multiply-adds and 0.45 M parameters per glyph: two convolutions
    # where the maps are 16 and 8 pixels wide. Tried (docs/model-card.md):
    # better single letters under degradation, no better names, and surer of
    # itself on letters that are really in doubt, so not the shipped one.
    return nn.Sequential(
        *block(1, 32), nn.MaxPool2d(2),  # 16
        *block(32, 48), *block(48, 48), nn.MaxPool2d(2),  # 8
        *block(48, 96), *block(96, 96), nn.MaxPool2d(2),  # 4
        *block(96, 192), nn.AvgPool2d(2),  # 2
        nn.Flatten(), nn.Dropout(0.3),
        nn.Linear(192 * 4, 160), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(160, len(CLASSES)),
    )  # fmt: skip


def load_onnx_weights(torch: object, model: object, path: Path) -> None:
    """Start from an exported network (``--init``): fine-tuning instead of training anew.

    The export folds each batch norm into the convolution before it, so the
    folded weights go to the convolution and the folded bias to a batch norm
    that passes its input through (mean 0, variance 1); those statistics are
    kept frozen while fine-tuning (see ``freeze_norms``).
    """
    import onnx
    import onnx.numpy_helper
    import torch.nn as nn

    graph = onnx.load(str(path)).graph
    init = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    layers = list(model)  # type: ignore[call-overload]
    conv_layers = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d)]
    if len(convs) != len(conv_layers):
        raise SystemExit(f"{path}: {len(convs)} convolutions, the model has {len(conv_layers)}; use the same --arch")
    state = {}
    for node, i in zip(convs, conv_layers, strict=True):
        norm = layers[i + 1]
        state[f"{i}.weight"] = torch.from_numpy(init[node.input[1]].copy())  # type: ignore[attr-defined]
        bias = init[node.input[2]]
        state[f"{i + 1}.weight"] = torch.ones(len(bias))  # type: ignore[attr-defined]
        state[f"{i + 1}.bias"] = torch.from_numpy(bias.copy())  # type: ignore[attr-defined]
        state[f"{i + 1}.running_mean"] = torch.zeros(len(bias))  # type: ignore[attr-defined]
        state[f"{i + 1}.running_var"] = torch.full((len(bias),), 1.0 - norm.eps)  # type: ignore[attr-defined]
        state[f"{i + 1}.num_batches_tracked"] = torch.tensor(0)  # type: ignore[attr-defined]
    for name, arr in init.items():
        if name.endswith((".weight", ".bias")) and name.split(".")[0].isdigit():
            state[name] = torch.from_numpy(arr.copy())  # type: ignore[attr-defined]
    model.load_state_dict(state)  # type: ignore[attr-defined]


def freeze_norms(model: object) -> None:
    """Batch norms use their stored statistics (a fine-tuned network's are folded ones)."""
    import torch.nn as nn

    for m in model.modules():  # type: ignore[attr-defined]
        if isinstance(m, nn.BatchNorm2d):
            m.eval()


def letter_sets(
    args: argparse.Namespace, rng: np.random.Generator
) -> tuple[dict[str, list[Sample]], list[Sample], list[Sample], list[Sample], list[Sample]]:
    """The letters by split, then the training letters rendered ``--reps`` times, those rendered
    ``--paper-reps`` times (Latin: the paper letters; Cyrillic: the drawings), and the same two
    for validation. ``training/class_prior.py`` composes the sets of a past run with it."""
    if args.script == "cyrillic":
        # The drawings (few, most varied) take the place the paper letters have for Latin:
        # rendered --paper-reps times, never capped; the borrowed letters --reps times.
        samples = load_cyrillic_set(args.data, args.per_class, rng, made=args.made_letters)
        drawn = lambda s: s.writer.startswith(("cyr-", "kaz-"))  # noqa: E731
    else:
        samples = load_all(args.data, paper=args.paper_reps > 0)
        drawn = lambda s: is_paper(s.writer)  # noqa: E731
    by_split: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_split[split_of(s.writer, args.script)].append(s)
    train = cap_per_writer([s for s in by_split["train"] if not drawn(s)], args.cap, rng)
    paper = [s for s in by_split["train"] if drawn(s)]
    val = cap_per_writer([s for s in by_split["val"] if not drawn(s)], 3, rng)
    paper_val = [s for s in by_split["val"] if drawn(s)]
    return by_split, train, paper, val, paper_val


def class_shares(labels: np.ndarray, classes: str) -> dict[str, float]:
    """Each class's share of the training renders: the reader divides its probabilities by them
    (``cnn.class_prior_bias``), so a class the network saw more often is not favoured for it."""
    counts = np.bincount(np.asarray(labels, np.int64), minlength=len(classes))
    return {c: round(float(n) / max(1, int(counts.sum())), 6) for c, n in zip(classes, counts.tolist(), strict=True)}


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The softmax temperature minimising validation NLL (grid, then refine)."""

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(labels)), labels].mean())

    grid = np.exp(np.linspace(np.log(0.3), np.log(5.0), 60))
    best = min(grid, key=nll)
    fine = np.linspace(best * 0.93, best * 1.07, 30)
    return float(min(fine, key=nll))


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for a, b in itertools.pairwise(edges):
        m = (conf > a) & (conf <= b)
        if m.any():
            total += m.mean() * abs(conf[m].mean() - correct[m].mean())
    return float(total)


def augment(torch: object, xb: object, gen: object) -> object:
    """Per-glyph small rotation, shear, scale and shift on the device.

    The cut-out is never perfectly centred or upright; a fixed rendered set
    gets new variants every epoch without re-rendering.
    """
    import torch as t
    import torch.nn.functional as F

    n = xb.shape[0]
    r = t.rand((n, 5), generator=gen).to(xb.device)
    ang = (r[:, 0] - 0.5) * 0.2
    shear = (r[:, 1] - 0.5) * 0.2
    scale = 0.9 + 0.2 * r[:, 2]
    tx = (r[:, 3] - 0.5) * 0.25
    ty = (r[:, 4] - 0.5) * 0.25
    c, si = t.cos(ang) / scale, t.sin(ang) / scale
    theta = t.stack([t.stack([c, -si + shear, tx], 1), t.stack([si, c, ty], 1)], 1)
    grid = F.affine_grid(theta, list(xb.shape), align_corners=False)
    return F.grid_sample(xb, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def parser() -> argparse.ArgumentParser:
    """The command line (also read by ``training/class_prior.py`` for a past run's options)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="the handwriting data folder (default: as the simulator finds it)")
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ROOT / "build" / "letters")))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--member-seed",
        type=int,
        help="seed of the weights and the batch order only (default: --seed); "
        "another member of an ensemble trained on the same renders",
    )
    ap.add_argument("--reps", type=int, default=12, help="renders per training letter")
    ap.add_argument("--val-reps", type=int, default=3)
    ap.add_argument(
        "--paper-reps", type=int, default=4, help="renders per pen-on-paper training letter (0: leave them out)"
    )
    ap.add_argument(
        "--trim", type=float, default=0.05, help="share of paper letters with the largest loss left out of each batch"
    )
    ap.add_argument("--cap", type=int, default=16, help="samples per writer and letter")
    ap.add_argument("--marks", type=float, default=0.5, help="share of degraded renders with scan marks")
    ap.add_argument("--epochs", type=int, default=60, help="upper bound; the time budget usually ends training")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--smoothing", type=float, default=0.1)
    ap.add_argument("--workers", type=int, default=max(1, (mp.cpu_count() or 2) - 1))
    ap.add_argument("--device", default="cpu")
    ap.add_argument(
        "--precision",
        choices=("fp32", "bf16"),
        default="fp32",
        help="bf16: convolutions in bfloat16 (always on a GPU); on a CPU with native bfloat16 (AVX512-BF16, AMX)"
        " a step takes about 0.4 of the time, so a time budget trains about 2.5 times the epochs",
    )
    ap.add_argument(
        "--arch", choices=ARCHS, default="small", help="small: the shipped network; deep: tried, see the model card"
    )
    ap.add_argument(
        "--rendered", type=Path, help="an .npz of rendered glyphs: loaded if it exists, else written after rendering"
    )
    ap.add_argument("--render-only", action="store_true", help="stop after writing --rendered")
    ap.add_argument(
        "--stroke-jitter",
        type=float,
        default=0.0,
        help="move each pen stroke of a degraded training letter by about this share of its size",
    )
    ap.add_argument(
        "--init", type=Path, help="fine-tune this exported letters.onnx (same --arch) instead of starting anew"
    )
    ap.add_argument(
        "--fonts",
        type=Path,
        help="also train on the handwriting fonts here (training/fetch_fonts.py), test fonts left out",
    )
    ap.add_argument("--font-reps", type=int, default=32, help="renders per font letter (one sample each)")
    ap.add_argument(
        "--lowercase",
        type=Path,
        help="also train on lower-case shapes (--lowercase-letters) of the handwriting fonts here, as capitals",
    )
    ap.add_argument(
        "--lowercase-letters",
        default="ijkmpuy",
        help="the lower-case letters taken: those SD19's other writers put in capital boxes, not l (an I)",
    )
    ap.add_argument("--lowercase-reps", type=int, default=24, help="renders per lower-case font letter")
    ap.add_argument("--quick", action="store_true", help="tiny subset smoke run")
    ap.add_argument(
        "--script",
        choices=("latin", "cyrillic"),
        default="latin",
        help="latin: A-Z (letters.onnx); cyrillic: Russian and Kazakh capitals (cyrillic.onnx)",
    )
    ap.add_argument("--per-class", type=int, default=1500, help="cyrillic: letters per class from the Latin sources")
    ap.add_argument(
        "--made-letters",
        nargs="?",
        const=MADE_RUSSIAN,
        default="",
        help=f"cyrillic: also these Russian capitals made from the Latin sources' pen letters (a mirrored N, ...;"
        f" alone: {MADE_RUSSIAN}; any of {''.join(RUSSIAN_FROM_LATIN)})",
    )
    ap.add_argument(
        "--time-budget", type=float, default=0.0, help="seconds for the whole run (0: epochs only); the LR follows it"
    )
    ap.add_argument(
        "--prior-correction",
        type=float,
        help="how far the reader divides out the training class shares (default: Cyrillic 1, Latin 0; see"
        " PRIOR_CORRECTION)",
    )
    return ap


PRIOR_KEYS = ("class_prior", "prior_correction")
"""The metadata keys of the training class shares and how far the reader divides them out."""
PRIOR_CORRECTION = {"latin": 0.0, "cyrillic": 1.0}
"""How far each script's reader divides out its training class shares (``cnn.class_prior_bias``).
Measured with the shipped networks (docs/model-card.md, "Training class shares divided out"):
Cyrillic names read right and accepted rose; Latin names on pen-on-paper pages fell, and with the
calibration weighed to a campaign's mix the Latin validation names still read better with the shares left in."""


def main() -> None:
    args = parser().parse_args()
    if args.data is None:  # imported late: the simulator's dependencies are not needed to train
        from petitionscan.simulate.handwriting import handwriting_dir

        args.data = handwriting_dir()

    import torch
    import torch.nn.functional as F

    t_start = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    log_lines: list[str] = []

    def log(msg: str) -> None:
        line = f"[{time.time() - t_start:7.1f}s] {msg}"
        print(line, flush=True)
        log_lines.append(line)
        (args.out / "train.log").write_text("\n".join(log_lines) + "\n")

    global CLASSES
    rng = np.random.default_rng(args.seed)
    member_seed = args.seed if args.member_seed is None else args.member_seed
    torch.manual_seed(member_seed)
    if args.script == "cyrillic":
        CLASSES = CYRILLIC
    by_split, train, paper, val, paper_val = letter_sets(args, rng)
    fonts = [s for s in load_font_letters(args.fonts) if split_of(s.writer) == "train"] if args.fonts else []
    lower = (
        [s for s in load_font_letters(args.lowercase, args.lowercase_letters) if split_of(s.writer) == "train"]
        if args.lowercase
        else []
    )
    if args.quick:
        train = [train[int(i)] for i in rng.choice(len(train), 1500, replace=False)]
        val = [val[int(i)] for i in rng.choice(len(val), 400, replace=False)]
        paper = paper[:1500]
        paper_val = paper_val[:400]
        fonts = fonts[:260]
        lower = lower[:60]
        args.reps, args.epochs, args.val_reps, args.font_reps = 2, 2, 1, 2
        args.paper_reps = min(args.paper_reps, 2)
    writers = {k: len({s.writer for s in v if not is_paper(s.writer)}) for k, v in by_split.items()}
    if fonts:
        writers["train fonts"] = len({s.writer for s in fonts})
    log(
        f"samples {sum(map(len, by_split.values()))}; writers per split {writers}; train {len(train)} paper {len(paper)} "
        f"fonts {len(fonts)} lower-case {len(lower)} val {len(val)} paper val {len(paper_val)}"
    )

    # What the rendered glyphs depend on: a cache made with other settings is refused.
    render_options = json.dumps(
        {
            **{
                k: getattr(args, k)
                for k in (
                    "seed",
                    "reps",
                    "val_reps",
                    "paper_reps",
                    "cap",
                    "marks",
                    "stroke_jitter",
                    "quick",
                    "script",
                    "per_class",
                )
            },
            # Only when used: caches of runs without made letters stay valid.
            **({"made_letters": args.made_letters} if args.made_letters else {}),
            "fonts": sorted({s.writer for s in fonts}),
            "font_reps": args.font_reps if fonts else 0,
            # Only when used: caches of runs without lower-case shapes stay valid.
            **(
                {
                    "lowercase": sorted({s.writer for s in lower}),
                    "lowercase_letters": args.lowercase_letters,
                    "lowercase_reps": args.lowercase_reps,
                }
                if lower
                else {}
            ),
        },
        sort_keys=True,
    )
    if args.rendered and args.rendered.exists():
        with np.load(args.rendered) as cached:
            if "options" not in cached or str(cached["options"]) != render_options:
                raise SystemExit(f"{args.rendered}: rendered with other settings; remove it or give another --rendered")
            xtr, ytr, xva, yva = cached["xtr"], cached["ytr"], cached["xva"], cached["yva"]
            ptr, pva = cached["ptr"], cached["pva"]
        log(f"loaded rendered glyphs from {args.rendered}")
    else:
        xtr, ytr = render_set(
            train,
            args.reps,
            args.seed,
            args.workers,
            plain_share=0.12,
            marks_share=args.marks,
            jitter=args.stroke_jitter,
        )
        if fonts:
            xf, yf = render_set(
                fonts, args.font_reps, args.seed + 2, args.workers, plain_share=0.12, marks_share=args.marks
            )
            xtr, ytr = np.concatenate([xtr, xf]), np.concatenate([ytr, yf])
        ptr = np.zeros(len(xtr), bool)
        if paper:
            xp, yp = render_set(
                paper, args.paper_reps, args.seed + 3, args.workers, plain_share=0.12, marks_share=args.marks
            )
            xtr, ytr, ptr = np.concatenate([xtr, xp]), np.concatenate([ytr, yp]), np.r_[ptr, np.ones(len(xp), bool)]
        if lower:
            xl, yl = render_set(
                lower, args.lowercase_reps, args.seed + 2, args.workers, plain_share=0.12, marks_share=args.marks
            )
            xtr, ytr, ptr = np.concatenate([xtr, xl]), np.concatenate([ytr, yl]), np.r_[ptr, np.zeros(len(xl), bool)]
        xva, yva = render_set(val, args.val_reps, args.seed + 1, args.workers, plain_share=0.0)
        pva = np.zeros(len(xva), bool)
        if paper_val:
            xpv, ypv = render_set(paper_val, 1, args.seed + 4, args.workers, plain_share=0.0)
            xva, yva, pva = np.concatenate([xva, xpv]), np.concatenate([yva, ypv]), np.r_[pva, np.ones(len(xpv), bool)]
        if args.rendered:
            tmp_npz = args.rendered.with_suffix(".tmp.npz")
            np.savez(tmp_npz, xtr=xtr, ytr=ytr, ptr=ptr, xva=xva, yva=yva, pva=pva, options=np.array(render_options))
            os.replace(tmp_npz, args.rendered)
    log(f"rendered train {len(xtr)} (paper {int(ptr.sum())}) val {len(xva)} (paper {int(pva.sum())})")
    if args.render_only:
        return

    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
    model = build_model(torch, args.arch)
    if args.init:
        load_onnx_weights(torch, model, args.init)
        log(f"fine-tuning {args.init}")
    # Channels-last is the layout the CPU's convolution kernels work in: the same
    # arithmetic, a step about 1.3 times faster (fp32) on a 2-core machine.
    model = model.to(dev, memory_format=torch.channels_last)
    low_precision = cuda or args.precision == "bf16"
    nparams = sum(p.numel() for p in model.parameters())
    log(f"model parameters {nparams}")
    xt = torch.from_numpy(xtr).to(dev)
    yt = torch.from_numpy(ytr).to(dev)
    pt = torch.from_numpy(ptr).to(dev)
    xv = torch.from_numpy(xva).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    steps_per_epoch = math.ceil(len(xt) / args.batch)
    total_steps = args.epochs * steps_per_epoch
    gen = torch.Generator(device="cpu").manual_seed(member_seed)
    # The LR follows a warm-up and a cosine over the time left for training
    # (or over the epochs), so a run cut by its budget still ends annealed.
    t_train = time.time()
    train_budget = args.time_budget - (t_train - t_start) - 25.0 if args.time_budget else 0.0
    warm = 0.04

    def progress(step: int) -> float:
        f = step / total_steps
        if train_budget > 0:
            f = max(f, (time.time() - t_train) / train_budget)
        return min(1.0, f)

    def lr_at(f: float) -> float:
        if f < warm:
            return args.lr * (0.1 + 0.9 * f / warm)
        return args.lr * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * (f - warm) / (1.0 - warm))))

    def evaluate() -> tuple[float, np.ndarray]:
        model.eval()
        outs = []
        with torch.no_grad():
            for i in range(0, len(xv), 8192):
                xb = (xv[i : i + 8192].float().unsqueeze(1) / 255.0).contiguous(memory_format=torch.channels_last)
                outs.append(model(xb).float().cpu())
        logits = torch.cat(outs).numpy()
        acc = float((logits.argmax(1) == yva).mean())
        return acc, logits

    def split_accuracy(logits: np.ndarray) -> str:
        right = logits.argmax(1) == yva
        parts = [f"tablet {right[~pva].mean():.4f}"]
        if pva.any():
            parts.append(f"paper {right[pva].mean():.4f}")
        return " ".join(parts)

    def save(state: dict, acc: float, epoch: int) -> None:
        """Write weights and ONNX now, so a run cut short still leaves a model."""
        cpu_model = build_model(torch, args.arch)
        cpu_model.load_state_dict({k: v.cpu() for k, v in state.items()})
        cpu_model.eval()
        torch.save(cpu_model.state_dict(), args.out / "letters.pt")
        tmp = args.out / "letters.onnx.tmp"
        export_onnx(torch, cpu_model, torch.zeros(1, 1, GLYPH_SIZE, GLYPH_SIZE), tmp)
        os.replace(tmp, args.out / "letters.onnx")
        log(f"saved epoch {epoch} val acc {acc:.4f}")

    best_acc, best_state, best_epoch = -1.0, None, 0
    step = 0
    done = False
    for epoch in range(args.epochs):
        model.train()
        if args.init:
            freeze_norms(model)
        perm = torch.randperm(len(xt), generator=gen).to(dev)
        for b in range(steps_per_epoch):
            f = progress(step)
            if f >= 1.0:
                done = True
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(f)
            idx = perm[b * args.batch : (b + 1) * args.batch]
            xb = xt[idx].float().unsqueeze(1) / 255.0
            xb = augment(torch, xb, gen).contiguous(memory_format=torch.channels_last)
            with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=low_precision):
                losses = F.cross_entropy(model(xb).float(), yt[idx], label_smoothing=args.smoothing, reduction="none")
            keep = torch.ones_like(losses, dtype=torch.bool)
            on_paper = pt[idx]
            n_trim = int(args.trim * int(on_paper.sum()))
            if epoch > 0 and n_trim > 0:
                # Doubtful labels: the paper letters the network disagrees with most.
                worst = torch.topk(
                    torch.where(on_paper, losses.detach(), torch.full_like(losses, -1.0)), n_trim
                ).indices
                keep[worst] = False
            loss = losses[keep].mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
        acc, val_logits = evaluate()
        log(
            f"epoch {epoch + 1} steps {step} progress {progress(step):.2f} lr {lr_at(progress(step)):.5f} "
            f"val acc {acc:.4f} ({split_accuracy(val_logits)})"
        )
        if acc > best_acc:
            best_acc, best_epoch = acc, epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if progress(step) > 0.5 or args.quick:
                save(best_state, acc, best_epoch)
        if done:
            break
    assert best_state is not None
    model.load_state_dict(best_state)
    acc, logits = evaluate()
    save(best_state, acc, best_epoch)
    temperature = fit_temperature(logits, yva)
    z = logits / temperature
    probs = np.exp(z - z.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    raw = np.exp(logits - logits.max(1, keepdims=True))
    raw /= raw.sum(1, keepdims=True)
    log(
        f"val acc {acc:.4f} ({split_accuracy(logits)}) temperature {temperature:.3f} "
        f"ECE raw {ece(raw, yva):.4f} calibrated {ece(probs, yva):.4f}"
    )
    confusions: dict[str, int] = defaultdict(int)
    for p, t in zip(logits.argmax(1), yva, strict=False):
        if p != t:
            confusions[f"{CLASSES[t]}->{CLASSES[p]}"] += 1
    top = sorted(confusions.items(), key=lambda kv: -kv[1])[:15]
    log(f"top val confusions {top}")
    meta = {
        "classes": CLASSES,
        "input_size": GLYPH_SIZE,
        "temperature": temperature,
        "class_prior": class_shares(ytr, CLASSES),
        "prior_correction": args.prior_correction
        if args.prior_correction is not None
        else PRIOR_CORRECTION[args.script],
        "val_letter_accuracy": acc,
        "val_letter_accuracy_by_source": split_accuracy(logits),
        "paper_reps": args.paper_reps,
        "paper_trim": args.trim,
        "made_letters": args.made_letters,
        "train_paper_letters": len(paper),
        "val_paper_letters": len(paper_val),
        "val_ece_raw": ece(raw, yva),
        "val_ece_calibrated": ece(probs, yva),
        "seed": args.seed,
        "member_seed": member_seed,
        "arch": args.arch,
        "epochs": args.epochs,
        "best_epoch": best_epoch,
        "steps": step,
        "reps": args.reps,
        "scan_marks_share": args.marks,
        "stroke_jitter": args.stroke_jitter,
        "train_fonts": writers.get("train fonts", 0),
        "font_reps": args.font_reps if fonts else 0,
        "lowercase_font_letters": len(lower),
        "lowercase_letters": args.lowercase_letters if lower else "",
        "lowercase_reps": args.lowercase_reps if lower else 0,
        "init": str(args.init.name) if args.init else None,
        "label_smoothing": args.smoothing,
        "cap_per_writer_letter": args.cap,
        "train_letters": len(train),
        "train_images": len(xtr),
        "val_images": len(xva),
        "test_labs": [*list(TEST_LABS), "UJI (all)"],
        "val_labs": list(VALIDATION_LABS),
        "writers": writers,
        "parameters": int(nparams),
        "top_val_confusions": top,
        "torch": torch.__version__,
        "device": str(dev),
        "precision": "bf16" if low_precision else "fp32",
        "seconds": round(time.time() - t_start, 1),
    }
    (args.out / "train.json").write_text(json.dumps(meta, indent=2))
    log("done")


def export_onnx(torch: object, model: object, dummy: object, path: Path) -> None:
    """Export with a dynamic batch axis (opset 13: onnxruntime and OpenCV's dnn module both read it)."""
    import torch as _t

    kwargs = dict(
        input_names=["glyphs"],
        output_names=["logits"],
        dynamic_axes={"glyphs": {0: "n"}, "logits": {0: "n"}},
        opset_version=13,
        do_constant_folding=True,
    )
    try:
        _t.onnx.export(model, (dummy,), str(path), dynamo=False, **kwargs)
    except TypeError:
        _t.onnx.export(model, (dummy,), str(path), **kwargs)


if __name__ == "__main__":
    main()
