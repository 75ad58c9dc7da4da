"""Build petitionscan/recognize/names.json.gz (Latin) and names-cyrillic.json.gz.

Each holds given names, surnames and character trigrams, in the same format.

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
Two lists of Kazakh names fill what those lack: the book "Kazakh names"
(men's names and their surnames) and KazPER (men's and women's names in
their Kazakh, Russian and passport spellings), both kept in training/data.

The Cyrillic file holds the names as Russian and Kazakh signers write them
in Cyrillic capitals (the Russian alphabet plus the nine Kazakh letters,
hyphen, apostrophe): Faker's ru_RU and uk_UA lists (Ukrainian Є Ї Ґ written
as Е І Г), Mimesis's kk and ru lists and OpenCorpora's names, with Ё kept
as written and also as Е, Kazakh surnames formed as for Latin (+ОВ/ЕВ,
+ҰЛЫ/ҚЫЗЫ). Run with a venv that has the sources (they are needed only here):

    python3 -m venv .venv-names
    .venv-names/bin/pip install mimesis==22.2.0 pymorphy3==2.0.6 \
        pymorphy3-dicts-ru==2.4.417150.4580142 faker==40.63.0 anyascii==0.3.3 numpy
    .venv-names/bin/python training/build_names.py

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
from collections.abc import Callable
from pathlib import Path

from anyascii import anyascii
from faker import Faker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from petitionscan.alphabets import CYRILLIC  # noqa: E402
from petitionscan.recognize.names import KAZAKH_FOLD  # noqa: E402

OUT = ROOT / "petitionscan" / "recognize" / "names.json.gz"
OUT_CYRILLIC = ROOT / "petitionscan" / "recognize" / "names-cyrillic.json.gz"

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


def patronymics(name: str) -> list[str]:
    """A man's name as his son's and daughter's surname (+ҰЛЫ / +ҚЫЗЫ), spelt as the name is."""
    return [name + ending.upper() for ending in PATRONYMIC]


def latin_patronymics(name: str) -> set[str]:
    """:func:`patronymics` in Latin capitals (ASQARULY, ASQARQYZY), from a Cyrillic or Latin spelling."""
    return {v for p in patronymics(name) for v in variants(p)}


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


def faker_kinds(locale: str, spell: Callable[[str], set[str]] | None = None) -> Kinds:
    """Given names (first and middle name lists) and surnames of one Faker locale, each spelt by ``spell``.

    ``spell`` turns one listed name into the lexicon's spellings of it
    (default :func:`variants`, Latin capitals).
    """
    spell = spell or variants
    fake = Faker(locale)  # an unknown locale raises AttributeError
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
                    kind |= spell(item)
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
            kinds[1].update(latin_patronymics(given))
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


# --- Cyrillic -------------------------------------------------------------------------

CYRILLIC_FAKER = {"ru_RU": 4, "uk_UA": 1, "kk_KZ": 4}
"""Faker's Cyrillic locales (kk_KZ where this Faker has it)."""
CYRILLIC_MIMESIS = {"kk": 4, "ru": 2}
_UKRAINIAN = str.maketrans({"Є": "Е", "Ї": "І", "Ґ": "Г", "’": "'", "ʼ": "'", "`": "'"})
_CYRILLIC_WORD = re.compile(f"[{CYRILLIC}]+(?:[ '-][{CYRILLIC}]+)*")
_VOWELS = "АЕЁИОУЫЭЮЯӘӨҰҮІ"


def cyrillic_variants(name: str) -> set[str]:
    """A name in Cyrillic capitals as written, and with Ё as Е (as many write it)."""
    text = re.sub(r"\s+", " ", name.upper().translate(_UKRAINIAN)).strip()
    if not text or len(text) > 30 or not _CYRILLIC_WORD.fullmatch(text):
        return set()
    return {text, text.replace("Ё", "Е")}


def cyrillic_surnames_from(given: str) -> set[str]:
    """Surnames formed from a man's given name as most Kazakh surnames are:
    + ОВ / ЕВ (a final vowel + Й gives ...ЕВ), and + А for women."""
    if not given.isalpha() or len(given) < 3:
        return set()
    stem = given.rstrip("Ь")
    if stem.endswith("Й") and stem[-2:-1] in _VOWELS:
        stem = stem[:-1] + "ЕВ"
    elif stem[-1] in _VOWELS:
        stem += "ЕВ"
    else:
        stem += "ОВ"
    return {stem, stem + "А"}


