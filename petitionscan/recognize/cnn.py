"""The default engine: a small convolutional network over each letter box.

The network (``letters.onnx``, trained by training/train_letters.py on real
pen strokes of several hundred writers) runs with onnxruntime, one forward
pass for all written boxes of a page, on one thread per worker process
(onnxruntime's kernels run this network about three times faster than
OpenCV's dnn module). Its softmax is temperature
scaled on held-out writers, so a letter's probability means what it says;
:mod:`petitionscan.recognize.names` then picks between close alternatives
with what names look like (a name lexicon and character trigrams), and a small
logistic model fitted on validation writers turns what the decision rests on
(posterior, known names, margin, weakest letter) into the field's confidence.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from petitionscan.alphabets import scripts_of
from petitionscan.errors import RecognizerError
from petitionscan.geometry import NAME_FIELDS
from petitionscan.recognize import FieldImage, LetterReading, Reading
from petitionscan.recognize.glyph import (
    KIND_DASH,
    KIND_LETTER,
    KIND_TICK,
    Glyph,
    extract_glyphs,
    words_of,
)
from petitionscan.recognize.names import (
    LISTED_FEATURES,
    Decoded,
    DecoderParams,
    NameModel,
    all_words_listed,
    decode,
    field_features,
    field_kind,
    load_model,
    name_pieces,
    needs_a_person,
    overrule_features,
    separator_capped,
)
from petitionscan.recognize.names import confidence_of as _confidence_of

HERE = Path(__file__).resolve().parent
WEIGHTS = HERE / "letters.onnx"
META = HERE / "letters.json"
CYRILLIC_WEIGHTS = HERE / "cyrillic.onnx"
CYRILLIC_META = HERE / "cyrillic.json"

SPLIT_FACTOR = 0.3
"""Probability kept by a box that seems to hold two letters."""
SPILL_FACTOR = 0.85
"""Probability kept by a glyph with much of its ink outside its box."""
SHAPE_RULE_P = 0.97
"""Probability given to a hyphen or apostrophe recognised by its shape."""
TICK_LIKE_P = 0.3
"""Probability given to an apostrophe in a box whose letter may be one (``Glyph.tick_like``):
it wins where the network is unsure of the letter. Either way the field goes to a person
(``FieldEvidence.maybe_apostrophe``): at 0.5 and more the apostrophe also won over sure
I's (two names of 296 on the tablet page benchmark), and below it a known name read
with an I (NATALIYA) still reached the threshold."""
GLYPHS_PER_RUN = 16
"""Glyphs the network is given at once. A page's 188 glyphs in one run pass 18 MB of
activations through the core's cache between layers; in runs of 16 each layer's output
(1.5 MB at most) stays in it. The same arithmetic per glyph: a Latin page's network time
fell from 33-38 to 29-30 ms, a Cyrillic page's (two networks) from 73-76 to 57-59
(``benchmarks/bench_network.py``)."""


@dataclass(frozen=True)
class FieldEvidence:
    """A field's written boxes grouped into words, and each box's probability list."""

    words: tuple[tuple[int, ...], ...]
    dists: dict[int, list[tuple[str, float]]]
    continuation: bool
    """A box held ink but no letter of its own (a neighbour's letter spilled into it)."""
    kind: str | None = None
    """Given name, surname or (None) any: which name list the decoder looks words up in."""
    script: str = "latin"
    """Whose network read the boxes and whose name model decodes them."""
    other: FieldEvidence | None = None
    """On a field that may be written in either script: the same boxes read in the other one."""
    name: bool = True
    """A name field (first name, surname, or both in one): its reading chooses the row's script."""
    maybe_apostrophe: bool = False
    """A box holds a mark the shape rule could not tell from an apostrophe (``Glyph.tick_like``)."""
    stray_marks: bool = False
    """A word made of apostrophe- or hyphen-shaped marks alone was left out (:func:`_without_stray_marks`)."""


def _without_stray_marks(words: list[list[int]], glyphs: Sequence[Glyph]) -> tuple[list[list[int]], bool]:
    """The field's words less those made of apostrophe- or hyphen-shaped marks alone, and whether any went.

    An apostrophe or a hyphen joins the letters of a name; alone between blank
    boxes it is a speck, a stroke spilled from the row above or a slip of the
    pen (GULNAR ISATAEVA read "ISATAEVA '"). A field of nothing else keeps
    them: what it holds is for a person to see.
    """
    kinds = {g.box: g.kind for g in glyphs}
    kept = [w for w in words if not all(kinds.get(b) in (KIND_DASH, KIND_TICK) for b in w)]
    if not kept or len(kept) == len(words):
        return words, False
    return kept, True


def starts_late(ev: FieldEvidence) -> bool:
    """The field's first written box is not its first box (:func:`names.needs_a_person`)."""
    return bool(ev.words) and ev.words[0][0] > 0


def goes_to_a_person(ev: FieldEvidence, d: Decoded) -> bool:
    """:func:`names.needs_a_person` for a field read from ``ev``: the reader and the calibration ask the same."""
    return needs_a_person(d, len(ev.words), ev.kind, ev.maybe_apostrophe, starts_late(ev), ev.stray_marks)


@dataclass
class ScriptModel:
    """One script's letter network with what was fitted for it (``letters.json`` beside it)."""

    script: str
    weights: Path
    meta_path: Path
    classes: str = ""
    temperature: float = 1.0
    auto_threshold: float = 0.0
    input_size: int = 32
    decoder: DecoderParams = field(default_factory=DecoderParams)
    coef: tuple[float, ...] = ()
    intercept: float = 0.0
    coef_listed: tuple[float, ...] = ()
    intercept_listed: float = 0.0
    """The confidence of a field whose every word is a listed name, fitted on whole validation
    sheets (``training/page_threshold.py``); empty: ``coef`` for every field."""
    surprise: dict[str, float] = field(default_factory=dict)
    """Per overrule, how surprising it was on the validation sheets (``names.overrule_features``)."""
    listed_overrules: bool = False
    """Whether ``coef_listed`` weighs ``names.LISTED_FEATURES`` (else ``names.FEATURES``)."""
    digest: str = ""
    prior_bias: tuple[float, ...] = ()
    """Added to each class's tempered logit: minus ``prior_correction`` times the log of the
    class's share of the training renders (see :func:`class_prior_bias`); empty: none."""
    _net: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
            self.digest = hashlib.sha256(self.weights.read_bytes()).hexdigest()[:12]
        except (OSError, ValueError) as exc:
            raise RecognizerError(
                f"the {self.script} letter model is missing or unreadable ({exc}); reinstall petitionscan"
            ) from exc
        self.classes = str(meta["classes"])
        self.temperature = float(meta["temperature"])
        self.auto_threshold = float(meta["auto_threshold"])
        self.input_size = int(meta["input_size"])
        self.decoder = DecoderParams(**meta.get("decoder", {}))
        conf = meta.get("field_confidence") or {}
        self.coef = tuple(float(c) for c in conf.get("coef", ()))
        self.intercept = float(conf.get("intercept", 0.0))
        listed = meta.get("field_confidence_listed") or {}
        self.coef_listed = tuple(float(c) for c in listed.get("coef", ()))
        self.intercept_listed = float(listed.get("intercept", 0.0))
        self.surprise = {str(k): float(v) for k, v in (listed.get("surprise") or {}).items()}
        self.listed_overrules = list(listed.get("features", ())) == list(LISTED_FEATURES)
        self.prior_bias = class_prior_bias(
            self.classes, meta.get("class_prior"), float(meta.get("prior_correction", 0.0))
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_net"] = None  # the inference session is rebuilt in each worker
        return state

    def field_confidence(self, d: Decoded, continuation: bool) -> float:
        """A field's confidence from its decoding (:func:`names.field_features`).

        A field whose words are all listed names is judged by the model fitted
        on whole validation sheets, where such names are read as on a
        volunteer's scans: the validation names of ``calibrate.py``, half of
        them unlisted and many spelt as no one spells them, taught a model that
        barely told a sure Cyrillic name from a doubtful one (accepted on
        validation sheets 38.7 % of the names against 52.6 %, at the same
        precision). A field with an unlisted word keeps the names' model: the
        sheets hold too few kinds of unlisted names to fit one on.
        """
        features = field_features(d, continuation)
        if self.coef_listed and all_words_listed(features):
            if self.listed_overrules:
                features = [*features, *overrule_features(d.overrules, self.surprise)]
            return _confidence_of(features, self.coef_listed, self.intercept_listed)
        return _confidence_of(features, self.coef, self.intercept)

    def _network(self) -> Any:
        if self._net is None:
            import onnxruntime as ort  # loaded on first use: not every command reads letters

            options = ort.SessionOptions()
            options.intra_op_num_threads = 1  # parallelism comes from one process per page
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            try:
                self._net = ort.InferenceSession(str(self.weights), options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own, unexported exception types
                raise RecognizerError(
                    f"the {self.script} letter model cannot be loaded ({exc}); reinstall petitionscan"
                ) from exc
        return self._net

    def probabilities(self, glyphs: Sequence[np.ndarray]) -> np.ndarray:
        """Calibrated class probabilities for a batch of glyph images."""
        if not glyphs:
            return np.zeros((0, len(self.classes)), np.float32)
        batch = np.stack(glyphs).astype(np.float32)[:, None, :, :]
        net = self._network()
        name = net.get_inputs()[0].name
        runs = [net.run(None, {name: batch[i : i + GLYPHS_PER_RUN]})[0] for i in range(0, len(batch), GLYPHS_PER_RUN)]
        logits = np.concatenate([np.asarray(out, np.float64).reshape(len(out), -1) for out in runs])
        z = logits / self.temperature
        if self.prior_bias:
            z += np.asarray(self.prior_bias)[None, :]
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)


def class_prior_bias(classes: str, class_prior: dict[str, float] | None, strength: float) -> tuple[float, ...]:
    """Per-class logit offsets that undo the training set's class shares (``strength`` 1: fully).

    A network's probabilities carry the class shares it was trained on: the
    Latin network saw O four times as often as D (the paper forms hold more
    O's, and the Cyrillic О drawings join them), the Cyrillic one Ү twice as
    often as У. Dividing by those shares makes every letter equally likely
    before the box is looked at, so the box's evidence alone speaks (a
    likelihood up to a constant); the name model's letter statistics then
    bring in how common each letter really is in names. Empty when the
    metadata has no shares or the strength is 0.
    """
    shares = class_prior or {}
    positive = [float(v) for v in shares.values() if float(v) > 0.0]
    if not positive or strength == 0.0:
        return ()
    floor = min(positive)  # a class without a share counts as the rarest one
    logs = [math.log(max(float(shares.get(c, floor)), floor)) for c in classes]
    mean = sum(logs) / len(logs)
    return tuple(-strength * (v - mean) for v in logs)


@dataclass
class CnnRecognizer:
    """Reads boxes with the shipped networks; loads each once per process, lazily.

    Latin fields are read by ``letters.onnx``, Cyrillic ones by
    ``cyrillic.onnx``; a field of a ``latin+cyrillic`` sheet by both, and the
    reading in the script that explains the row best is kept (:meth:`readings_of`).
    """

    weights: Path = WEIGHTS
    meta_path: Path = META
    cyrillic_weights: Path = CYRILLIC_WEIGHTS
    cyrillic_meta_path: Path = CYRILLIC_META
    name: str = "cnn"
    version: str = ""
    known_words: frozenset[str] = frozenset()
    """Name pieces a person confirmed in this campaign: known names like the lexicon's."""
    _scripts: dict[str, ScriptModel] = field(default_factory=dict, repr=False, compare=False)
    _names: dict[tuple[str | None, str], NameModel] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        latin = ScriptModel("latin", self.weights, self.meta_path)
        self._scripts["latin"] = latin
        self.version = f"cnn-{latin.digest}"

    @property
    def latin(self) -> ScriptModel:
        return self._scripts["latin"]

    # The Latin network's settings, as the scan stage and the tools know them.
    @property
    def auto_threshold(self) -> float:
        return self.latin.auto_threshold

    @property
    def classes(self) -> str:
        return self.latin.classes

    def script_model(self, script: str) -> ScriptModel:
        """The network of ``script``; the Cyrillic one is loaded when a Cyrillic field first comes."""
        if script not in self._scripts:
            if script != "cyrillic":
                raise RecognizerError(f"no letter model for the {script!r} script; reinstall petitionscan")
            self._scripts[script] = ScriptModel(script, self.cyrillic_weights, self.cyrillic_meta_path)
        return self._scripts[script]

    def auto_threshold_for(self, readings: Sequence[Reading]) -> float:
        """The acceptance threshold for a name read in these fields: the strictest of their scripts'."""
        return max((self.script_model(r.script).auto_threshold for r in readings), default=self.auto_threshold)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_names"] = {}  # the name models are large arrays, cheap to build in each worker
        return state

    def with_known_words(self, words: frozenset[str]) -> CnnRecognizer:
        """This engine, counting ``words`` (typed names; normalised here) as known names.

        Words a person confirmed are real names as surely as the public lists'
        are, so they take the lexicon's part in decoding and in the confidence,
        with the same fitted weights.
        """
        out = copy.copy(self)
        out.known_words = frozenset(words)
        out._names = {}
        return out

    def name_model(self, kind: str | None = None, script: str = "latin") -> NameModel:
        """The lexicon of ``kind`` in ``script`` and its trigram model, with this campaign's confirmed words added.

        A confirmed word joins every kind: a person's typing says it is a
        name, not whether it is a given name or a surname.
        """
        if (kind, script) not in self._names:
            extra = name_pieces(self.known_words, script)
            self._names[(kind, script)] = load_model(kind, script).with_words(extra)
        return self._names[(kind, script)]

    def probabilities(self, glyphs: Sequence[np.ndarray], script: str = "latin") -> np.ndarray:
        """Calibrated class probabilities of ``script``'s network for a batch of glyph images."""
        return self.script_model(script).probabilities(glyphs)

    def read(self, fields: Sequence[FieldImage]) -> list[Reading]:
        """Read every field; a signer's fields that may be in either script share one script.

        A row's first name and surname are written by one hand in one script,
        so the script is chosen once for the row from the evidence of all its
        fields: a short name of shapes both scripts share (ТОМА, KATE) follows
        its other field.
        """
        return self.readings_of(self.evidence(fields), [f.row for f in fields])

    def readings_of(
        self, evs: Sequence[FieldEvidence], rows: Sequence[int | None], params: DecoderParams | None = None
    ) -> list[Reading]:
        """Decode fields' evidence; a field of a two-script sheet is decoded in both scripts.

        The script kept for a row (a field with no row: for itself) is the one
        whose letters the networks saw most surely, weighed with the fields'
        confidence, the known names among their words and how name-like the
        words look in each script, summed over the row's name fields; the
        row's other fields (workplace, town) follow the name.
        """
        first = [self._read_one(ev, params) for ev in evs]
        readings = [r for r, _ in first]
        rivals: dict[int, tuple[Reading, Decoded | None]] = {}
        groups: dict[tuple[str, int], list[int]] = defaultdict(list)
        for i, (ev, row) in enumerate(zip(evs, rows, strict=True)):
            if ev.other is not None:
                rivals[i] = self._read_one(ev.other, params)
                groups[("row", row) if row is not None else ("field", i)].append(i)
        for members in groups.values():
            # Workplaces and towns are no names: the name lists and their letter statistics say
            # nothing of them. With them voting, twice as many names went to the wrong script
            # on 40-sheet runs (8 against 4 of 539; see ``PLAUSIBILITY_WEIGHT``).
            voters = [i for i in members if evs[i].name] or members
            if sum(self._score_in_script(*rivals[i]) - self._score_in_script(*first[i]) for i in voters) > 0:
                for i in members:
                    readings[i] = rivals[i][0]
        return readings

    def _score_in_script(self, r: Reading, d: Decoded | None) -> float:
        """How well a reading explains its boxes (:func:`_script_score`), plus how name-like
        its words look in its script (:data:`PLAUSIBILITY_WEIGHT`)."""
        return _script_score(r, d) + PLAUSIBILITY_WEIGHT * self.name_model(None, r.script).plausibility(r.text)

    def evidence(self, fields: Sequence[FieldImage]) -> list[FieldEvidence]:
        """Each field's words as box probability lists: what the decoder works on.

        Separate from :meth:`reading_of` so that calibration can run the network
        once and try decoder settings on the same evidence. The glyphs are cut
        once; each script's network reads, in one batch, the glyphs of the
        fields that may be written in it.
        """
        field_scripts = [scripts_of(f.alphabet) for f in fields]
        per_field = [
            extract_glyphs(f.image, f.boxes_px, f.blank, f.px_per_mm, diacritics="cyrillic" in scripts)
            for f, scripts in zip(fields, field_scripts, strict=True)
        ]
        by_script: dict[str, list[FieldEvidence]] = {}
        for script in ("latin", "cyrillic"):
            chosen = [i for i, scripts in enumerate(field_scripts) if script in scripts]
            if not chosen:
                continue
            images = [g.image for i in chosen for g in per_field[i] if g.kind == KIND_LETTER and g.image is not None]
            probs = self.probabilities(images, script)
            # Each glyph's classes likeliest first, sorted in one call for the batch.
            ranked = _Ranked(probs.tolist(), np.argsort(-probs, axis=1).tolist() if len(probs) else [])
            k = 0
            out: list[FieldEvidence] = []
            for i in chosen:
                ev, k = self._field_evidence(fields[i], per_field[i], ranked, k, script)
                out.append(ev)
            by_script[script] = out
        result: list[FieldEvidence] = []
        cursor = {script: iter(evs) for script, evs in by_script.items()}
        for first, *rest in field_scripts:
            ev = next(cursor[first])
            for script in rest:
                ev = replace(ev, other=next(cursor[script]))
            result.append(ev)
        return result

    def _field_evidence(
        self, f: FieldImage, glyphs: Sequence[Glyph], ranked: _Ranked, k: int, script: str
    ) -> tuple[FieldEvidence, int]:
        classes = self.script_model(script).classes
        dists: dict[int, list[tuple[str, float]]] = {}
        for g in glyphs:
            if g.kind == KIND_LETTER:
                dists[g.box] = _distribution(g, ranked.values[k], ranked.order[k], classes)
                k += 1
            elif g.kind in (KIND_DASH, KIND_TICK):
                dists[g.box] = _shape_rule(g)
        words, stray = _without_stray_marks(words_of(glyphs, f.blank), glyphs)
        continuation = any(
            g.kind != KIND_LETTER and g.kind not in (KIND_DASH, KIND_TICK) and not f.blank[g.box] for g in glyphs
        )
        name = f.key.rsplit(":", 1)[-1] in NAME_FIELDS
        ev = FieldEvidence(
            tuple(tuple(b) for b in words),
            dists,
            continuation,
            field_kind(f.key),
            script,
            name=name,
            maybe_apostrophe=any(g.tick_like for g in glyphs),
            stray_marks=stray,
        )
        return ev, k

    def decoded(self, ev: FieldEvidence) -> tuple[Reading, Decoded | None]:
        """One field's reading and the decoder's result it came from (None for a blank field):
        what ``training/page_threshold.py`` fits the listed names' confidence on."""
        return self._read_one(ev, None)

    def reading_of(self, ev: FieldEvidence, params: DecoderParams | None = None) -> Reading:
        """Decode one field's evidence, on its own (:meth:`readings_of`); calibration tries settings on it."""
        return self.readings_of([ev], [None], params)[0]

    def _read_one(self, ev: FieldEvidence, params: DecoderParams | None) -> tuple[Reading, Decoded | None]:
        """The field's reading, and the decoder's result it came from (None for a blank field)."""
        model = self.script_model(ev.script)
        if not ev.words:
            return Reading("", (), 1.0, self.name, ev.script), None
        words = [[ev.dists[b] for b in word] for word in ev.words]
        d = decode(words, self.name_model(ev.kind, ev.script), params or model.decoder)
        if model.coef and any(len(p.text) >= 2 for p in d.pieces):
            confidence = model.field_confidence(d, ev.continuation)
        else:  # initials only (no name model applies), or before calibration: the posterior
            confidence = d.posterior * (SPILL_FACTOR if ev.continuation else 1.0)
        confidence = separator_capped(confidence, goes_to_a_person(ev, d))
        letters: list[LetterReading] = []
        for word, chars in zip(ev.words, d.chars, strict=False):
            for b, ch in zip(word, chars, strict=False):
                dist = ev.dists[b]
                top = [(ch, _prob_of(dist, ch))]
                top += islice(((c, p) for c, p in dist if c != ch), 2)  # the two likeliest others
                letters.append(LetterReading(b, ch, tuple(top)))
        text = " ".join("".join(chars) for chars in d.chars)
        reading = Reading(text, tuple(letters), float(min(1.0, confidence)), self.name, ev.script)
        return reading, d


KNOWN_NAME_NATS = 1.0
"""What a word of the script's name lists adds to that script's score on a two-script row.

A Cyrillic name written in shapes the Latin network also takes for its own
letters (ВИКТОР МАРКОВ as BUKTOP MAPKOB) is told apart by its words: they are
names in one script's lists and nonsense in the other's. On 40-sheet
``latin+cyrillic`` runs at seeds 13 and 23 (539 names): 10 in the wrong script
without it; 0.5, 1 and 2 nats 7 to 9; 3 and 4 nats more again.
"""


PLAUSIBILITY_WEIGHT = 0.1
"""Nats of a two-script row's score per nat its words are likelier than a typical name
of the script's lists (:meth:`names.NameModel.plausibility`).

A discriminative network cannot say that a shape is no letter of its script, but
the script's letter statistics can say that a string is no name of it: ВИКТОР
read by the Latin network is BUKTOP, a string unlike any Latin name. Chosen on
40-sheet ``latin+cyrillic`` runs at seeds 13 and 23 (539 names), with the vote
taken over name fields only: 4 names in the wrong script without it, 2 from 0.05 to
0.2, 3 at 0.25 (with workplace and town fields voting too: 8 without it).
"""


TWINS = {"Ү": "У", "Ұ": "У", "Ң": "Н", "Қ": "К", "Ғ": "Г", "Ө": "О", "Ё": "Е", "Й": "И", "Щ": "Ш"}
"""Cyrillic letters told apart only by a mark (a bar, a tail, dots): for the script choice
a box the network splits between the two holds a letter of its script seen surely.

Without this a Kazakh name's every Ұ, Ү or Ң weighs against Cyrillic, and the Latin
reading of the same shapes (ТҰРҒЫНБАЕВА as TXPFOHSAEBA) can win.
"""


def _seen(lr: LetterReading) -> float:
    """How surely a box holds a letter of its script: the likeliest letter's probability,
    with its twin's (:data:`TWINS`) added."""
    groups: dict[str, float] = defaultdict(float)
    for c, p in lr.alternatives:
        groups[TWINS.get(c, c)] += p
    return max(groups.values(), default=0.0)


def _script_score(r: Reading, d: Decoded | None) -> float:
    """How well a reading explains its boxes: the network's surety of each letter,
    the field's confidence and how many of its words are known names."""
    seen = sum(math.log(max(_seen(lr), 1e-9)) for lr in r.letters)
    known = sum(p.known for p in d.pieces) if d is not None else 0
    return seen + math.log(max(r.confidence, 1e-9)) + KNOWN_NAME_NATS * known


class _Ranked(NamedTuple):
    """A batch's class probabilities (rows of Python floats) and each row's classes, likeliest first."""

    values: list[list[float]]
    order: list[list[int]]


def _distribution(g: Glyph, values: list[float], order: list[int], classes: str) -> list[tuple[str, float]]:
    """A letter box's (class, probability) list, likeliest first, weighed down for a box holding two
    parts or spilled ink, an apostrophe added where the mark may be one."""
    factor = 1.0
    if g.split:
        factor *= SPLIT_FACTOR
    if g.spill > 0.35:
        factor *= SPILL_FACTOR
    if len(order) > 1:  # itemgetter of one index gives the item, not a tuple
        ranked = itemgetter(*order)
        chars, probs = ranked(classes), ranked(values)
    else:
        chars, probs = tuple(classes[i] for i in order), tuple(values[i] for i in order)
    dist = list(zip(chars, probs if factor == 1.0 else [v * factor for v in probs], strict=True))
    if g.tick_like:
        dist = sorted(
            [("'", TICK_LIKE_P * factor), *((c, v * (1 - TICK_LIKE_P)) for c, v in dist)], key=lambda t: -t[1]
        )
    return dist


def _prob_of(dist: Sequence[tuple[str, float]], ch: str) -> float:
    for c, p in dist:
        if c == ch:
            return p
    return 0.0


def _shape_rule(g: Glyph) -> list[tuple[str, float]]:
    if g.kind == KIND_DASH:
        return [("-", SHAPE_RULE_P), ("I", (1 - SHAPE_RULE_P) / 2), ("'", (1 - SHAPE_RULE_P) / 2)]
    return [("'", SHAPE_RULE_P), ("I", (1 - SHAPE_RULE_P) / 2), ("-", (1 - SHAPE_RULE_P) / 2)]
