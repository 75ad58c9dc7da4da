"""Printed headings and instructions in the languages a campaign can choose.

Kept as plain dictionaries: translators edit one place, and a missing key in
one language is caught by a test, not by a blank heading on paper.
"""

from __future__ import annotations

LANGUAGES = ("en", "ru", "kk")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "name": "Name (in capital letters)",
        "first_name": "First name(s)",
        "surname": "Surname",
        "workplace": "Workplace",
        "town": "Town",
        "union": "Union / branch",
        "signature": "Signature",
        "number": "No.",
        "sheet": "Sheet",
        "branch": "Branch",
        "instructions": "Write one CAPITAL letter per box. Leave one box empty between words. "
        "Sign in the signature box. Do not write on the black squares or the code.",
        "return_to": "Please return completed sheets to:",
        "no_address": "[Branch: write the return address here before printing]",
        "demands": "We support the demands of the workers and residents of the region:",
        "alphabet_latin": "Use Latin letters (A-Z).",
        "alphabet_cyrillic": "Use Cyrillic letters (Russian or Kazakh).",
        "alphabet_latin+cyrillic": "Use Latin or Cyrillic letters.",
    },
    "ru": {
        "name": "Имя и фамилия (печатными заглавными буквами)",
        "first_name": "Имя",
        "surname": "Фамилия",
        "workplace": "Место работы",
        "town": "Город / посёлок",
        "union": "Профсоюз / отделение",
        "signature": "Подпись",
        "number": "№",
        "sheet": "Лист",
        "branch": "Отделение",
        "instructions": "Пишите по одной ЗАГЛАВНОЙ букве в каждой клетке. Между словами оставьте одну клетку "
        "пустой. Распишитесь в поле «Подпись». Не пишите на чёрных квадратах и на коде.",
        "return_to": "Заполненные листы просим отправить по адресу:",
        "no_address": "[Отделение: впишите обратный адрес перед печатью]",
        "demands": "Мы поддерживаем требования работников и жителей региона:",
        "alphabet_latin": "Пишите латинскими буквами (A-Z).",
        "alphabet_cyrillic": "Пишите кириллицей (русскими или казахскими буквами).",
        "alphabet_latin+cyrillic": "Пишите латиницей или кириллицей.",
    },
    "kk": {
        "name": "Аты-жөні (бас әріптермен)",
        "first_name": "Аты",
        "surname": "Тегі",
        "workplace": "Жұмыс орны",
        "town": "Қала / ауыл",
        "union": "Кәсіподақ / бөлімше",
        "signature": "Қолы",
        "number": "№",
        "sheet": "Парақ",
        "branch": "Бөлімше",
        "instructions": "Әр шаршыға бір БАС әріп жазыңыз. Сөздердің арасында бір шаршыны бос қалдырыңыз. "
        "Қолыңызды «Қолы» бағанына қойыңыз. Қара шаршылар мен кодқа жазбаңыз.",
        "return_to": "Толтырылған парақтарды мына мекенжайға жіберіңіз:",
        "no_address": "[Бөлімше: басып шығармас бұрын кері мекенжайды жазыңыз]",
        "demands": "Біз өңір жұмысшылары мен тұрғындарының талаптарын қолдаймыз:",
        "alphabet_latin": "Латын әріптерімен жазыңыз (A-Z).",
        "alphabet_cyrillic": "Кирилл әріптерімен жазыңыз (қазақ немесе орыс әріптері).",
        "alphabet_latin+cyrillic": "Латын немесе кирилл әріптерімен жазыңыз.",
    },
}


def text(language: str, key: str) -> str:
    """A printed text in the campaign's language."""
    return TEXTS[language][key]


def instructions(language: str, alphabet: str) -> str:
    """The instruction line: how to fill the boxes, and in which letters."""
    return f"{TEXTS[language]['instructions']} {TEXTS[language]['alphabet_' + alphabet]}"