def cyrillic_faker(locale: str) -> Kinds:
    """Given names and surnames of one Cyrillic Faker locale, in Cyrillic capitals."""
    return faker_kinds(locale, cyrillic_variants)


def cyrillic_mimesis(locale: str) -> Kinds:
    """Given names and surnames of one Mimesis locale in Cyrillic; Kazakh surnames formed too."""
    import mimesis

    path = Path(mimesis.__file__).parent / "datasets" / locale / "person.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    kinds: Kinds = (set(), set())
    for key, kind in (("names", kinds[0]), ("surnames", kinds[1])):
        value = data.get(key)
        items = [v for vs in value.values() for v in vs] if isinstance(value, dict) else list(value or [])
        for item in items:
            if isinstance(item, str):
                kind |= cyrillic_variants(item)
    if locale == "kk":
        names = data.get("names", {})
        for given in names.get("male", []) if isinstance(names, dict) else []:
            for v in cyrillic_variants(given):
                kinds[1].update(patronymics(v))
                kinds[1].update(cyrillic_surnames_from(v))
    return kinds


def cyrillic_opencorpora() -> Kinds:
    """OpenCorpora's given names and surnames in Cyrillic; surnames formed from given names too."""
    import pymorphy3

    morph = pymorphy3.MorphAnalyzer(lang="ru")
    kinds: Kinds = (set(), set())
    for parse in morph.iter_known_word_parses(""):
        tag = parse.tag
        if "Surn" in tag:
            kinds[1].update(cyrillic_variants(parse.normal_form))
            if "femn" in tag and "nomn" in tag and "sing" in tag:
                kinds[1].update(cyrillic_variants(parse.word))
        elif "Name" in tag:
            for v in cyrillic_variants(parse.normal_form):
                kinds[0].add(v)
                kinds[1].update(cyrillic_surnames_from(v))
    return kinds


KAZAKH_BOOK = ROOT / "training" / "data" / "kazakh-names-book.tsv"
"""Kazakh given names in their Kazakh spelling, each with the surnames formed from it, from
the book "Kazakh names" (Almaty, 1988) as published by NamSor in github.com/namsor/kazakh-names
(MIT licence, (c) 2022 NamSor); only the rows spelt the Kazakh way (those with -ҰЛЫ / -ҚЫЗЫ
forms). The lists above hold few Kazakh names in their Kazakh spelling (no СӘУЛЕ, ДӘУРЕН
or ГҮЛНАР), so a name written so was a name no list knows and never accepted automatically."""
KAZAKH_BOOK_WEIGHT = 4
"""Counts like Mimesis's Kazakh list in the n-gram statistics."""
_SURNAME_ENDINGS = ("ОВ", "ЕВ", "ИН", "ОВА", "ЕВА", "ИНА")


def kazakh_book_rows() -> list[tuple[str, list[str]]]:
    """(given name, its surnames) of :data:`KAZAKH_BOOK` in Cyrillic capitals.

    The book's text was read by OCR: a surname is kept only where it begins with its
    given name (less a final letter: АБАЙ -> АБАЕВ) and ends as surnames do, and a
    given name only where one of its surnames confirms it that way (АИБОЛ, an OCR
    misreading beside АЙБОЛОВ, is left out). The four names with Һ (ТАҺИР, loanwords) are left
    out too: no other list holds Һ, and the reader weighs down a letter no name holds
    (names.UNHEARD_SHARE), which h-shaped Н's are read as far more often than a Һ is written."""
    rows: list[tuple[str, list[str]]] = []
    for line in KAZAKH_BOOK.read_text(encoding="utf-8").splitlines():
        name, _, family = line.partition("\t")
        given = name.strip().upper().translate(_UKRAINIAN)
        if not _CYRILLIC_WORD.fullmatch(given) or " " in given or len(given) < 2 or "Һ" in given:
            continue
        stem = given[:-1] if len(given) > 3 else given
        kept = [
            f
            for f in (w.upper().translate(_UKRAINIAN) for w in family.split())
            if _CYRILLIC_WORD.fullmatch(f) and f.startswith(stem) and f.endswith(_SURNAME_ENDINGS)
        ]
        if kept:
            rows.append((given, kept))
    return rows


