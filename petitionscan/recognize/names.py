"""What names look like: a character trigram model and a lexicon, for choosing
among a letter's alternatives.

The classifier gives each box calibrated probabilities; names are far from
random strings (``MARIA`` is likelier than ``MAPIA``). A small beam search
combines the two: it only ranks strings built from each box's own top
alternatives and never touches a letter the classifier is sure of, so a
confident reading is never replaced by a dictionary word. The field's
confidence is the combined model's probability of the chosen string.

The statistics come from ``names.json.gz``, built by training/build_names.py
from Faker's name lists (MIT licence).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).with_name("names.json.gz")
CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-'"
_BOS = len(CHARS)  # start of word
_EOS = len(CHARS) + 1  # end of word
LM_WEIGHT = 0.5
"""Exponent on the name model: below 1 because real signers' names are more
varied than any list."""
LEXICON_BONUS = 2.0
"""Factor for a word found in the lexicon (after the exponent)."""
SURE = 0.9
"""A letter at least this probable is never changed."""
CANDIDATE_MIN = 0.02
"""Alternatives less probable than this are not tried (they stay in 'other')."""
BEAM = 48


class NameModel:
    """Interpolated character trigram model over words of names, plus a lexicon."""

    def __init__(self, trigrams: dict[str, int], words: Sequence[str]) -> None:
        n = len(CHARS) + 2
        index = {c: i for i, c in enumerate(CHARS)}
        index["^"] = _BOS
        index["$"] = _EOS
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
        self.logp = np.log(p)
        self.words = frozenset(words)

    def step(self, a: int, b: int, c: int) -> float:
        return float(self.logp[a, b, c])

    def word_logp(self, word: str) -> float:
        """Log-probability of a whole word (with its end)."""
        a, b = _BOS, _BOS
        total = 0.0
        for ch in word:
            c = CHARS.index(ch)
            total += self.step(a, b, c)
            a, b = b, c
        return total + self.step(a, b, _EOS)


@lru_cache(maxsize=1)
def load_model() -> NameModel:
    data = json.loads(gzip.decompress(DATA.read_bytes()))
    return NameModel(data["trigrams"], data["words"])


Alternatives = Sequence[tuple[str, float]]


def choose(words: Sequence[Sequence[Alternatives]], model: NameModel | None = None) -> tuple[list[list[str]], float]:
    """Best characters per box and the probability that all of them are right.

    ``words`` holds, per word of the field, each box's full probability list
    (character, probability), best first. Returns the chosen characters per
    word and the posterior of the whole field under classifier x name model.
    """
    model = model or load_model()
    chosen: list[list[str]] = []
    confidence = 1.0
    for word in words:
        best, posterior = _beam_word(word, model)
        chosen.append(best)
        confidence *= posterior
    return chosen, confidence


def _beam_word(boxes: Sequence[Alternatives], model: NameModel) -> tuple[list[str], float]:
    # Hypothesis: (log score, chars, last two states). "other" stands for all
    # alternatives not tried; it has the classifier's leftover mass and a
    # neutral model factor (the uniform 1/26), and can never be chosen.
    neutral = math.log(1.0 / 26.0)
    hyps: list[tuple[float, tuple[str, ...], int, int]] = [(0.0, (), _BOS, _BOS)]
    for alts in boxes:
        top_p = alts[0][1] if alts else 0.0
        cands = [alts[0]] if top_p >= SURE else [a for a in alts if a[1] >= CANDIDATE_MIN][:4] or [alts[0]]
        rest = max(1e-6, 1.0 - sum(p for _, p in cands))
        new: list[tuple[float, tuple[str, ...], int, int]] = []
        for score, chars, a, b in hyps:
            for ch, p in cands:
                c = CHARS.index(ch)
                lm = model.step(a if a != -1 else _BOS, b, c) if b != -1 else neutral
                new.append((score + math.log(max(p, 1e-9)) + LM_WEIGHT * lm, (*chars, ch), b, c))
            new.append((score + math.log(rest) + LM_WEIGHT * neutral, (*chars, "?"), b, -1))
        new.sort(key=lambda h: -h[0])
        hyps = new[:BEAM]
    finals: list[tuple[float, tuple[str, ...]]] = []
    for score, chars, a, b in hyps:
        text = "".join(chars)
        if "?" in text:
            finals.append((score, chars))
            continue
        end = LEXICON_BONUS_LOG if (len(text) >= 2 and text in model.words) else 0.0
        eos = LM_WEIGHT * model.step(a if a != -1 else _BOS, b, _EOS) if b != -1 else 0.0
        finals.append((score + eos + end, chars))
    top = max(s for s, _ in finals)
    total = sum(math.exp(s - top) for s, _ in finals)
    real = [(s, c) for s, c in finals if "?" not in c]
    if not real:
        return [a[0][0] if a else "?" for a in boxes], 0.0
    best_score, best_chars = max(real, key=lambda h: h[0])
    return list(best_chars), math.exp(best_score - top) / total


LEXICON_BONUS_LOG = math.log(LEXICON_BONUS)
