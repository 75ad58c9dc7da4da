"""Fit the name decoder and the field confidence; choose the auto-accept threshold.

Names are written in the hands of validation writers, never trained on: most
(``--paper-share``) in pen-on-paper capitals of the held-out SD19 writers'
validation half, the rest in the tablet validation writers (UNIPEN labs aga
and kai); degraded like scans and read by the shipped network once; the
decoder settings and the confidence model are then fitted on that cached
evidence, so nothing here is chosen on test writers or simulated pages.

The names: 70 % of given names and surnames are words of the lexicon (first
names from its given names, surnames from its surnames, each field decoded
with its own list, as on sheets); the rest
are names the lexicon does not know, as real signers have them: names of
Faker locales left out of the lexicon (Uzbek, Vietnamese, Yoruba, ...),
unusual spellings of known names (CHAIKA beside the list's CHAYKA: one
letter swapped for one that spells the same sound), strings drawn from the
character trigram model (they look like names) and a few scrambled letters.
A name outside the lexicon must earn its confidence from its letters alone,
and a reading the lexicon "corrected" carries the doubt of every letter it
overruled (names.field_features).

Steps, all on validation writers:
1. decoder weights (trigram weight, lexicon bonus, guard, lexicon floor) by a
   coordinate search for the most exact names, the names weighed so that a
   quarter of the weight is on names with a word in no list
   (``--unlisted-share``): about half are drawn that way, so that every kind
   of unlisted name is seen, but a campaign's signers mostly have listed names;
2. a logistic model of "this field is exactly right" on the decoder's features
   (names.FEATURES), fitted by Newton's method;
3. the lowest name-confidence threshold at which the accepted names (and those
   of every stricter threshold) are right at least 99.8 % of the time on the
   same weighing, a margin over the promised 99.5 %, and at least 99.5 % on
   the names as drawn, half of them unlisted;
4. on whole sheets filled in by the same validation writers and read by the
   scan stage (``training/page_threshold.py``, ``--pages``): the confidence
   of fields whose words are all listed names fitted again, and the same
   rule once more: the threshold shipped. The names of step 3 are harder
   than a sheet's, so their threshold, kept as ``names_threshold``, sent
   most names a sheet's reader gets right to a person.
Steps 2 and 3 use ``--draws`` independent draws of names (four of 8,000): the
threshold rests on the few sure mistakes at the top of the confidence, and on
one draw it moved from 0.974 to 0.996 when the lists changed a little. Step 1
searches on the first draw.

    .venv/bin/python training/calibrate.py --train-json build/letters/train.json

``--script cyrillic`` does the same for the Cyrillic network (``cyrillic.json``):
names of the Cyrillic lexicon and unknown ones (unusual spellings, strings
of its trigram model, scrambled letters), written in the hands of the
validation session groups of the Cyrillic drawings, the Kazakh letters made
from their base letters, and the validation writers of the Latin sources
for the letters both scripts share.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import inspect
import itertools
import json
import os
import pickle
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from petitionscan.recognize import FieldImage
from petitionscan.recognize.cnn import CYRILLIC_META, META, CnnRecognizer, FieldEvidence, goes_to_a_person
from petitionscan.recognize.names import (
    FEATURES,
    KINDS,
    DecoderParams,
    confidence_of,
    decode,
    field_features,
    known_name,
    lists_digest,
    load_model,
    separator_capped,
)
from petitionscan.recognize.render import (
    VALIDATION_LABS,
    is_doubtful,
    load_paper_letters,
    load_stroke_file,
    paper_split,
    render_field,
)
from petitionscan.simulate.handwriting import handwriting_dir
from training.train_letters import PRIOR_KEYS

FIELD_KEYS = ("first_name", "surname")
"""The two fields of a calibration name, keyed as the scan stage keys them (the key tells the name list)."""
PRECISION = 0.998
PROMISE = 0.995
"""The precision promised for names accepted automatically; ``PRECISION`` keeps a margin over it."""
KNOWN_SHARE = 0.7
UNLISTED_SHARE = 0.25
"""The share of signers' names with a word in no list that the decoder search and the threshold
weigh the validation names to. The validation names hold about half (``KNOWN_SHARE`` per word, so
every kind of unlisted word is seen often enough to fit the confidence on), but a campaign's
signers mostly carry listed names: weighed as drawn, the search traded listed names read right
for unlisted ones (docs/model-card.md, "The calibration weighed to a campaign's mix")."""
UNKNOWN_LOCALES = ("uz_UZ", "vi_VN", "yo_NG", "ig_NG", "ha_NG", "zu_ZA", "tw_GH", "ne_NP", "is_IS", "mk_MK", "th_TH")
"""Faker locales left out of the lexicon (training/build_names.py): real names it does not know."""


def unknown_pool(script: str) -> list[str]:
    """Real name words from locales the lexicon leaves out, minus those it knows anyway."""
    if script != "latin":
        return []  # every Cyrillic name list there is went into the lexicon
    from training.build_names import names_of

    model = load_model()
    out: set[str] = set()
    for loc in UNKNOWN_LOCALES:
        try:
            out |= {w for n in names_of(loc) for w in n.split(" ")}
        except AttributeError:
            continue
    return sorted(w for w in out if w.isalpha() and 3 <= len(w) <= 12 and not model.known(w))


def invented(rng: np.random.Generator, script: str) -> str:
    """A string drawn from the trigram model: looks like a name, is in no list."""
    model = load_model(None, script)
    while True:
        a, b, out = model.bos, model.bos, ""
        while len(out) < 14:
            p = np.exp(model.logp[a, b])
            p[model.chars.index("-")] = p[model.chars.index("'")] = p[model.bos] = 0.0
            c = int(rng.choice(len(p), p=p / p.sum()))
            if c == model.eos:
                break
            out += model.chars[c]
            a, b = b, c
        if 3 <= len(out) <= 12 and not model.known(out):
            return out


SAME_SOUND = {
    "Y": "I", "I": "Y", "J": "IY", "K": "CQ", "C": "KS", "Q": "K", "V": "W", "W": "V", "S": "ZC",
    "Z": "S", "X": "KS", "U": "O", "O": "AU", "E": "AI", "A": "EO", "G": "H", "H": "G",
}  # fmt: skip
"""Letters that spell the same or a close sound in names (CHAIKA / CHAYKA, IAREMKO / JAREMKO)."""
SAME_SOUND_CYRILLIC = {
    "И": "ЙЫІ", "Й": "И", "Е": "ЁЭ", "Ё": "Е", "Э": "Е", "О": "АӨ", "А": "ОӘ", "Ы": "И", "Ш": "Щ",
    "Щ": "Ш", "Ь": "Ъ", "Ъ": "Ь", "У": "ҰҮ", "Ұ": "У", "Ү": "У", "К": "Қ", "Қ": "К", "Г": "Ғ",
    "Ғ": "Г", "Н": "Ң", "Ң": "Н", "Ә": "А", "Ө": "О", "І": "И", "Х": "Һ",
}  # fmt: skip
"""The same for Cyrillic names: a Kazakh letter and its Russian neighbour, Е/Ё, И/Й.