def kazakh_book() -> Kinds:
    """The book's names in Cyrillic: given names, their surnames and the patronymic surnames (+ҰЛЫ / ҚЫЗЫ)."""
    kinds: Kinds = (set(), set())
    for given, family in kazakh_book_rows():
        kinds[0].update(cyrillic_variants(given))
        for f in family:
            kinds[1].update(cyrillic_variants(f))
        kinds[1].update(patronymics(given))
    return kinds


def kazakh_book_latin() -> Kinds:
    """The book's names in Latin capitals, each spelt from its Kazakh letters (SAULE, QUANYSH)
    and from the Russian letters it is also written with (KUANYSH)."""
    kinds: Kinds = (set(), set())
    for given, family in kazakh_book_rows():
        for spelling in {given, given.translate(KAZAKH_FOLD)}:
            kinds[0].update(variants(spelling))
            kinds[1].update(latin_patronymics(spelling))
        for f in family:
            for spelling in {f, f.translate(KAZAKH_FOLD)}:
                kinds[1].update(variants(spelling))
    return kinds


KAZPER = ROOT / "training" / "data" / "kazper-names.csv"
"""Names common among Kazakhs, each in its Kazakh spelling, its Russian spelling, its Latin
spelling (as in passports) and gender (M or F; a name given to both is listed once for each):
name_list.csv of KazPER
(github.com/yeshpanovrustem/KazPER; CC BY 4.0, as its dataset card states), copied as published.
The book above holds men's names: without this list most Kazakh women's names (АЙГЕРІМ,
САЛТАНАТ, ЖҰЛДЫЗ) were names no list knows, read worse and never accepted automatically."""
KAZPER_WEIGHT = 4
"""Counts like the book and Mimesis's Kazakh list in the n-gram statistics."""


def kazper_rows() -> list[tuple[str, str, str, str]]:
    """(Kazakh, Russian, Latin spelling, gender) of :data:`KAZPER`, the Cyrillic ones in capitals.

    Names with Һ are left out, as from the book (no list holds Һ; see :func:`kazakh_book_rows`)."""
    rows = []
    for line in KAZPER.read_text(encoding="utf-8").splitlines():
        parts = [p.strip() for p in line.split(";")]
        if len(parts) != 4 or parts[3] not in ("M", "F"):
            continue
        kk, ru = (p.upper().translate(_UKRAINIAN) for p in parts[:2])
        if not (_CYRILLIC_WORD.fullmatch(kk) and _CYRILLIC_WORD.fullmatch(ru)) or "Һ" in kk + ru:
            continue
        rows.append((kk, ru, parts[2], parts[3]))
    return rows


def kazper() -> Kinds:
    """KazPER's names in Cyrillic, both spellings; for men's names the surnames formed from
    them (+ОВ / ЕВ, +ОВА / ЕВА), the patronymic surnames (+ҰЛЫ / ҚЫЗЫ) and the Kazakh
    spelling itself: many Kazakhs carry a forefather's name unchanged as their surname
    (ТҰРСЫНБАЙ, ҚОЖАХМЕТ), as the suffixes -ОВ / -ЕВ were dropped from the 1990s."""
    kinds: Kinds = (set(), set())
    for kk, ru, _latin, gender in kazper_rows():
        for spelling in {kk, ru}:
            for v in cyrillic_variants(spelling):
                kinds[0].add(v)
                if gender != "F":
                    kinds[1].update(cyrillic_surnames_from(v))
        if gender != "F":
            kinds[1].update(patronymics(kk))
            kinds[1].update(cyrillic_variants(kk))  # a father's name as the surname, unchanged
    return kinds


