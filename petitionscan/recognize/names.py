"""What names look like: a character trigram model and a lexicon of name words,
for choosing among a letter's alternatives and for judging a field's reading.

The classifier gives each box calibrated probabilities P(image | letter). A
field's text is chosen as the string with the highest

    sum of log P(letter) + lm_weight * log P_ngram(word) + lexicon_bonus * [word is a known name]

that is, classifier evidence times a prior over words in which a known name
word is much likelier than a string that merely looks like a name. Strings
are built only from each box's own alternatives: a beam over the top few (with
the trigram model) plus every lexicon word of the right length whose letters
are all among the box's alternatives. A letter whose probability is at least
``sure`` is never changed, so a confident reading is never replaced by a
dictionary word. Hyphenated and apostrophe names (SMITH-JONES, O'BRIEN) are
judged piece by piece.

Besides the text, :func:`decode` reports what the field's confidence is built
from: the posterior of the chosen string, whether its words are known names,
the margin to the runner-up and the weakest letter (see :func:`field_features`).

The statistics come from ``names.json.gz``, built by training/build_names.py
from the person-name lists of Faker and Mimesis (both MIT licence). Names a
person confirmed in the campaign join the lexicon through
:meth:`NameModel.with_words`.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from petitionscan.alphabets import CYRILLIC, LATIN, SEPARATORS
from petitionscan.errors import PetitionscanError
from petitionscan.fileio import atomic_output, user_data_dir

log = logging.getLogger(__name__)

DATA = {
    "latin": Path(__file__).with_name("names.json.gz"),
    "cyrillic": Path(__file__).with_name("names-cyrillic.json.gz"),
}
"""The lexicon and trigram counts of each script."""
CHARS = LATIN + SEPARATORS
"""The Latin model's characters (each model has its own: :attr:`NameModel.chars`)."""
_BOS = len(CHARS)  # start of a Latin word
_EOS = len(CHARS) + 1  # end of a Latin word
_SEPARATORS = SEPARATORS
_FLOOR = 1e-6
UNHEARD_SHARE = 5e-6
"""A letter under this share of the lexicon's letters is one names do not use (Cyrillic: Kazakh Һ,
which no listed name holds; the rarest letter a listed name holds, Ъ, is at 8.6e-6, and every
Latin letter far above)."""
UNHEARD_WEIGHT = 1e-3
"""What a box's probability of such a letter is multiplied by before decoding. The networks
learn Һ from as many drawings as Н, and Һ is drawn as an h: so is many a hurried Н, which
then read as Һ with nothing else in reach of the name model. Weighed down, the name model
chooses among the shapes next to it, and the field carries what it overruled. The cost: a
name with a real Һ (a few loanwords, ШАҺАНОВ) is misread and goes to a person. On the
Cyrillic validation names 66.1 -> 67.3 % exact (0.01 gave 67.0, 0.0001 67.3)."""
KAZAKH_FOLD = str.maketrans({"Ү": "У", "Ұ": "У", "Қ": "К", "Ғ": "Г", "Ң": "Н", "Ө": "О", "Ә": "А", "І": "И", "Һ": "Х"})
"""Each Kazakh letter to the Russian letter the same name is spelt with in Russian."""
NEVER_SURE = frozenset("Ү")
"""Letters the guard never holds, however sure the network: the name model may always weigh
them. The networks learn Kazakh Ү from Latin Y (the capital is written so), and many a
handwritten У is a Y too: on the Cyrillic validation names half the У boxes read Ү first
(622 of 1,231), 45 of them at 0.98 or surer, out of the name model's reach. Never held,
71.05 -> 71.6 % of those names exact, as many accepted."""
LOOK_ALIKES = {"Ү": "У", "O": "D", "J": "G", "U": "V"}
"""A letter the networks read where many a writer meant another (:attr:`DecoderParams.look_alike_share`).

The scripts' letters are apart, so one table serves both; each network's share is its own.
Latin: the letters most often read wrong at 0.98 or surer on the validation names (an
open-bottomed D read O 48 times of 3,125 sure O; a G without its bar read J, 11 of 354; a
rounded V read U, 9 of 1,677), each kept because giving it a share made more of those names
exact (O: 80.04 -> 80.44 %; all three 80.70 %). V read where Y was meant (19) and M where N
was meant (13) made fewer exact and are left out."""
MARGIN_CAP = 12.0
"""Margins above this many nats mean the same: no rival at all."""


