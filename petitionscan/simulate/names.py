"""Names that signers write: Faker's locales plus Kazakh, in Latin or Cyrillic capitals.

Sheets are filled in block capitals, so every name is reduced to what fits the
boxes: A-Z (transliterated) on Latin sheets, the Russian and Kazakh capitals on
Cyrillic ones, hyphen and apostrophe. Names are drawn until one fits the row's
box counts; the truth file then holds exactly what was written. These lists
are the simulator's own, independent of the recognizer's name lexicon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
from anyascii import anyascii
from faker import Faker

from petitionscan.alphabets import CYRILLIC

# Signers of a Mangystau branch: mostly Kazakh and Russian names, a few from elsewhere.
DEFAULT_LOCALES: tuple[tuple[str, float], ...] = (
    ("kk", 0.42),
    ("ru_RU", 0.30),
    ("uk_UA", 0.04),
    ("tr_TR", 0.05),
    ("en_GB", 0.04),
    ("en_IE", 0.03),
    ("de_DE", 0.04),
    ("fr_FR", 0.03),
    ("es_ES", 0.03),
    ("pl_PL", 0.02),
)

# Common Kazakh names in Kazakh Cyrillic (Faker has no Kazakh locale).
_KK_MALE = [
    "Асқар",
    "Нұрлан",
    "Ерлан",
    "Бауыржан",
    "Серік",
    "Данияр",
    "Ержан",
    "Марат",
    "Қайрат",
    "Әлихан",
    "Темірлан",
    "Айдос",
    "Ермек",
    "Жандос",
    "Мұрат",
    "Бекзат",
    "Арман",
    "Дәурен",
    "Нұрсұлтан",
    "Санжар",
    "Ғалымжан",
    "Талғат",
    "Руслан",
    "Дархан",
    "Азамат",
    "Еркін",
    "Болат",
    "Жасұлан",
    "Қуаныш",
    "Ерболат",
    "Мақсат",
    "Аян",
    "Әділ",
    "Ислам",
    "Рамазан",
    "Жеңіс",
    "Нұрбек",
    "Бүркіт",
    "Төлеген",
    "Ғабит",
]
_KK_FEMALE = [
    "Айгерім",
    "Гүлнар",
    "Әсел",
    "Жанар",
    "Мөлдір",
    "Динара",
    "Ақмарал",
    "Сәуле",
    "Аружан",
    "Назерке",
    "Гүлжан",
    "Айнұр",
    "Ботагөз",
    "Жұлдыз",
    "Меруерт",
    "Перизат",
    "Салтанат",
    "Айжан",
    "Дана",
    "Камила",
    "Балжан",
    "Ләззат",
    "Гаухар",
    "Толқын",
    "Әйгерім",
    "Ұлжан",
    "Шынар",
    "Жібек",
    "Индира",
    "Анар",
    "Айгүл",
    "Гүлмира",
    "Мейрамгүл",
    "Күләш",
    "Ақбөпе",
]
# Surname stems; "-ов/-ев/-ин" surnames take "-а" for women.
_KK_SURNAMES = [
    "Сәрсенбаев",
    "Жұмабаев",
    "Нұрланов",
    "Оспанов",
    "Қасымов",
    "Ахметов",
    "Серікбаев",
    "Тоқтаров",
    "Ысқақов",
    "Әбдірахманов",
    "Жақсылықов",
    "Есенов",
    "Бейсенов",
    "Құдайбергенов",
    "Омаров",
    "Мұқанов",
    "Төлеубаев",
    "Кенжебаев",
    "Сұлтанов",
    "Байжанов",
    "Ибраев",
    "Әбенов",
    "Досмұхамбетов",
    "Исатаев",
    "Тәжиев",
    "Өтепов",
    "Сейітов",
    "Қалиев",
    "Жаңбыршин",
    "Нұрмағамбетов",
    "Утешев",
    "Аманжолов",
    "Бекмұхамбет",
    "Қожахмет",
    "Тұрсынбай",
    "Жүсіпов",
    "Күзембаев",
    "Шаһанов",
    "Тұрғынбаев",
    "Үмбетов",
]

_ALLOWED = re.compile(r"[^A-Z'\- ]")
_WORKPLACES = (
    "HOSPITAL", "SCHOOL", "BUS DEPOT", "SEAPORT", "DRILLING", "REFINERY", "POWER PLANT",
    "WATER PLANT", "RAILWAY", "POLYCLINIC", "KINDERGARTEN", "MARKET", "OILFIELD", "CONSTRUCTION",
    "CEMENT PLANT", "BAKERY", "POST OFFICE", "CATERING", "SECURITY", "PIPELINE", "GAS PLANT",
    "TRANSPORT", "COLLEGE", "SHIPYARD", "DEPOT", "CLINIC", "WORKSHOP",
)  # fmt: skip
_TOWNS = (
    "AKTAU", "ZHANAOZEN", "BEINEU", "FORT-SHEVCHENKO", "SHETPE", "KURYK", "MUNAISHY", "TAUCHIK",
    "ZHETYBAI", "TENGE", "AKSHUKUR", "BAUTINO", "SAYOTES", "ATYRAU", "KYZYLTOBE", "BUSTAN",
)  # fmt: skip
_UNIONS = ("OIL WORKERS", "TRANSPORT", "HEALTH", "EDUCATION", "ENERGY", "BUILDERS", "PORT")
# The same places and trades as written on Cyrillic sheets, in Russian or Kazakh.
_WORKPLACES_CYR = (
    "БОЛЬНИЦА", "ШКОЛА", "АВТОБАЗА", "МОРПОРТ", "БУРЕНИЕ", "НПЗ", "ВОДОКАНАЛ", "ПОЛИКЛИНИКА",
    "ДЕТСАД", "РЫНОК", "ПРОМЫСЕЛ", "СТРОЙКА", "ПОЧТА", "ОХРАНА", "ТРУБОПРОВОД", "ДЕПО",
    "АУРУХАНА", "МЕКТЕП", "ЕМХАНА", "БАЛАБАҚША", "БАЗАР", "ҚҰРЫЛЫС", "НАУБАЙХАНА", "КЕН ОРНЫ",
)  # fmt: skip
_TOWNS_CYR = (
    "АКТАУ", "ЖАНАОЗЕН", "БЕЙНЕУ", "ФОРТ-ШЕВЧЕНКО", "ШЕТПЕ", "КУРЫК", "АТЫРАУ", "БАУТИНО",
    "АҚТАУ", "ЖАҢАӨЗЕН", "ҚҰРЫҚ", "МҰНАЙШЫ", "ТАУШЫҚ", "ЖЕТІБАЙ", "ТЕҢГЕ", "СЕНЕК", "ҚЫЗЫЛТӨБЕ",
)  # fmt: skip
_UNIONS_CYR = ("НЕФТЯНИКИ", "ТРАНСПОРТ", "ЗДРАВООХРАН", "ОБРАЗОВАНИЕ", "МҰНАЙШЫЛАР", "БІЛІМ", "ҚҰРЫЛЫС")

# Signers of a Cyrillic sheet: Kazakh and Russian names, a few Ukrainian.
CYRILLIC_LOCALES: tuple[tuple[str, float], ...] = (("kk", 0.55), ("ru_RU", 0.40), ("uk_UA", 0.05))
# Ukrainian letters outside the Russian and Kazakh alphabets, as a signer would write them.
_UKRAINIAN = str.maketrans({"Є": "Е", "Ї": "І", "Ґ": "Г", "’": "'", "ʼ": "'", "`": "'"})
_NOT_CYRILLIC = re.compile(f"[^{CYRILLIC}'\\- ]")


@dataclass(frozen=True)
class Person:
    """What one signer writes: name parts as drawn (capitals) and optional extras."""

    first_name: str
    surname: str
    locale: str
    script: str = "latin"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.surname}"


@cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


def to_capitals(text: str, keep_soft_sign: bool = False) -> str:
    """Transliterate to A-Z capitals keeping only letters, hyphen and apostrophe."""
    if not keep_soft_sign:
        text = text.replace("ь", "").replace("ъ", "").replace("Ь", "").replace("Ъ", "")
    out = anyascii(text).upper().replace("`", "'").replace("’", "'")
    out = _ALLOWED.sub("", out)
    return re.sub(r" +", " ", out).strip(" -'")


def to_cyrillic_capitals(text: str) -> str:
    """Cyrillic capitals as written in the boxes: Russian and Kazakh letters, hyphen, apostrophe."""
    out = _NOT_CYRILLIC.sub("", text.upper().translate(_UKRAINIAN))
    return re.sub(r" +", " ", out).strip(" -'")


def _kazakh(rng: np.random.Generator, female: bool) -> tuple[str, str]:
    first = str(rng.choice(_KK_FEMALE if female else _KK_MALE))
    if rng.random() < 0.1:  # patronymic-style surname, as after the 2010s name reform
        father = str(rng.choice(_KK_MALE))
        return first, father + ("қызы" if female else "ұлы")
    surname = str(rng.choice(_KK_SURNAMES))
    if female and surname.endswith(("ов", "ев", "ин")):
        surname += "а"
    return first, surname


def _faker_name(locale: str, rng: np.random.Generator, female: bool) -> tuple[str, str]:
    fake = _faker(locale)
    fake.seed_instance(int(rng.integers(0, 2**31)))
    if female:
        return fake.first_name_female(), fake.last_name_female()
    return fake.first_name_male(), fake.last_name_male()


def _decorate(first: str, surname: str, locale: str, rng: np.random.Generator) -> tuple[str, str]:
    """Apostrophes and double-barrelled names, as real signers have them."""
    if locale in ("en_IE", "en_GB") and "'" not in surname and rng.random() < 0.25:
        surname = str(rng.choice(["O'", "O'", "D'"])) + surname
    elif locale in ("fr_FR", "es_ES") and rng.random() < 0.05 and surname[:1] in "AEIOU":
        surname = "D'" + surname
    return first, surname


def random_person(
    rng: np.random.Generator,
    locales: tuple[tuple[str, float], ...] = DEFAULT_LOCALES,
) -> Person:
    """One signer's name from the weighted locales, in capitals (may be any length)."""
    codes = [c for c, _ in locales]
    weights = np.array([w for _, w in locales], dtype=float)
    locale = codes[int(rng.choice(len(codes), p=weights / weights.sum()))]
    female = bool(rng.random() < 0.5)
    raw_first, raw_surname = _kazakh(rng, female) if locale == "kk" else _faker_name(locale, rng, female)
    keep_soft = bool(rng.random() < 0.3)
    first, surname = to_capitals(raw_first, keep_soft), to_capitals(raw_surname, keep_soft)
    first, surname = _decorate(first, surname, locale, rng)
    if rng.random() < 0.05:  # a double-barrelled surname from the same locale
        other = _kazakh(rng, female)[1] if locale == "kk" else _faker_name(locale, rng, female)[1]
        surname = f"{surname}-{to_capitals(other, keep_soft)}"
    return Person(first.replace(" ", "-"), surname.replace(" ", "-"), locale)