def kazper_latin() -> Kinds:
    """KazPER's names in Latin capitals: spelt from the Kazakh letters (AQMARAL), from the
    Russian spelling (AKMARAL) and as in passports (ASSEL); men's names with their surnames,
    the patronymic ones (+ULY / QYZY) and the name unchanged (TURSYNBAY) from the Kazakh and
    the passport spellings."""
    kinds: Kinds = (set(), set())
    for kk, ru, latin, gender in kazper_rows():
        kazakh = {kk, kk.translate(KAZAKH_FOLD)}
        for spelling in kazakh | {ru}:
            kinds[0].update(variants(spelling))
            if gender != "F":
                for surname in cyrillic_surnames_from(spelling):
                    kinds[1].update(variants(surname))
                # The patronymic follows the Kazakh spelling, also where the Russian one is the same.
                if spelling in kazakh:
                    kinds[1].update(latin_patronymics(spelling))
                    kinds[1].update(variants(spelling))
        passport = _clean(latin)
        if passport:
            kinds[0].add(passport)
            if gender != "F":
                kinds[1].update(surnames_from(passport))
                kinds[1].update(latin_patronymics(passport))
                kinds[1].add(passport)
    return kinds


Source = tuple[str, int, Callable[[], Kinds]]


def build(sources: list[Source], out: Path, source_text: str) -> None:
    """Read every source, count trigrams over its name words and write the model file atomically."""
    lexicon: set[str] = set()
    given_words: set[str] = set()
    surname_words: set[str] = set()
    counts: Counter[str] = Counter()
    used: list[str] = []
    for locale, weight, load in sources:
        try:
            given, family = load()
        except (AttributeError, OSError):
            continue
        used.append(locale)
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
        "source": source_text,
        "locales": [loc.removeprefix("faker:") for loc in used],
        "trigrams": dict(sorted(counts.items())),
    }
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(gzip.compress(raw, mtime=0))
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    print(
        f"{len(words)} words ({len(given_words)} given names, {len(surname_words)} surnames),"
        f" {len(counts)} trigrams -> {out}",
        file=sys.stderr,
    )


def main() -> None:
    sources: list[Source] = [
        (f"faker:{loc}", w, lambda loc=loc: faker_kinds(loc)) for loc, w in sorted(LOCALES.items())
    ]
    sources += [(f"mimesis:{loc}", w, lambda loc=loc: mimesis_names(loc)) for loc, w in sorted(MIMESIS.items())]
    sources.append(("opencorpora", OPENCORPORA_WEIGHT, opencorpora_names))
    sources.append(("kazakh-names-book", KAZAKH_BOOK_WEIGHT, kazakh_book_latin))
    sources.append(("kazper", KAZPER_WEIGHT, kazper_latin))
    build(
        sources,
        OUT,
        "Faker and Mimesis person-name lists (both MIT), OpenCorpora's names and surnames"
        " (CC BY-SA 3.0, via pymorphy3-dicts-ru) and the Kazakh names of the book 'Kazakh names'"
        " (Almaty, 1988) as published by NamSor (MIT) and of KazPER (CC BY 4.0), transliterated with anyascii (ISC)",
    )
    cyrillic: list[Source] = [
        (f"faker:{loc}", w, lambda loc=loc: cyrillic_faker(loc)) for loc, w in sorted(CYRILLIC_FAKER.items())
    ]
    cyrillic += [
        (f"mimesis:{loc}", w, lambda loc=loc: cyrillic_mimesis(loc)) for loc, w in sorted(CYRILLIC_MIMESIS.items())
    ]
    cyrillic.append(("opencorpora", OPENCORPORA_WEIGHT, cyrillic_opencorpora))
    cyrillic.append(("kazakh-names-book", KAZAKH_BOOK_WEIGHT, kazakh_book))
    cyrillic.append(("kazper", KAZPER_WEIGHT, kazper))
    build(
        cyrillic,
        OUT_CYRILLIC,
        "Faker and Mimesis person-name lists (both MIT), OpenCorpora's names and surnames"
        " (CC BY-SA 3.0, via pymorphy3-dicts-ru) and the Kazakh names of the book 'Kazakh names'"
        " (Almaty, 1988) as published by NamSor (MIT) and of KazPER (CC BY 4.0), in Cyrillic capitals",
    )


if __name__ == "__main__":
    main()