@dataclass(frozen=True)
class DecoderParams:
    """Weights of the decoder; the shipped values are fitted on validation writers
    by training/calibrate.py and stored in letters.json."""

    lm_weight: float = 0.5
    """Exponent on the trigram model: below 1 because real names are more varied than any list."""
    lexicon_bonus: float = 3.0
    """Log factor for a known name word."""
    sure: float = 0.98
    """A letter at least this probable is never changed."""
    candidate_min: float = 0.02
    """Alternatives below this are not tried by the beam (they stay in 'other')."""
    lexicon_min: float = 0.005
    """A lexicon word may use an alternative down to this probability."""
    beam: int = 32
    fold_bonus: float = 0.0
    """Log factor for a word that is a listed name but for the marks of Kazakh letters
    (ӘЛИХАН where the lists hold АЛИХАН, :data:`KAZAKH_FOLD`): the lists mostly spell
    Kazakh names the Russian way, so without it the name model preferred a commoner
    letter to a clear Kazakh one (ЭЛИХАН). Less than ``lexicon_bonus``: where the network
    is unsure, the listed spelling still wins. Such a word counts as unknown for the
    confidence."""
    unheard_as: dict[str, dict[str, float]] = field(default_factory=dict)
    """For a letter no name holds (:data:`UNHEARD_SHARE`), the letters that boxes the network
    reads as it hold on validation names, with their shares (Һ: Н 32 %, А 11 %, И 8.5 %, ...).
    The probability taken from the letter goes to them in those shares rather than to the
    box's other letters in proportion: an h-shaped Н is seldom an М, which the network may
    still have found next likeliest."""
    look_alike_share: float = 0.0
    """Share of a box's probability of a :data:`LOOK_ALIKES` letter given to the letter it stands
    for before decoding. A Y-shaped У reads Ү at 0.99 with У under the lexicon's floor, out of
    reach of the name it belongs to (ПУТИЛОВА read ПҮТИЛОВА: on the Cyrillic validation names the
    commonest misreading, 136 of 8,000 fields); an open D reads O (DANIYAR read OANIYAR). Fitted
    on validation names for each network (0: off; Cyrillic 0.3, Latin 0.01)."""
    sure_rescue: int = 0
    """How many sure letters (``sure``) a listed name may differ in, where the letters as read
    spell no listed name: such a field is read as that name but always goes to a person
    (:func:`needs_a_person`), its letters as seen offered first. A bare stroke of a K read I
    at 0.99 made KATRIN read IATRIN, beyond the lists' reach (0: off). Chosen among 0, 1 and 2
    by training/calibrate.py."""


