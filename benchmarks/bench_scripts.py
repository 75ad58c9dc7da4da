"""Benchmark: duplicates found across scripts and spellings (АЙГҮЛ = AIGUL = AYGUL).

A Kazakh or Russian signer may write their name in Cyrillic on one sheet and
in Latin capitals on another, and in Latin there is more than one way to
spell it. This draws distinct people (the simulator's Russian and Kazakh
names, in Cyrillic) and writes each one five ways: in Cyrillic, and in four
Latin spellings a signer might use: the passport one (ICAO style, Ж = ZH,
Й = I, Я = IA), an English-style one (Й = Y, Я = YA, Қ = Q, Ғ = GH, Ң = NG,
initial Е = YE), the Kazakh Latin alphabet of 2021 with its diacritics
dropped in A-Z boxes (Ж = J, Ш = S, Қ = Q) and plain anyascii (what the
simulator writes on Latin sheets).

Recall: of the pairs of spellings of one person, the share that get one
match key (an exact duplicate, merged without further evidence), per kind of
pair. Precision: of all pairs of spellings that share a key, the share that
are one person (different names that fold onto one key would be merged).
"Within one edit" is the share whose confusion keys are at most one edit
apart: what the probable-duplicate step can still merge when a workplace or
town agrees.

    .venv/bin/python benchmarks/bench_scripts.py [--people 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import itertools
import re
import time
from collections import Counter, defaultdict

import numpy as np
from rapidfuzz.distance import Levenshtein

from petitionscan.dedupe import MIN_PROBABLE_LEN, confusion_key, match_key
from petitionscan.simulate.names import random_cyrillic_person, to_capitals

_COMMON = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "З": "Z", "И": "I", "К": "K", "Л": "L", "М": "M",
    "Н": "N", "О": "O", "П": "P", "Р": "R", "С": "S", "Т": "T", "У": "U", "Ф": "F", "Ь": "", "Ъ": "",
    "Э": "E", "Ұ": "U", "Һ": "H", "І": "I", "-": "-", "'": "", " ": " ",
}  # fmt: skip
PASSPORT = {
    **_COMMON, "Е": "E", "Ё": "E", "Ж": "ZH", "Й": "I", "Х": "KH", "Ц": "TS", "Ч": "CH", "Ш": "SH",
    "Щ": "SHCH", "Ы": "Y", "Ю": "IU", "Я": "IA", "Ә": "A", "Ғ": "G", "Қ": "K", "Ң": "N", "Ө": "O", "Ү": "U",
}  # fmt: skip
ENGLISH = {
    **_COMMON, "Е": "E", "Ё": "YO", "Ж": "ZH", "Й": "Y", "Х": "KH", "Ц": "TS", "Ч": "CH", "Ш": "SH",
    "Щ": "SHCH", "Ы": "Y", "Ю": "YU", "Я": "YA", "Ә": "A", "Ғ": "GH", "Қ": "Q", "Ң": "NG", "Ө": "O", "Ү": "U",
}  # fmt: skip
KAZAKH_2021 = {  # Ä Ğ Ñ Ö Ü Ç Ş İ written without their marks in A-Z boxes
    **_COMMON, "Е": "E", "Ё": "IO", "Ж": "J", "Й": "I", "Х": "H", "Ц": "TS", "Ч": "C", "Ш": "S",
    "Щ": "SS", "Ы": "Y", "Ю": "IU", "Я": "IA", "Ә": "A", "Ғ": "G", "Қ": "Q", "Ң": "N", "Ө": "O", "Ү": "U",
}  # fmt: skip
_VOWELS = "АЕЁИОУЫЭЮЯӘӨҰҮІ"


def spell(name: str, table: dict[str, str], iotated_e: bool = False) -> str:
    """A Cyrillic name in Latin capitals by a letter table; ``iotated_e``: Е after a vowel or first is YE."""
    out = []
    for i, ch in enumerate(name):
        if iotated_e and ch == "Е" and (i == 0 or name[i - 1] in _VOWELS + " -"):
            out.append("YE")
        else:
            out.append(table.get(ch, ch))
    return "".join(out)


def spellings(name: str) -> dict[str, str]:
    return {
        "cyrillic": name,
        "passport": spell(name, PASSPORT),
        "english": spell(name, ENGLISH, iotated_e=True),
        "kazakh2021": spell(name, KAZAKH_2021),
        "anyascii": to_capitals(name),
    }


def _near(a: str, b: str) -> bool:
    ca, cb = confusion_key(a), confusion_key(b)
    return ca == cb or (
        len(ca.replace(" ", "")) >= MIN_PROBABLE_LEN and Levenshtein.distance(ca, cb, score_cutoff=1) <= 1
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    names: dict[str, str] = {}
    while len(names) < args.people:
        person = random_cyrillic_person(rng)
        names.setdefault(person.name, person.locale)
    started = time.perf_counter()
    written = {name: spellings(name) for name in names}
    keys = {name: {kind: match_key(text) for kind, text in forms.items()} for name, forms in written.items()}
    seconds = time.perf_counter() - started

    kinds = list(next(iter(written.values())))
    print(f"{len(names)} people ({Counter(names.values())}), {len(kinds)} spellings each, keys in {seconds:.1f} s")
    print(f"{'pair of spellings':<26} {'recall (same key)':>18} {'within one edit':>16}")
    total_same = total_pairs = 0
    for a, b in itertools.combinations(kinds, 2):
        same = near = 0
        for name in names:
            ka, kb = keys[name][a], keys[name][b]
            same += ka == kb
            near += ka == kb or _near(ka, kb)
        total_same += same
        total_pairs += len(names)
        print(f"{a + ' / ' + b:<26} {same / len(names):>17.1%} {near / len(names):>16.1%}")
    print(f"{'all pairs':<26} {total_same / total_pairs:>17.1%}")

    # Precision: pairs of spellings sharing a key, one person or two.
    by_key: dict[str, Counter[str]] = defaultdict(Counter)
    for name, forms in keys.items():
        for key in forms.values():
            by_key[key][name] += 1
    true_pairs = false_pairs = 0
    examples: list[str] = []
    people_pairs: set[tuple[str, str]] = set()
    for people in by_key.values():
        people_pairs.update(itertools.combinations(sorted(people), 2))
    for key, people in by_key.items():
        counts = list(people.values())
        true_pairs += sum(c * (c - 1) // 2 for c in counts)
        cross = (sum(counts) ** 2 - sum(c * c for c in counts)) // 2
        false_pairs += cross
        if cross and len(examples) < 5:
            examples.append(f"{key}: " + " / ".join(sorted(people)))
    merged = true_pairs + false_pairs
    print(f"precision (pairs sharing a key that are one person): {true_pairs / merged:.2%} "
          f"({false_pairs} of {merged} pairs are two people)")  # fmt: skip
    print(f"pairs of different people with a spelling in common: {len(people_pairs)} among {len(names)} people")
    for line in examples:
        print("  e.g.", re.sub(r"\s+", " ", line))


if __name__ == "__main__":
    main()