def random_cyrillic_person(
    rng: np.random.Generator,
    locales: tuple[tuple[str, float], ...] = CYRILLIC_LOCALES,
) -> Person:
    """One signer's name in Cyrillic capitals, as written on a Cyrillic sheet.

    Many people write Ё as Е; a fifth of signers do here, and the truth keeps
    what they wrote.
    """
    codes = [c for c, _ in locales]
    weights = np.array([w for _, w in locales], dtype=float)
    locale = codes[int(rng.choice(len(codes), p=weights / weights.sum()))]
    female = bool(rng.random() < 0.5)
    raw_first, raw_surname = _kazakh(rng, female) if locale == "kk" else _faker_name(locale, rng, female)
    first, surname = to_cyrillic_capitals(raw_first), to_cyrillic_capitals(raw_surname)
    if rng.random() < 0.05:
        other = _kazakh(rng, female)[1] if locale == "kk" else _faker_name(locale, rng, female)[1]
        surname = f"{surname}-{to_cyrillic_capitals(other)}"
    if rng.random() < 0.2:
        first, surname = first.replace("Ё", "Е"), surname.replace("Ё", "Е")
    return Person(first.replace(" ", "-"), surname.replace(" ", "-"), locale, "cyrillic")


def fits(person: Person, first_boxes: int | None, surname_boxes: int | None, name_boxes: int) -> bool:
    """Whether the name fits: each part in its own boxes, or "FIRST SURNAME" in one field."""
    if not person.first_name or not person.surname:
        return False
    if first_boxes is not None and surname_boxes is not None:
        return len(person.first_name) <= first_boxes and len(person.surname) <= surname_boxes
    return len(person.first_name) + 1 + len(person.surname) <= name_boxes