class NameModel:
    """Interpolated character trigram model over name words, plus a lexicon, in one script."""

    def __init__(self, trigrams: dict[str, int], words: Sequence[str], letters: str = LATIN) -> None:
        self._alphabet(letters)
        n = len(self.chars) + 2
        index = {c: i for i, c in enumerate(self.chars)}
        index["^"] = self.bos
        index["$"] = self.eos
        tri = np.zeros((n, n, n), np.float64)
        for key, count in trigrams.items():
            a, b, c = (index[ch] for ch in key)
            tri[a, b, c] += count
        bi = tri.sum(axis=0)
        uni = bi.sum(axis=0)
        p_uni = (uni + 1.0) / (uni.sum() + n)
        p_bi = (bi + 0.5 * p_uni[None, :] * n) / (bi.sum(axis=1, keepdims=True) + 0.5 * n)
        tri_tot = tri.sum(axis=2, keepdims=True)
        lam = tri_tot / (tri_tot + 5.0)
        p_tri = np.where(tri_tot > 0, tri / np.maximum(tri_tot, 1.0), 0.0)
        p = lam * p_tri + (1.0 - lam) * p_bi[None, :, :]
        # Lexicon pieces: split at hyphen and apostrophe.
        pieces = sorted({p for p in _SPLIT.split(" ".join(words)) if len(p) >= 2}, key=lambda p: (len(p), p))
        self._fill(np.log(p), words, pieces)

    @classmethod
    def from_parts(cls, logp: np.ndarray, words: Sequence[str], pieces: Sequence[str], letters: str) -> NameModel:
        """The model as :meth:`parts` gave it (a cached model): no counting, no sorting."""
        model = cls.__new__(cls)
        model._alphabet(letters)
        model._fill(logp, words, pieces)
        return model

    def parts(self) -> tuple[np.ndarray, list[str], list[str]]:
        """(trigram log-probabilities, lexicon words, pieces by length): all :meth:`from_parts` needs."""
        return self.logp, sorted(self.words), [p for _, _, group in self.by_length.values() for p in group]

    def _alphabet(self, letters: str) -> None:
        self.letters = frozenset(letters)
        self.chars = letters + SEPARATORS
        self.bos, self.eos = len(self.chars), len(self.chars) + 1
        self.unknown = len(self.chars) + 2
        """The beam's "any other letter" state."""
        self._code = np.full(max(map(ord, self.chars)) + 1, -1, np.int64)
        self._code[[ord(c) for c in self.chars]] = np.arange(len(self.chars))

    def _fill(self, logp: np.ndarray, words: Iterable[str], pieces: Sequence[str]) -> None:
        """Everything else from the trigram table and the pieces (sorted by length, then alphabetically)."""
        n = len(self.chars) + 2
        self.logp = logp
        # The same with an "unknown letter" state (index n): its context is neutral.
        context = np.full((n + 1, n + 1, n + 1), math.log(1.0 / len(self.letters)))
        context[:n, :n, :n] = self.logp
        self.context = context
        self.words = frozenset(words)
        self.pieces = frozenset(pieces)
        self._at: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        # Pieces by length, as letter index arrays with their trigram
        # log-probability, for vectorised matching.
        self.by_length: dict[int, tuple[np.ndarray, np.ndarray, list[str]]] = {}
        lengths = np.fromiter(map(len, pieces), np.int64, len(pieces))
        starts = np.flatnonzero(np.diff(lengths, prepend=-1))  # where each length's run begins
        for start, end in zip(starts.tolist(), [*starts[1:].tolist(), len(pieces)], strict=True):
            length, group = int(lengths[start]), list(pieces[start:end])
            codes = self.codes_of(group, length)
            self.by_length[length] = (codes, self._codes_logp(codes), group)
        per_letter = [lm / (codes.shape[1] + 1) for codes, lm, _ in self.by_length.values()]
        self.typical_logp = float(np.concatenate(per_letter).mean()) if per_letter else math.log(1.0 / n)
        """Mean log-probability per letter (and end) of the lexicon's pieces under the trigram model."""
        counts = np.zeros(len(self.chars) + 3)
        for codes, _, _ in self.by_length.values():
            counts += np.bincount(codes.ravel(), minlength=len(counts))
        share = counts[: len(self.chars)] / max(1.0, counts.sum())
        self.unheard = frozenset(
            ch for i, ch in enumerate(self.chars) if ch in self.letters and share[i] < UNHEARD_SHARE
        )
        """Letters (almost) no name of the lexicon holds (:data:`UNHEARD_SHARE`); confirmed names do not move them."""

    def codes_of(self, group: Sequence[str], length: int) -> np.ndarray:
        """Letter indices of equally long pieces, one row each."""
        points = np.frombuffer("".join(group).encode("utf-32-le"), np.uint32).astype(np.int64)
        return self._code[points].reshape(len(group), length)

    def words_at(self, length: int, position: int, letters: np.ndarray) -> np.ndarray:
        """Rows of the ``length`` pieces (``by_length``) whose letter at ``position`` is one of
        ``letters`` (indices into ``chars``), in ascending order.

        A field's surest box usually allows one letter; its words are looked up in an
        index built on first use (per length and position) instead of testing every
        piece of that length (20,000 for the commonest lengths).
        """
        index = self._at.get((length, position))
        if index is None:
            column = self.by_length[length][0][:, position]
            order = np.argsort(column, kind="stable")
            bounds = np.searchsorted(column[order], np.arange(len(self.chars) + 1))
            index = self._at[(length, position)] = (order, bounds)
        order, bounds = index
        runs = [order[bounds[c] : bounds[c + 1]] for c in letters.tolist()]
        if len(runs) == 1:
            return runs[0]  # one letter's rows: ascending already (a stable sort)
        return np.sort(np.concatenate(runs)) if runs else order[:0]

    def _codes_logp(self, codes: np.ndarray) -> np.ndarray:
        a = np.full(len(codes), self.bos)
        b = np.full(len(codes), self.bos)
        total = np.zeros(len(codes))
        for k in range(codes.shape[1]):
            c = codes[:, k]
            total += self.logp[a, b, c]
            a, b = b, c
        return total + self.logp[a, b, np.full(len(codes), self.eos)]

    def step(self, a: int, b: int, c: int) -> float:
        return float(self.logp[a, b, c])

    def word_logp(self, word: str) -> float:
        """Log-probability of a whole word (with its end)."""
        a, b = self.bos, self.bos
        total = 0.0
        for ch in word:
            c = self.chars.index(ch)
            total += self.step(a, b, c)
            a, b = b, c
        return total + self.step(a, b, self.eos)

    def plausibility(self, text: str) -> float:
        """How much likelier (nats) than a typical name of the lists the words of ``text``
        are under the trigram model: negative for strings no name of this script looks
        like (BUKTOP for a Latin name). Pieces with a letter of another script count nothing."""
        total = 0.0
        for piece in _SPLIT.split(text.replace(" ", "-")):
            if len(piece) >= 2 and all(ch in self.letters for ch in piece):
                total += self.word_logp(piece) - self.typical_logp * (len(piece) + 1)
        return total

    def known(self, piece: str) -> bool:
        """Whether a word piece (no hyphen or apostrophe) is a known name."""
        return piece in self.pieces

    def known_but_for_marks(self, piece: str) -> bool:
        """Whether a piece spelt with Kazakh letters is a known name spelt the Russian way
        (:data:`KAZAKH_FOLD`); False for a piece without them."""
        folded = piece.translate(KAZAKH_FOLD)
        return folded != piece and folded in self._folded_pieces

    @cached_property
    def _folded_pieces(self) -> frozenset[str]:
        """The pieces with Kazakh letters folded; built on first use (Cyrillic fields only)."""
        return frozenset(p.translate(KAZAKH_FOLD) for p in self.pieces)

    def with_words(self, words: Iterable[str]) -> NameModel:
        """This model with more known pieces (names a person confirmed in this campaign).

        The added pieces join the lexicon itself: the same membership test, the
        same candidate search by length with their trigram score, the same
        bonus. The trigram model is left as trained. Building this costs once
        per process; reading a field costs what it did.
        """
        new = sorted({w for w in words if len(w) >= 2 and all(ch in self.letters for ch in w)} - self.pieces)
        if not new:
            return self
        out = copy.copy(self)
        out.pieces = self.pieces | frozenset(new)
        out.by_length = dict(self.by_length)
        out._at = {}  # the groups grow: their indexes are built anew
        out.__dict__.pop("_folded_pieces", None)  # and the folded pieces with them
        for length in sorted({len(p) for p in new}):
            group = [p for p in new if len(p) == length]
            codes = self.codes_of(group, length)
            lm = self._codes_logp(codes)
            if length in out.by_length:
                old_codes, old_lm, old_names = out.by_length[length]
                codes, lm, group = np.concatenate([old_codes, codes]), np.concatenate([old_lm, lm]), old_names + group
            out.by_length[length] = (codes, lm, group)
        return out