Е written Ё makes spellings no name has (ТАСТАЙБЁКОВА: 867 of 32,000 names, 10 of the 15 surest
mistakes). Left out, the surest mistake became a made-up Ң read Н at rank 17 and 0.05 % of the
names were accepted instead of 0.41 %: every lost mark (Ё, Ң, Ү, Қ) is such a mistake."""


def variant_spelling(rng: np.random.Generator, script: str) -> str:
    """A known name with one letter swapped for one of the same sound, spelt in no list."""
    model = load_model(None, script)
    words = sorted(model.pieces)
    table = SAME_SOUND if script == "latin" else SAME_SOUND_CYRILLIC
    while True:
        w = words[int(rng.integers(len(words)))]
        spots = [i for i, ch in enumerate(w) if ch in table]
        if len(w) < 4 or not spots:
            continue
        i = spots[int(rng.integers(len(spots)))]
        subs = table[w[i]]
        out = w[:i] + subs[int(rng.integers(len(subs)))] + w[i + 1 :]
        if not model.known(out):
            return out


def unknown_name(rng: np.random.Generator, pool: list[str], script: str) -> str:
    r = rng.random()
    if r < 0.35 and pool:
        return pool[int(rng.integers(len(pool)))]
    if r < 0.65:
        return variant_spelling(rng, script)
    if r < 0.92:
        return invented(rng, script)
    words = sorted(load_model(None, script).pieces)
    w = words[int(rng.integers(len(words)))]
    return "".join(rng.permutation(list(w))) if len(w) >= 3 else w


def sample_names(rng: np.random.Generator, n: int, script: str = "latin") -> list[tuple[str, str]]:
    """Given name and surname pairs, about 30 % of the words unknown to the lexicon.

    A known first name is drawn from the given names, a known surname from the
    surnames, as signers write them in the two fields.
    """
    known = [sorted(w for w in load_model(kind, script).words if w.isalpha() and 2 <= len(w) <= 12) for kind in KINDS]
    pool = unknown_pool(script)
    out = []
    for _ in range(n):
        pair = []
        for k in range(2):
            if rng.random() < KNOWN_SHARE:
                pair.append(known[k][int(rng.integers(len(known[k])))])
            else:
                pair.append(unknown_name(rng, pool, script))
        out.append((pair[0], pair[1]))
    return out


def write_fields(
    pairs: list[tuple[str, str]], pool: dict[str, dict[str, list]], rng: np.random.Generator, alphabet: str = "latin"
) -> list[list[FieldImage]]:
    writers = sorted(pool)
    everyone: dict[str, list] = {}
    for w in writers:
        for ch, ss in pool[w].items():
            everyone.setdefault(ch, []).extend(ss)
    out = []
    for i, pair in enumerate(pairs):
        hand = pool[writers[int(rng.integers(len(writers)))]]
        fields = []
        for k, word in enumerate(pair):
            letters = []
            for ch in word:
                src = hand.get(ch) or everyone[ch]
                letters.append(src[int(rng.integers(len(src)))])
            n_boxes = max(8, len(word) + int(rng.integers(0, 4)))
            letters += [None] * (n_boxes - len(word))
            img, boxes, blank = render_field(letters, rng, degrade=True)
            fields.append(FieldImage(f"{i}:{FIELD_KEYS[k]}", img, boxes, blank, 8.0, alphabet))
        out.append(fields)
    return out


def validation_hands(args: argparse.Namespace) -> list[dict[str, dict[str, list]]]:
    """The hand pools names are written in: each a dict writer -> letter -> samples."""
    if args.script == "cyrillic":
        from training.train_letters import load_cyrillic_set, split_of

        hands: dict[str, dict[str, list]] = {}
        for s in load_cyrillic_set(args.data, 1500, np.random.default_rng(args.seed)):
            # Drawings by session group; the letters borrowed from Latin writers in one pool.
            writer = s.writer if s.writer.startswith("cyr-") else "borrowed"
            if split_of(s.writer, "cyrillic") == "val":
                hands.setdefault(writer, {}).setdefault(s.label, []).append(s)
        return [hands]
    samples = [
        s for s in load_stroke_file(args.data / "unipen-strokes.jsonl.gz") if s.writer.split("-")[0] in VALIDATION_LABS
    ]
    tablet: dict[str, dict[str, list]] = {}
    for s in samples:
        tablet.setdefault(s.writer, {}).setdefault(s.label, []).append(s)
    # The paper letters keep no writer ids: one pool, each letter by some writer of the population.
    paper: dict[str, dict[str, list]] = {"paper": {}}
    for s in load_paper_letters(args.data / "emnist-upper.npz", ["sd19-hsf0123"]):
        if paper_split(s.writer) == "val" and not is_doubtful(s):
            paper["paper"].setdefault(s.label, []).append(s)
    return [paper, tablet]


EVIDENCE_CODE = ("glyph.py", "render.py", "cnn.py")
"""The reader's modules whose code shapes the cached evidence besides the network itself."""


