"""Build petitionscan/recognize/names.json.gz: given names, surnames and character n-grams.

Given names and surnames are kept as two lists, as every source keeps them:
the reader looks up a first-name field among given names and a surname field
among surnames.

Sources: the person-name lists of the Faker package (MIT licence) and of the
Mimesis package (MIT licence; its Kazakh list fills the largest gap, Faker has
no Kazakh locale), and the given names and surnames of the OpenCorpora Russian
dictionary (CC BY-SA 3.0, read through pymorphy3 and pymorphy3-dicts-ru: it
holds many Kazakh, Tatar, Uzbek and Caucasian names in their Russian
spelling), transliterated to the capitals written on the sheets (A-Z, hyphen,
apostrophe) with anyascii (ISC licence). Cyrillic names are entered
with and without the soft/hard sign (written as an apostrophe or left out),
and Kazakh given names also as patronymic surnames (name + ULY / QYZY).
Run with the project's venv (Mimesis is needed only here):

    .venv/bin/pip install mimesis==22.2.0 pymorphy3==2.0.6 pymorphy3-dicts-ru==2.4.417150.4580142
    .venv/bin/python training/build_names.py

The output is small and deterministic (sorted), so it is committed.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

from anyascii import anyascii
from faker import Faker

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "petitionscan" / "recognize" / "names.json.gz"

# Broad on purpose: the sheets are signed by people of many origins. Weights
# say how many draws each locale's lists count for in the n-gram statistics.
LOCALES = {
    "ru_RU": 4, "uk_UA": 2, "tr_TR": 2, "az_AZ": 2, "en_GB": 2, "en_US": 2, "en_IE": 1,
    "de_DE": 2, "fr_FR": 2, "es_ES": 2, "it_IT": 1, "pl_PL": 2, "cs_CZ": 1, "nl_NL": 1,
    "pt_PT": 1, "ro_RO": 1, "hu_HU": 1, "bg_BG": 1, "hy_AM": 1, "ka_GE": 1, "lt_LT": 1,
    "lv_LV": 1, "et_EE": 1, "fi_FI": 1, "sv_SE": 1, "no_NO": 1, "da_DK": 1, "sk_SK": 1,
    "sl_SI": 1, "hr_HR": 1, "el_GR": 1, "fa_IR": 1, "ar_AA": 1, "hi_IN": 1, "id_ID": 1,
}  # fmt: skip

# Mimesis locales (its datasets/<locale>/person.json), weighted the same way.
MIMESIS = {
    "kk": 4, "ru": 2, "uk": 1, "tr": 1, "az": 1, "pl": 1, "cs": 1, "sk": 1, "de": 1, "en": 1,
    "fr": 1, "es": 1, "it": 1, "nl": 1, "pt": 1, "hu": 1, "et": 1, "fi": 1, "sv": 1, "no": 1,
    "da": 1, "el": 1, "fa": 1, "hr": 1,
}  # fmt: skip
PATRONYMIC = ("ұлы", "қызы")
"""Kazakh patronymic endings ("son of", "daughter of"), written after the father's name."""

NAME_LIST = re.compile(r"(first|last|middle)_names?(_\w+)?|\w+_(first|last)_names")
"""Faker's person-name list attributes (pl_PL, for one, keeps surnames in ``unisex_last_names``)."""


def clean(name: str) -> str | None:
    return _clean(name)


def variants(name: str) -> set[str]:
    """The ways a name is written in capitals: soft and hard signs as apostrophes or left out."""
    out = {_clean(name), _clean(re.sub("[ьъЬЪ]", "", name))}
    return {v for v in out if v}


def _clean(name: str) -> str | None:
    text = anyascii(name).upper().replace("`", "'").replace("’", "'")
    text = re.sub(r"[^A-Z' -]", "", text).strip()
    if not text or len(text) > 30 or not re.fullmatch(r"[A-Z]+(?:[ '-][A-Z]+)*", text):
        return None
    return text


Kinds = tuple[set[str], set[str]]
"""(given names, surnames) of one source."""


def names_of(locale: str) -> set[str]:
    """All person names of one Faker locale."""
    given, family = faker_kinds(locale)
    return given | family


def faker_kinds(locale: str) -> Kinds:
    """Given names (first and middle name lists) and surnames of one Faker locale."""
    fake = Faker(locale)
    given: set[str] = set()
    family: set[str] = set()
    for provider in fake.providers:
        if ".person." not in type(provider).__module__:
            continue
        for attr in dir(provider):
            if not NAME_LIST.fullmatch(attr):
                continue
            value = getattr(provider, attr, None)
            if isinstance(value, dict):
                value = list(value)
            if not isinstance(value, (list, tuple)):
                continue
            kind = family if "last" in attr else given
            for item in value:
                if isinstance(item, str) and "{" not in item:
                    kind |= variants(item)
    return given, family