def name_pieces(texts: Iterable[str], script: str = "latin") -> frozenset[str]:
    """The name pieces of typed names, spelt as the decoder of ``script`` spells them.

    Latin: capitals A-Z with accents dropped (Žanar reads ZANAR in capital
    boxes); Cyrillic: capitals as typed (Й and Ё are letters of their own).
    Split at spaces, hyphens and apostrophes as the decoder splits a word;
    pieces of one letter (initials) and pieces with letters of another
    script are left out, since no box of this script could read as them.
    """
    letters = frozenset(LATIN if script == "latin" else CYRILLIC)
    out: set[str] = set()
    for text in texts:
        plain = text.upper()
        if script == "latin":
            plain = "".join(ch for ch in unicodedata.normalize("NFKD", plain) if not unicodedata.combining(ch))
        for sep in (*_SEPARATORS, "\u2019", "\u2010", "\u2011", "\u2013"):
            plain = plain.replace(sep, " ")
        out.update(p for p in plain.split() if len(p) >= 2 and all(ch in letters for ch in p))
    return frozenset(out)


_SPLIT = re.compile(f"[ {re.escape(_SEPARATORS)}]")
"""Splits a name into its pieces: at spaces, hyphens and apostrophes."""


GIVEN = "given"
SURNAME = "surname"
KINDS = (GIVEN, SURNAME)
"""Which list a field's words are looked up in: given names, surnames, or (None) both."""


@lru_cache(maxsize=2)
def _lexicon_data(script: str = "latin") -> dict[str, Any]:
    data: dict[str, Any] = json.loads(gzip.decompress(DATA[script].read_bytes()))
    return data


@lru_cache(maxsize=2 * (len(KINDS) + 1))
def load_model(kind: str | None = None, script: str = "latin") -> NameModel:
    """The shipped trigram model with the given names, the surnames, or (None) both as lexicon.

    A first-name field is looked up among given names only and a surname
    field among surnames only: half as many neighbours to be confused with,
    so a real name stands out from its look-alikes (on the validation writers
    this made 2 % more names exact and 4 % more accepted automatically). A
    field holding the whole name uses both lists.

    Building a model sorts and counts 100,000 words (about a tenth of a
    second); every page reader needs it, so the result is kept in the user's
    data folder (:func:`cached_model`) and built again only when the shipped
    lists change.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown name kind {kind!r}")
    letters = LATIN if script == "latin" else CYRILLIC
    path = cache_path(kind, script)
    cached = cached_model(path, letters)
    if cached is not None:
        return cached
    data = _lexicon_data(script)
    if kind is None:
        words = sorted(set(data["given"]) | set(data["surnames"]))
    else:
        words = data["given" if kind == GIVEN else "surnames"]
    model = NameModel(data["trigrams"], words, letters)
    _write_cache(path, model)
    return model


CACHE_FORMAT = 1
"""Bumped whenever what :meth:`NameModel.parts` holds changes."""


def cache_path(kind: str | None, script: str) -> Path:
    """``cache/names-<script>-<kind>-<digest>.npz`` in the user's data folder; the digest is of the shipped lists."""
    return user_data_dir() / "cache" / f"names-{script}-{kind or 'any'}-{lists_digest(script)}-{CACHE_FORMAT}.npz"


@lru_cache(maxsize=2)
def lists_digest(script: str) -> str:
    """Of the shipped lists, read once per process (each of a script's three models asks; the
    calibration keys its evidence by it)."""
    return hashlib.sha256(DATA[script].read_bytes()).hexdigest()[:16]