def evidence_code_digest() -> str:
    """A short digest of the code that writes and reads the validation names.

    Part of the evidence cache's name: a change to the glyph cutter, the
    renderer or the way names are drawn reads the names anew instead of
    fitting the decoder on evidence an earlier cutter produced (the network's
    digest alone does not change then).
    """
    h = hashlib.sha256()
    for name in EVIDENCE_CODE:
        h.update((ROOT / "petitionscan" / "recognize" / name).read_bytes())
    for fn in (sample_names, unknown_name, variant_spelling, invented, write_fields, validation_hands):
        h.update(inspect.getsource(fn).encode())
    h.update(repr((SAME_SOUND, SAME_SOUND_CYRILLIC)).encode())  # the spellings drawn
    return h.hexdigest()[:10]


def collect(args: argparse.Namespace) -> tuple[list[tuple[str, str]], list[list[FieldEvidence]]]:
    """Write and read the validation names once; cached per network and temperature."""
    engine = CnnRecognizer()
    model = engine.script_model(args.script)
    # "evidence2": the evidence carries FieldEvidence.maybe_apostrophe, which older caches lack.
    cache = (
        ROOT / "build" / f"calib-evidence2-{args.script}-{args.seed}-{args.names}-p{args.paper_share}-{model.digest}"
        f"-t{model.temperature:.4f}{_prior_tag(model.prior_bias)}-c{evidence_code_digest()}"
        # The names are drawn from the lists: rebuilt lists draw (and read) names anew.
        f"-l{lists_digest(args.script)}.pkl"
    )
    if cache.exists() and not args.fresh:
        data = pickle.loads(cache.read_bytes())
        return data["pairs"], data["evidence"]
    hands = validation_hands(args)
    rng = np.random.default_rng(args.seed)
    pairs = sample_names(rng, args.names, args.script)
    evidence = []
    for k in range(0, len(pairs), 50):
        pool = hands[0] if len(hands) == 1 or rng.random() < args.paper_share else hands[1]
        batch = write_fields(pairs[k : k + 50], pool, rng, args.script)
        flat = engine.evidence([f for fs in batch for f in fs])
        evidence += [flat[i : i + 2] for i in range(0, len(flat), 2)]
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps({"pairs": pairs, "evidence": evidence}))
    os.replace(tmp, cache)
    return pairs, evidence