def person_for_row(
    rng: np.random.Generator,
    first_boxes: int | None,
    surname_boxes: int | None,
    name_boxes: int,
    locales: tuple[tuple[str, float], ...] = DEFAULT_LOCALES,
    script: str = "latin",
) -> Person:
    """A name that fits the row; after many misses the surname is cut, as a signer would.

    ``script`` ``cyrillic`` draws from :data:`CYRILLIC_LOCALES` in Cyrillic
    capitals (``locales`` is for Latin names).
    """

    def draw() -> Person:
        return random_cyrillic_person(rng) if script == "cyrillic" else random_person(rng, locales)

    person = draw()
    for _ in range(40):
        if fits(person, first_boxes, surname_boxes, name_boxes):
            return person
        person = draw()
    first = person.first_name[: first_boxes or max(1, name_boxes // 2 - 1)]
    room = surname_boxes if surname_boxes is not None else name_boxes - len(first) - 1
    fallback = "А" if script == "cyrillic" else "A"
    return Person(first, person.surname[: max(1, room)].rstrip("-'") or fallback, person.locale, person.script)


def extra_text(key: str, boxes: int, rng: np.random.Generator, script: str = "latin") -> str:
    """Workplace, town or union in capitals (of ``script``), one that fits ``boxes``."""
    if script == "cyrillic":
        pool = {"workplace": _WORKPLACES_CYR, "town": _TOWNS_CYR, "union": _UNIONS_CYR}.get(key, _TOWNS_CYR)
    else:
        pool = {"workplace": _WORKPLACES, "town": _TOWNS, "union": _UNIONS}.get(key, _TOWNS)
    choices = [t for t in pool if len(t) <= boxes]
    if not choices:
        return ""
    return str(rng.choice(choices))