def cached_model(path: Path, letters: str) -> NameModel | None:
    """The model kept at ``path``, or None when there is none (or it is unreadable: then it is built again)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            logp = z["logp"]
            words = bytes(z["words"]).decode("utf-8").split("\n")
            pieces = bytes(z["pieces"]).decode("utf-8").split("\n")
    except (OSError, ValueError, KeyError, UnicodeDecodeError):
        return None
    return NameModel.from_parts(logp, words, pieces, letters)


def _write_cache(path: Path, model: NameModel) -> None:
    """Keep the model for the next process; written whole or not at all, and never a reason to fail."""
    logp, words, pieces = model.parts()

    def blob(texts: list[str]) -> np.ndarray:
        return np.frombuffer("\n".join(texts).encode("utf-8"), np.uint8)

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as tmp, tmp.open("wb") as fh:
            np.savez(fh, logp=logp, words=blob(words), pieces=blob(pieces))
    except (OSError, PetitionscanError) as exc:
        log.debug("name model not kept in %s: %s", path, exc)


def field_kind(key: str) -> str | None:
    """The name kind of a field from its key ("7:first_name" -> given), None for any other field."""
    name = key.rsplit(":", 1)[-1]
    return {"first_name": GIVEN, "surname": SURNAME}.get(name)


Alternatives = Sequence[tuple[str, float]]


@dataclass(frozen=True)
class PieceChoice:
    """The decision for one piece of a word (between separators)."""

    text: str
    posterior: float
    known: bool
    margin: float
    changed: bool
    over_sure: bool = False
    """A listed name taken over a sure letter (:attr:`DecoderParams.sure_rescue`)."""


@dataclass(frozen=True)
class Decoded:
    """The chosen characters per word and what the confidence is built from."""

    chars: list[list[str]]
    pieces: list[PieceChoice]
    letter_probs: list[float]
    separators: list[float]
    overruled: float = 0.0
    """Nats the name model took from the network: log P(network's letter) - log P(chosen), summed over boxes."""
    overrules: tuple[tuple[str, str], ...] = ()
    """Each box where the name model overruled the network: (the network's letter, the letter chosen)."""

    @property
    def posterior(self) -> float:
        p = 1.0
        for q in self.separators:
            p *= q
        for piece in self.pieces:
            p *= piece.posterior
        return p


def choose(
    words: Sequence[Sequence[Alternatives]], model: NameModel | None = None, params: DecoderParams | None = None
) -> tuple[list[list[str]], float]:
    """Best characters per box and the combined model's probability that all are right."""
    d = decode(words, model, params)
    return d.chars, d.posterior


def decode(
    words: Sequence[Sequence[Alternatives]], model: NameModel | None = None, params: DecoderParams | None = None
) -> Decoded:
    """Choose the text of a field; ``words`` holds, per word, each box's probability
    list (character, probability), best first."""
    model = model or load_model()
    params = params or DecoderParams()
    seen = words
    if params.look_alike_share > 0.0:
        # Only where a name list can act: an initial is left to its letter's probabilities.
        words = [
            [_look_alike(box, params.look_alike_share) for box in word] if len(word) > 1 else word for word in words
        ]
    if model.unheard:
        words = [[_unheard_down(box, model.unheard, params.unheard_as) for box in word] for word in words]
    chars: list[list[str]] = []
    pieces: list[PieceChoice] = []
    probs: list[float] = []
    separators: list[float] = []
    overruled = 0.0
    overrules: list[tuple[str, str]] = []
    for word, seen_word in zip(words, seen, strict=True):
        out: list[str] = []
        start = 0
        for i in range(len(word) + 1):
            # Only inside a word: a name neither starts nor ends with a hyphen,
            # so an edge dash stays a character that the name model judges.
            is_sep = 0 < i < len(word) - 1 and i > start and bool(word[i]) and word[i][0][0] in _SEPARATORS
            if i < len(word) and not is_sep:
                continue
            if i > start:
                piece = _decode_piece(word[start:i], model, params, seen_word[start:i])
                pieces.append(piece)
                out.extend(piece.text)
            if is_sep:
                out.append(word[i][0][0])
                separators.append(word[i][0][1])
            start = i + 1
        chars.append(out)
        for box, raw, ch in zip(word, seen_word, out, strict=False):
            probs.append(_prob_of(box, ch))
            if raw and raw[0][0] != ch:  # against what the network saw
                overruled += math.log(max(raw[0][1], _FLOOR)) - math.log(max(_prob_of(raw, ch), _FLOOR))
                overrules.append((raw[0][0], ch))
    return Decoded(chars, pieces, probs, separators, overruled, tuple(overrules))


def _look_alike(box: Alternatives, share: float) -> Alternatives:
    """A box's probabilities with ``share`` of each :data:`LOOK_ALIKES` letter's moved to the
    letter it stands for, best first; the box's total is kept."""
    if not any(ch in LOOK_ALIKES for ch, _ in box[:4]):
        return box
    return _given_away(box, _look_alike_table(share))


@lru_cache(maxsize=4)
def _look_alike_table(share: float) -> dict[str, tuple[float, float, dict[str, float]]]:
    """What :func:`_given_away` needs for the look-alikes: built once per share, not once per box."""
    return {ch: (1.0 - share, share, {to: 1.0}) for ch, to in LOOK_ALIKES.items()}


def _given_away(box: Alternatives, given: Mapping[str, tuple[float, float, Mapping[str, float]]]) -> Alternatives:
    """A box's probabilities, best first, with each letter of ``given`` keeping the fraction
    ``keep`` of its probability and giving the fraction ``give`` to other letters in their
    shares: ``given[letter] = (keep, give, {other: share})``."""
    out: dict[str, float] = {}
    for ch, p in box:
        if ch in given:
            keep, give, to = given[ch]
            out[ch] = out.get(ch, 0.0) + p * keep
            for c, share in to.items():
                out[c] = out.get(c, 0.0) + p * give * share
        else:
            out[ch] = out.get(ch, 0.0) + p
    return sorted(out.items(), key=lambda x: -x[1])


def _unheard_down(
    box: Alternatives, unheard: frozenset[str], unheard_as: Mapping[str, Mapping[str, float]] | None = None
) -> Alternatives:
    """A box's probabilities with the letters no name holds weighed down (:data:`UNHEARD_WEIGHT`),
    best first, the box's total kept (a spilled or split glyph's discount stays): what is taken
    goes to the letters such boxes hold (:attr:`DecoderParams.unheard_as`), or where that is not
    known, to the box's other letters in proportion."""
    if not any(ch in unheard for ch, _ in box[:4]):
        return box
    if unheard_as and all(ch in unheard_as for ch, _ in box if ch in unheard):
        return _given_away(
            box, {ch: (UNHEARD_WEIGHT, 1.0 - UNHEARD_WEIGHT, unheard_as[ch]) for ch, _ in box if ch in unheard}
        )
    scaled = [(ch, p * UNHEARD_WEIGHT if ch in unheard else p) for ch, p in box]
    total = sum(p for _, p in scaled)
    if total <= 0.0:
        return box
    k = sum(p for _, p in box) / total
    return sorted(((ch, p * k) for ch, p in scaled), key=lambda x: -x[1])


def _prob_of(alts: Alternatives, ch: str) -> float:
    for c, p in alts:
        if c == ch:
            return p
    return 0.0


def _logprob_matrix(boxes: Sequence[Alternatives], chars: str) -> np.ndarray:
    floor = math.log(_FLOOR)
    index = _char_index(chars)
    rows: list[list[float]] = []
    for alts in boxes:
        row = [floor] * len(chars)
        for ch, p in alts:
            j = index.get(ch)
            if j is not None:
                row[j] = math.log(max(p, _FLOOR))
        rows.append(row)
    return np.array(rows, np.float64).reshape(len(boxes), len(chars))


@lru_cache(maxsize=8)
def _char_index(chars: str) -> dict[str, int]:
    """Each character's first position in ``chars`` (what ``str.find`` says)."""
    index: dict[str, int] = {}
    for j, ch in enumerate(chars):
        index.setdefault(ch, j)
    return index


def _beam(
    boxes: Sequence[Alternatives], fixed: Sequence[bool], model: NameModel, params: DecoderParams
) -> tuple[dict[str, float], list[float]]:
    """Beam over each box's top alternatives with the trigram model, vectorised.

    A hypothesis that took "other" (all alternatives not tried: the box's
    leftover mass, a neutral model factor) can never be chosen; its score only
    counts toward the normalisation. Returns the complete strings' scores (end
    of word and lexicon bonus included) and the scores of the "other" ones.
    """
    w = params.lm_weight
    table = model.context
    chars_of = model.chars
    unknown = model.unknown
    scores = np.zeros(1)
    a = np.full(1, model.bos)
    b = np.full(1, model.bos)
    has_other = np.zeros(1, bool)
    trail: list[tuple[np.ndarray, np.ndarray]] = []
    for alts, sure in zip(boxes, fixed, strict=True):
        cands = [alts[0]] if sure else [x for x in alts if x[1] >= params.candidate_min][:4] or [alts[0]]
        cands = [(c, p) for c, p in cands if c in chars_of]
        codes = np.array([chars_of.index(c) for c, _ in cands] + [unknown])
        rest = max(_FLOOR, 1.0 - sum(p for _, p in cands))
        logp = np.log(np.maximum([p for _, p in cands] + [rest], _FLOOR))
        new = scores[:, None] + logp[None, :] + w * table[a[:, None], b[:, None], codes[None, :]]
        flat = new.ravel()
        keep = np.argpartition(-flat, params.beam)[: params.beam] if flat.size > params.beam else np.arange(flat.size)
        parent, k = np.divmod(keep, len(codes))
        scores = flat[keep]
        a, b = b[parent], codes[k]
        has_other = has_other[parent] | (k == len(codes) - 1)
        trail.append((parent, codes[k]))
    done = ~has_other
    final = scores + np.where(done, w * table[a, b, np.full(len(a), model.eos)], 0.0)
    out: dict[str, float] = {}
    for i in np.flatnonzero(done):
        j, chars = int(i), []
        for parent, code in reversed(trail):
            chars.append(chars_of[int(code[j])])
            j = int(parent[j])
        text = "".join(reversed(chars))
        bonus = 0.0
        if len(text) >= 2:
            if model.known(text):
                bonus = params.lexicon_bonus
            elif params.fold_bonus and model.known_but_for_marks(text):
                bonus = params.fold_bonus
        out[text] = float(final[i]) + bonus
    return out, sorted((float(v) for v in final[has_other]), reverse=True)


def _decode_piece(
    boxes: Sequence[Alternatives],
    model: NameModel,
    params: DecoderParams,
    seen: Sequence[Alternatives] | None = None,
) -> PieceChoice:
    """Posterior ranking of the strings one piece may read as.

    ``seen``: the boxes as the network gave them, before letters no name holds
    were weighed down. A box whose own first choice was such a letter is never
    held: taking away an h-shaped Н's Һ must not make the runner-up (an М)
    sure, and so out of the name lists' reach.
    """
    if len(boxes) == 1:  # an initial, or the O of O'BRIEN: no name word to model
        params = replace(params, lm_weight=0.0)
    top = [alts[0] if alts else ("?", 0.0) for alts in boxes]
    raw = [alts[0] if alts else ("?", 0.0) for alts in seen] if seen is not None else top
    fixed = [
        p >= params.sure and ch == own and own not in NEVER_SURE for (ch, p), (own, _) in zip(top, raw, strict=True)
    ]
    scores, other = _beam(boxes, fixed, model, params)
    # Every lexicon word of this length that the boxes allow.
    group = model.by_length.get(len(boxes))
    if group is not None:
        logp = _logprob_matrix(boxes, model.chars)
        allowed = logp >= math.log(params.lexicon_min)
        for i, (ch, _p) in enumerate(top):
            if fixed[i]:
                allowed[i] = False
                if ch in model.chars:
                    allowed[i, model.chars.index(ch)] = True
        idx, s = _listed_words(logp, allowed, group, model, params)
        names = group[2]
        for j, v in zip(idx, s, strict=True):
            scores[names[int(j)]] = float(v)
    if not scores:
        text = "".join(ch for ch, _ in top)
        return PieceChoice(text, 0.0, model.known(text), 0.0, False)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best_text, best = ranked[0]
    all_scores = np.array([v for _, v in ranked] + other)
    norm = float(np.logaddexp.reduce(all_scores))
    if params.sure_rescue and group is not None and any(fixed) and not model.known(best_text):
        rescue = _listed_over_sure(logp, group, fixed, top, model, params)
        if rescue is not None and rescue[1] > best + RESCUE_MARGIN:
            text, score = rescue
            norm = float(np.logaddexp(norm, score))
            return PieceChoice(text, math.exp(score - norm), True, min(MARGIN_CAP, score - best), True, True)
    rivals = [v for _, v in ranked[1:2]] + other[:1]
    rival = max(rivals) if rivals else best - MARGIN_CAP
    margin = min(MARGIN_CAP, best - rival)
    changed = any(ch != t for ch, (t, _) in zip(best_text, top, strict=True))
    return PieceChoice(
        best_text, math.exp(best - norm), len(best_text) >= 2 and model.known(best_text), margin, changed
    )


RESCUE_MARGIN = 4.0
"""Nats by which a listed name must beat the letters as read before it is taken over a sure
letter (:attr:`DecoderParams.sure_rescue`). On the first draw of Latin validation names
(8,000) margins of 0, 2, 4 and 6 nats made 16, 14, 11 and 8 names right and 12, 9, 1 and 0
wrong; at 4, the next two draws: 16 right and 0 wrong, 11 and 3."""


def _listed_over_sure(
    logp: np.ndarray,
    group: tuple[np.ndarray, np.ndarray, list[str]],
    fixed: Sequence[bool],
    top: Sequence[tuple[str, float]],
    model: NameModel,
    params: DecoderParams,
) -> tuple[str, float] | None:
    """The likeliest listed word differing from the sure letters in 1 to ``sure_rescue`` boxes, with its score.

    ``logp``: the boxes' letter log-probabilities (:func:`_logprob_matrix`); ``group``: the
    lexicon pieces of their length (``NameModel.by_length``). Every letter of the word must
    still be one the network gave at least ``lexicon_min``.
    """
    sure = [i for i, f in enumerate(fixed) if f and top[i][0] in model.chars]
    if not sure:
        return None
    codes, _lm, names = group
    idx, s = _listed_words(logp, logp >= math.log(params.lexicon_min), group, model, params)
    seen = np.array([model.chars.index(top[i][0]) for i in sure])
    changed = (codes[idx][:, sure] != seen[None, :]).sum(axis=1)
    keep = (changed >= 1) & (changed <= params.sure_rescue)
    if not keep.any():
        return None
    idx, s = idx[keep], s[keep]
    best = int(np.argmax(s))
    return names[int(idx[best])], float(s[best])


def _listed_words(
    logp: np.ndarray,
    allowed: np.ndarray,
    group: tuple[np.ndarray, np.ndarray, list[str]],
    model: NameModel,
    params: DecoderParams,
) -> tuple[np.ndarray, np.ndarray]:
    """The lexicon pieces of ``group`` whose every letter ``allowed`` lets through, and their scores.

    Narrowed position by position, most selective (sure) boxes first; the first
    position picks its words from an index, not from the whole group.
    """
    codes, lm_words, _names = group
    n = logp.shape[0]
    order = sorted(range(n), key=lambda i: int(allowed[i].sum()))
    idx = model.words_at(n, order[0], np.flatnonzero(allowed[order[0]]))
    for i in order[1:]:
        if not idx.size:
            break
        idx = idx[allowed[i, codes[idx, i]]]
    rows = np.arange(n)
    s = logp[rows[None, :], codes[idx]].sum(axis=1) + params.lm_weight * lm_words[idx] + params.lexicon_bonus
    return idx, s


def known_name(text: str, model: NameModel | None = None) -> bool:
    """Whether every piece of two or more letters of ``text`` is a known name."""
    model = model or load_model()
    pieces = [p for p in _SPLIT.split(text) if len(p) >= 2]
    return all(model.known(p) for p in pieces)


FEATURES = (
    "log_posterior",
    "unknown_words",
    "margin",
    "log_min_letter",
    "continuation",
    "single_letters",
    "margin_if_all_known",
    "log_min_letter_if_unknown",
    "log_posterior_if_unknown",
    "overruled",
)


def field_features(d: Decoded, continuation: bool) -> list[float]:
    """What a field's confidence is computed from (see training/calibrate.py).

    The chosen string's log posterior, the number of pieces of two or more
    letters that are no known name, the smallest margin to a runner-up (nats),
    the log probability of the weakest chosen letter, whether a box held ink
    but no letter of its own, and the number of one-letter pieces (initials
    and the O of O'BRIEN, which no lexicon vouches for). The last three let
    the evidence count differently for known and unknown names: a known name
    is trusted on its margin, an unknown one only on its letters. The last
    is how far the name model overruled the network (:attr:`Decoded.overruled`,
    capped): a name "corrected" into a list's spelling carries that doubt,
    so an unusual but real spelling turned into a commoner one is not
    accepted on the strength of the list alone.
    """
    long = [p for p in d.pieces if len(p.text) >= 2]
    log_post = max(-30.0, math.log(max(d.posterior, 1e-300)))
    unknown = float(sum(not p.known for p in long))
    margin = min((p.margin for p in d.pieces), default=MARGIN_CAP)
    min_letter = max(-14.0, math.log(max(min(d.letter_probs, default=1.0), 1e-12)))
    is_unknown = float(unknown > 0)
    return [
        log_post,
        unknown,
        margin,
        min_letter,
        float(continuation),
        float(sum(len(p.text) < 2 for p in d.pieces)),
        margin * (1.0 - is_unknown),
        min_letter * is_unknown,
        log_post * is_unknown,
        min(d.overruled, MARGIN_CAP),
    ]


LISTED_FEATURES = (*FEATURES, "overrule_surprise", "overruled_boxes")
"""What the confidence of a field whose every word is listed is computed from (``training/page_threshold.py``):
:data:`FEATURES` and how unlikely each overrule was (:func:`listed_features`)."""
SURPRISE_CAP = 8.0
"""Nats an overrule costs in ``overrule_surprise`` at most, and where the validation sheets never saw it."""


def overrule_key(seen: str, chosen: str) -> str:
    """How an overrule is named in the metadata's surprise table: ``"Ү>У"``."""
    return f"{seen}>{chosen}"


def overrule_features(overrules: Sequence[tuple[str, str]], surprise: Mapping[str, float]) -> list[float]:
    """The two features :data:`LISTED_FEATURES` adds: the overrules' summed surprise, their number.

    An overrule is not equally doubtful whichever letters it swaps. On the
    Cyrillic validation sheets the network's own letter was Ү in 48 % of the
    boxes where the writer meant У (0.74 nats of surprise), so a listed name's
    У over a seen Ү is the usual case; a seen Я where the name has А was rare
    (7.8 nats) and is a real doubt. ``surprise`` holds, per overrule
    (:func:`overrule_key`), -log P(the network's letter | the letter the writer
    meant) as counted on the validation sheets (``training/page_threshold.py``);
    an overrule they never saw costs :data:`SURPRISE_CAP`.
    """
    cost = sum(min(SURPRISE_CAP, surprise.get(overrule_key(a, b), SURPRISE_CAP)) for a, b in overrules)
    return [cost, float(len(overrules))]


def listed_features(d: Decoded, continuation: bool, surprise: Mapping[str, float]) -> list[float]:
    """:data:`LISTED_FEATURES` of a decoded field: :func:`field_features` and :func:`overrule_features`."""
    return [*field_features(d, continuation), *overrule_features(d.overrules, surprise)]


def all_words_listed(features: Sequence[float]) -> bool:
    """Whether the field whose :func:`field_features` these are holds no unlisted word: such a
    field's confidence may come from a model fitted on listed names only (``cnn.ScriptModel``)."""
    return features[FEATURES.index("unknown_words")] == 0


SEPARATOR_CAP = 0.9
"""Highest confidence of a field that :func:`needs_a_person` says goes to a person.

The handwriting sources hold no hyphens or apostrophes, so the calibration
names have none and the confidence model was never checked on them; worse,
a letter drawn small and high (an O) or short and flat (an L) can pass the
shape rule, and the two halves are then often known short names (ER'SLAV
for EROSLAV). Such fields always go to a person."""


def has_separator(d: Decoded) -> bool:
    """Whether the decoded field holds a hyphen or an apostrophe."""
    return any(ch in _SEPARATORS for chars in d.chars for ch in chars)


def needs_a_person(
    d: Decoded,
    words: int,
    kind: str | None,
    maybe_apostrophe: bool = False,
    late_start: bool = False,
    stray_marks: bool = False,
) -> bool:
    """Whether a field goes to a person however sure its letters are.

    A hyphen or apostrophe read (see :data:`SEPARATOR_CAP`), or a first-name or
    surname field read as two or more words: one name goes in each, so a
    blank box between its letters is more often an apostrophe or a hyphen
    too faint to see (KRASIL'NIKOV read as KRASIL NIKOV, both halves known
    names) than a space someone wrote. A one-field name keeps its space.
    ``maybe_apostrophe``: a box holds a mark that may be an apostrophe read
    as a letter (NATAL'YA as NATALIYA, a known name). ``late_start``: the
    field's first box was read as empty but later ones as written. Signers
    begin in the first box, so that box more likely held a letter too faint
    to see (ASEL read as SEL, a listed name, at 0.999) than nothing.
    ``stray_marks``: a mark alone between blank boxes was left out of the
    reading (``cnn.FieldEvidence.stray_marks``); a person sees whether it was
    nothing.
    """
    over_sure = any(piece.over_sure for piece in d.pieces)
    return (
        has_separator(d) or (kind in KINDS and words > 1) or maybe_apostrophe or late_start or over_sure or stray_marks
    )


def separator_capped(confidence: float, to_a_person: bool) -> float:
    """A field's confidence, capped at :data:`SEPARATOR_CAP` when it goes to a person (:func:`needs_a_person`).

    The reader and the threshold fit both go through here, so the threshold is
    chosen on the confidences the reader will give.
    """
    return min(confidence, SEPARATOR_CAP) if to_a_person else confidence


def confidence_of(features: Sequence[float], coef: Sequence[float], intercept: float) -> float:
    """Logistic model of P(field text exactly right), coefficients from letters.json."""
    z = intercept + sum(c * f for c, f in zip(coef, features, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