def collect_draws(args: argparse.Namespace) -> list[tuple[list[tuple[str, str]], list[list[FieldEvidence]]]]:
    """``args.draws`` independent draws of validation names (seeds ``args.seed`` on), read in parallel.

    Each draw is cached on its own, so adding draws reads only the new ones.
    """
    per_draw = [argparse.Namespace(**{**vars(args), "seed": args.seed + i}) for i in range(args.draws)]
    if args.jobs <= 1 or args.draws <= 1:
        return [collect(a) for a in per_draw]
    with ProcessPoolExecutor(max_workers=min(args.jobs, args.draws)) as pool:
        return list(pool.map(collect, per_draw))


def _prior_tag(bias: tuple[float, ...]) -> str:
    """Part of the evidence cache's name: letter probabilities read with the class shares divided out differ."""
    return "-b" + hashlib.sha256(repr(bias).encode()).hexdigest()[:8] if bias else ""


def decode_all(
    pairs: list[tuple[str, str]], evidence: list[list[FieldEvidence]], params: DecoderParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per field: features, exactness and whether it goes to a person anyway; per name: exactness."""
    feats, field_ok, name_ok, to_a_person = [], [], [], []
    for pair, evs in zip(pairs, evidence, strict=True):
        ok_all = True
        for word, ev in zip(pair, evs, strict=True):
            d = decode([[ev.dists[b] for b in w] for w in ev.words], load_model(ev.kind, ev.script), params)
            text = " ".join("".join(c) for c in d.chars)
            feats.append(field_features(d, ev.continuation))
            to_a_person.append(goes_to_a_person(ev, d))
            field_ok.append(text == word)
            ok_all &= text == word
        name_ok.append(ok_all)
    return np.asarray(feats), np.asarray(field_ok), np.asarray(name_ok), np.asarray(to_a_person)


def unlisted_names(pairs: list[tuple[str, str]], script: str) -> np.ndarray:
    """Per name: whether a word of it is in no list (a first name looked up among the given names,
    a surname among the surnames, as the decoder does)."""
    models = [load_model(kind, script) for kind in KINDS]
    return np.array(
        [not all(known_name(word, m) for word, m in zip(pair, models, strict=True)) for pair in pairs], dtype=bool
    )


def mix_weights(unlisted: np.ndarray, share: float) -> np.ndarray:
    """Per-name weights that give the unlisted names ``share`` of the total weight."""
    drawn = float(unlisted.mean())
    if not 0 < drawn < 1:
        return np.ones(len(unlisted))
    return np.where(unlisted, share / drawn, (1 - share) / (1 - drawn))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> tuple[np.ndarray, float]:
    """Logistic regression by Newton's method, a little L2 for stability."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(xb.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -50, 50)))
        grad = xb.T @ (p - y) + l2 * np.r_[0, w[1:]]
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + l2 * np.diag(np.r_[0, np.ones(len(w) - 1)])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[1:], float(w[0])


def unheard_shares(
    pairs: list[tuple[str, str]], evidence: list[list[FieldEvidence]], script: str
) -> dict[str, dict[str, float]]:
    """For each letter no listed name holds (names.NameModel.unheard): the letters that the
    validation boxes the network reads as it really hold, with their shares (two or more)."""
    unheard = load_model(None, script).unheard
    counts: dict[str, dict[str, int]] = {u: {} for u in unheard}
    for pair, evs in zip(pairs, evidence, strict=True):
        for word, ev in zip(pair, evs, strict=True):
            boxes = [b for w in ev.words for b in w]
            letters = word.replace(" ", "")
            if len(boxes) != len(letters):
                continue
            for b, ch in zip(boxes, letters, strict=True):
                top = ev.dists[b][0][0] if ev.dists.get(b) else ""
                if top in counts and ch not in unheard:
                    counts[top][ch] = counts[top].get(ch, 0) + 1
    out = {}
    for u, c in counts.items():
        kept = {ch: n for ch, n in c.items() if n >= 2}
        total = sum(kept.values())
        if total:
            out[u] = {ch: round(n / total, 4) for ch, n in sorted(kept.items(), key=lambda t: -t[1])}
    return out


def threshold_for(
    c: np.ndarray, ok: np.ndarray, precision: float, weights: np.ndarray | None = None, min_accepted: int = 1
) -> float:
    """Lowest threshold whose accepted set, and every stricter one, keeps the precision.

    With ``weights`` (a campaign's mix of listed and unlisted names, ``mix_weights``) the
    precision is kept on the weighted names, and the promised ``PROMISE`` on the names as
    drawn too, whose unlisted names are many more. Sets of fewer than ``min_accepted``
    names are not judged: below 1 / (1 - precision) names one mistake already breaks the
    precision, so a single sure mistake among the first few hundred would decide alone.
    """
    order = np.argsort(-c)
    w = np.ones(len(c)) if weights is None else weights[order]
    prec = np.cumsum(ok[order] * w) / np.cumsum(w)
    short = prec < precision
    if weights is not None:
        short |= np.cumsum(ok[order]) / np.arange(1, len(c) + 1) < PROMISE
    short[: max(0, min_accepted - 1)] = False
    bad = np.flatnonzero(short)
    if bad.size == 0:
        return float(c[order][-1])
    if bad[0] == 0:
        return 1.0
    return float(c[order][bad[0] - 1])


def trained_here(train_json: Path, shipped: Path) -> bool:
    """Whether ``train_json`` describes the network shipped now: the network saved beside it is that file.

    A training run left in build/ that was not shipped (tried and measured,
    then the package's network put back) must not lend its temperature and
    metadata to the shipped network; the shipped file's own are kept then.
    """
    beside = train_json.with_name("letters.onnx")
    if not train_json.exists():
        return False
    if beside.exists() and shipped.exists() and beside.read_bytes() == shipped.read_bytes():
        return True
    print(f"{train_json} is not the shipped network's training: refitting the shipped one", file=sys.stderr)
    return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=handwriting_dir(), help="the handwriting data folder")
    ap.add_argument("--script", choices=("latin", "cyrillic"), default="latin", help="whose network to calibrate")
    ap.add_argument("--train-json", type=Path, help="default: build/letters/train.json (cyrillic: build/cyrillic/)")
    ap.add_argument(
        "--names",
        type=int,
        default=8000,
        help="name pairs to write and read (the threshold rests on the few sure errors at the top of the"
        " confidence: on 4,000 one or two of them moved it far)",
    )
    ap.add_argument("--paper-share", type=float, default=0.75, help="share of names written in pen-on-paper letters")
    ap.add_argument(
        "--unlisted-share",
        type=float,
        default=UNLISTED_SHARE,
        help="share of names with a word in no list that the decoder search and the threshold weigh the names to",
    )
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument(
        "--draws",
        type=int,
        default=4,
        help="independent draws of --names names (seeds --seed, --seed + 1, ...) the confidence and the"
        " threshold are fitted on: on one draw of 8,000 the threshold moved between 0.974 and 0.996",
    )
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="draws read at once")
    ap.add_argument("--fresh", action="store_true", help="re-read the names even if cached")
    ap.add_argument(
        "--pages",
        type=int,
        default=1200,
        help="then choose the threshold on this many validation sheets (training/page_threshold.py; 0: keep"
        " the one chosen on the names)",
    )
    args = ap.parse_args()
    meta_path = META if args.script == "latin" else CYRILLIC_META
    with kept_unless_finished(meta_path):
        calibrate(args, meta_path)
    if args.pages:
        from training import page_threshold

        page_threshold.run(args.script, args.pages, jobs=args.jobs)