def mimesis_names(locale: str) -> Kinds:
    """Given names and surnames of one Mimesis locale (both genders)."""
    import mimesis

    path = Path(mimesis.__file__).parent / "datasets" / locale / "person.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    kinds: Kinds = (set(), set())
    for key, kind in (("names", kinds[0]), ("surnames", kinds[1])):
        value = data.get(key)
        raw: list[str] = []
        if isinstance(value, dict):
            for items in value.values():
                raw += [v for v in items if isinstance(v, str)]
        elif isinstance(value, list):
            raw += [v for v in value if isinstance(v, str)]
        for item in raw:
            kind |= variants(item)
    if locale == "kk":
        names = data.get("names", {})
        for given in names.get("male", []) if isinstance(names, dict) else []:
            for ending in PATRONYMIC:
                kinds[1].update(variants(given + ending))
            kinds[1].update(s for v in variants(given) for s in surnames_from(v))
    return kinds


OPENCORPORA_WEIGHT = 2
"""OpenCorpora's names count like a mid-sized locale in the n-gram statistics."""


def opencorpora_names() -> Kinds:
    """Given names and surnames (dictionary forms) tagged Name / Surn in OpenCorpora.

    Central Asian names appear there in their Russian spelling (MAKSAT where a
    Kazakh spelling gives MAQSAT); surnames are formed from the given names the
    way most Kazakh surnames are (see ``surnames_from``), as for Mimesis's list.
    """
    import pymorphy3

    morph = pymorphy3.MorphAnalyzer(lang="ru")
    given: set[str] = set()
    family: set[str] = set()
    for parse in morph.iter_known_word_parses(""):
        tag = parse.tag
        if "Surn" in tag:
            family.add(parse.normal_form)
            if "femn" in tag and "nomn" in tag and "sing" in tag:
                family.add(parse.word)  # the feminine form (IVANOVA), not only IVANOV
        elif "Name" in tag:
            given.add(parse.normal_form)
    kinds: Kinds = (set(), set())
    for name in family:
        kinds[1].update(variants(name))
    for name in given:
        for v in variants(name):
            kinds[0].add(v)
            kinds[1].update(surnames_from(v))
    return kinds


def surnames_from(given: str) -> set[str]:
    """Surnames formed from a man's given name the Russian way, as most Kazakh
    surnames are: + OV / EV (a final AY or EY gives AEV / EEV), and + A for women."""
    if not given.isalpha() or len(given) < 3:
        return set()
    if given.endswith("Y") and given[-2] in "AEIOU":
        stem = given[:-1] + "EV"
    elif given[-1] in "AEIOUY":
        stem = given + "EV"
    else:
        stem = given + "OV"
    return {stem, stem + "A"}


def main() -> None:
    lexicon: set[str] = set()
    given_words: set[str] = set()
    surname_words: set[str] = set()
    counts: Counter[str] = Counter()
    sources = [(f"faker:{loc}", w, lambda loc=loc: faker_kinds(loc)) for loc, w in sorted(LOCALES.items())]
    sources += [(f"mimesis:{loc}", w, lambda loc=loc: mimesis_names(loc)) for loc, w in sorted(MIMESIS.items())]
    sources.append(("opencorpora", OPENCORPORA_WEIGHT, opencorpora_names))
    for locale, weight, load in sources:
        try:
            given, family = load()
        except (AttributeError, OSError):
            continue
        names = given | family
        lexicon |= names
        given_words |= {w for n in given for w in n.split(" ") if len(w) >= 2}
        surname_words |= {w for n in family for w in n.split(" ") if len(w) >= 2}
        for name in names:
            for word in re.split(r" ", name):
                padded = "^^" + word + "$"
                for i in range(2, len(padded)):
                    counts[padded[i - 2 : i + 1]] += weight
        print(f"{locale}: {len(names)} names", file=sys.stderr)
    words = sorted({w for n in lexicon for w in n.split(" ") if len(w) >= 2})
    data = {
        "given": sorted(given_words),
        "surnames": sorted(surname_words),
        "source": (
            "Faker and Mimesis person-name lists (both MIT) and OpenCorpora's names and surnames"
            " (CC BY-SA 3.0, via pymorphy3-dicts-ru), transliterated with anyascii (ISC)"
        ),
        "locales": sorted(LOCALES) + [f"mimesis:{loc}" for loc in sorted(MIMESIS)] + ["opencorpora"],
        "trigrams": dict(sorted(counts.items())),
    }
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    fd, tmp = tempfile.mkstemp(dir=OUT.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(gzip.compress(raw, mtime=0))
    os.chmod(tmp, 0o644)
    os.replace(tmp, OUT)
    print(
        f"{len(words)} words ({len(given_words)} given names, {len(surname_words)} surnames),"
        f" {len(counts)} trigrams -> {OUT}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
