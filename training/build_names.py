"""Build petitionscan/recognize/names.json.gz: a name lexicon and character n-grams.

Source: the person-name lists of the Faker package (MIT licence), many locales,
transliterated to the capitals written on the sheets (A-Z, hyphen, apostrophe)
with anyascii (ISC licence). Run with the project's venv:

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

ATTRS = ("first_names", "first_names_male", "first_names_female", "last_names",
         "last_names_male", "last_names_female")  # fmt: skip


def clean(name: str) -> str | None:
    text = anyascii(name).upper().replace("`", "'").replace("’", "'")
    text = re.sub(r"[^A-Z' -]", "", text).strip()
    if not text or len(text) > 30 or not re.fullmatch(r"[A-Z]+(?:[ '-][A-Z]+)*", text):
        return None
    return text


def names_of(locale: str) -> set[str]:
    fake = Faker(locale)
    out: set[str] = set()
    for provider in fake.providers:
        for attr in ATTRS:
            value = getattr(provider, attr, None)
            if isinstance(value, dict):
                value = list(value)
            if not isinstance(value, (list, tuple)):
                continue
            for item in value:
                if isinstance(item, str):
                    c = clean(item)
                    if c:
                        out.add(c)
    return out


def main() -> None:
    lexicon: set[str] = set()
    counts: Counter[str] = Counter()
    for locale, weight in sorted(LOCALES.items()):
        try:
            names = names_of(locale)
        except AttributeError:
            continue
        lexicon |= names
        for name in names:
            for word in re.split(r" ", name):
                padded = "^^" + word + "$"
                for i in range(2, len(padded)):
                    counts[padded[i - 2 : i + 1]] += weight
        print(f"{locale}: {len(names)} names", file=sys.stderr)
    words = sorted({w for n in lexicon for w in n.split(" ") if len(w) >= 2})
    data = {
        "source": "Faker person-name lists (MIT), transliterated with anyascii (ISC)",
        "locales": sorted(LOCALES),
        "words": words,
        "trigrams": dict(sorted(counts.items())),
    }
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    fd, tmp = tempfile.mkstemp(dir=OUT.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(gzip.compress(raw, mtime=0))
    os.chmod(tmp, 0o644)
    os.replace(tmp, OUT)
    print(f"{len(words)} words, {len(counts)} trigrams -> {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