@contextmanager
def kept_unless_finished(path: Path) -> Iterator[None]:
    """``path`` put back as it was if the block fails or is interrupted.

    The calibration writes an unfinished metadata file first (the new
    network's temperature for reading the names, no threshold yet); stopped
    halfway, that file must not stay where the reader takes it from.
    """
    before = path.read_bytes()
    try:
        yield
    except BaseException:
        _replace_with(path, before)
        raise


def calibrate(args: argparse.Namespace, meta_path: Path) -> None:
    """Read the validation names, fit the decoder, the confidence and the threshold; write ``meta_path``."""
    if args.train_json is None:
        args.train_json = ROOT / "build" / ("letters" if args.script == "latin" else "cyrillic") / "train.json"
    if trained_here(args.train_json, meta_path.with_suffix(".onnx")):
        train = json.loads(args.train_json.read_text())
        meta = {
            "classes": train["classes"],
            "input_size": train["input_size"],
            "temperature": train["temperature"],
            **{k: train[k] for k in PRIOR_KEYS if k in train},
            "training": {
                k: v for k, v in train.items() if k not in ("classes", "input_size", "temperature", *PRIOR_KEYS)
            },
        }
    else:  # refit the decoder and confidence for the shipped network
        old = json.loads(meta_path.read_text())
        meta = {k: old[k] for k in ("classes", "input_size", "temperature", *PRIOR_KEYS, "training") if k in old}
    meta["auto_threshold"] = 1.0
    write_meta(meta_path, meta)
    draws = collect_draws(args)
    pairs, evidence = draws[0]

    # 1. Decoder weights: coordinate search for the most exact names, on the first draw
    # (each candidate decodes every name; the weights chosen move little between draws).
    # The guard is fixed, not searched: at 0.98 a letter is wrong 0.6 % of the
    # time on validation (see "guard"); a higher guard adds under 0.5 % exact
    # names while letting the lexicon rewrite far more letters.
    params = DecoderParams(sure=0.98, unheard_as=unheard_shares(pairs, evidence, args.script))
    unlisted = unlisted_names(pairs, args.script)
    weights = mix_weights(unlisted, args.unlisted_share)
    print("unheard letters read as", params.unheard_as, file=sys.stderr)
    grid = {
        "lm_weight": [0.7, 1.0, 1.3],
        "lexicon_bonus": [6.0, 8.0, 11.0],
        "lexicon_min": [0.002, 0.01],
        "fold_bonus": [0.0, 4.0, 6.0],
    }
    # names.LOOK_ALIKES: a Y-shaped У takes a large share, the Latin look-alikes a small one.
    grid["look_alike_share"] = [0.0, 0.03, 0.1, 0.3] if args.script == "cyrillic" else [0.0, 0.003, 0.01, 0.03]
    # A listed name over sure letters (names.RESCUE_MARGIN): what it gains on listed names
    # is weighed against the unusual spellings one letter from a listed name that it rewrites.
    grid["sure_rescue"] = [0, 1, 2]
    search: dict[str, list] = {}
    for _round in range(1):
        for key, values in grid.items():
            # The value in use stays a candidate: a step never leaves the decoder worse than it found it.
            current = getattr(params, key)
            values = values if current in values else sorted([*values, current])
            rates = []
            for v in values:
                p = dataclasses.replace(params, **{key: v})
                rates.append(float(np.average(decode_all(pairs, evidence, p)[2], weights=weights)))
            search[key] = [[v, round(r, 4)] for v, r in zip(values, rates, strict=True)]
            params = dataclasses.replace(params, **{key: values[int(np.argmax(rates))]})
            print(key, search[key], file=sys.stderr)
    # Steps 2 and 3 rest on the few sure mistakes at the top of the confidence: every draw.
    pairs = [p for d, _ in draws for p in d]
    evidence = [e for _, d in draws for e in d]
    unlisted = unlisted_names(pairs, args.script)
    weights = mix_weights(unlisted, args.unlisted_share)
    # The guard: how often a letter at or above it is wrong (it can then not be corrected).
    letters = [
        (ev.dists[b][0][1], ev.dists[b][0][0] == ch)
        for pair, evs in zip(pairs, evidence, strict=True)
        for word, ev in zip(pair, evs, strict=True)
        for w in ev.words
        if sum(len(x) for x in ev.words) == len(word.replace(" ", ""))
        for b, ch in zip(w, word, strict=False)
    ]
    lp = np.array([p for p, _ in letters])
    lok = np.array([o for _, o in letters])
    guard = {str(t): {"letters": int((lp >= t).sum()), "wrong": round(float(1 - lok[lp >= t].mean()), 5)}
             for t in (0.9, 0.95, 0.98, 0.99)}  # fmt: skip

    # 2. Field confidence: logistic on the decoder's features.
    x, field_ok, name_ok, to_a_person = decode_all(pairs, evidence, params)
    coef, intercept = fit_logistic(x, field_ok.astype(float))
    field_c = np.array(
        [separator_capped(confidence_of(f, coef, intercept), s) for f, s in zip(x, to_a_person, strict=True)]
    )
    c = field_c[0::2] * field_c[1::2]
    unknown = (x[0::2, 1] + x[1::2, 1]) > 0

    # 3. Threshold for automatic acceptance.
    threshold = threshold_for(c, name_ok, PRECISION, weights)
    accepted = c >= threshold
    bins = np.linspace(0, 1, 11)
    calib = []
    for a, b in itertools.pairwise(bins):
        m = (c > a) & (c <= b)
        if m.any():
            calib.append([round(float(a), 1), round(float(b), 1), int(m.sum()), round(float(name_ok[m].mean()), 3)])
    meta["decoder"] = dataclasses.asdict(params)
    meta["field_confidence"] = {
        "features": list(FEATURES),
        "coef": [round(float(v), 6) for v in coef],
        "intercept": round(intercept, 6),
    }
    meta["auto_threshold"] = threshold
    meta["validation_names"] = {
        "names": len(c),
        "draws": [args.seed + i for i in range(args.draws)],
        "decoder_searched_on": len(draws[0][0]),
        "with_unknown_word": round(float(unknown.mean()), 4),
        "exact": round(float(name_ok.mean()), 4),
        "auto_share": round(float(accepted.mean()), 4),
        "auto_precision": round(float(name_ok[accepted].mean()), 4) if accepted.any() else None,
        "auto_share_unknown": round(float(accepted[unknown].mean()), 4),
        "auto_precision_unknown": round(float(name_ok[accepted & unknown].mean()), 4)
        if (accepted & unknown).any()
        else None,
        "mean_confidence": round(float(c.mean()), 4),
        "weighed_unlisted_share": args.unlisted_share,
        "exact_listed": round(float(name_ok[~unlisted].mean()), 4),
        "exact_unlisted": round(float(name_ok[unlisted].mean()), 4),
        "exact_weighted": round(float(np.average(name_ok, weights=weights)), 4),
        "auto_share_weighted": round(float(np.average(accepted, weights=weights)), 4),
        "auto_precision_weighted": round(float(np.average(name_ok[accepted], weights=weights[accepted])), 4)
        if accepted.any()
        else None,
        "reliability": calib,
        "decoder_search": search,
        "guard": guard,
    }
    write_meta(meta_path, meta)
    print(json.dumps({k: v for k, v in meta["validation_names"].items() if k != "decoder_search"}, indent=1))
    print("decoder", meta["decoder"])
    print("auto_threshold", threshold)


def write_meta(path: Path, data: dict) -> None:
    """A network's metadata JSON, written whole or not at all (also used by ``class_prior.py``)."""
    _replace_with(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def _replace_with(path: Path, data: bytes) -> None:
    """``path`` holding ``data``: written beside it, then renamed over it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
