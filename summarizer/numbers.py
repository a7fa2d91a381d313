"""Numbers in Indonesian and English news text, as values that can be compared across the two (dates:
dates.py).

The checks need to know that "40.000 tentara" and "40,000 troops" say the same thing, and that "ribuan"
("thousands") says no definite number at all. Choices made where the text is ambiguous:

- Indonesian: "." groups thousands and "," is the decimal mark ("40.000" = 40000, "1,5 juta" = 1.5e6).
  A "." NOT followed by groups of exactly three digits is read as a decimal point ("versi 2.5", the
  English-style "3.26 juta" of copy-edited wire text), because no thousands group has another length.
  A lone ",ddd" ("1,500") is ambiguous (Indonesian decimal or English-style thousands): the value is the
  Indonesian reading and `alt` holds the other, so checks accept either.
- English: "," groups thousands and "." is the decimal mark. Indonesian-formatted numerals in English
  ("40.000", "1,5 million") get kind="foreign-format" with the Indonesian value: they are formatting errors.
- Times ("11.30 WIB", "pukul 7.55", "12:55 p.m.") are kind="time", valued in hours (11.5), never counts.
- Numbers inside dates are not returned: `dates_in_indonesian`/`dates_in_english` find them, so
  "25/10/2020" is one date, not three counts. Bare years ("pada 2020") are ordinary numbers.
- Small number words (<= 10: "dua", "two", "kedua", "first") are kind="word": idioms ("salah satu",
  "satu generasi" = "a generation") make them unreliable both ways, so checks use them as evidence only.
- Vague quantities ("ribuan", "puluhan ribu", "thousands", "tens of thousands", "dozens") have
  approximate=True and their order of magnitude as value: they are not definite numbers.
- Digits glued to letters are identifiers, not quantities ("Covid-19", "F-16", "G20", "5G").

Hand-written rather than a library: dateparser's search_dates and the number-word parsers on PyPI have no
Indonesian number grammar and over-match ("Mei", "Jan", "satu") in ways that would make the checks noisy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from summarizer.dates import find_dates, overlaps


@dataclass(frozen=True)
class NumberMention:
    """A number as stated in the text, with where it is ("text" includes a currency prefix and "%")."""

    value: float
    text: str
    start: int
    end: int
    approximate: bool = False
    kind: str = "number"  # "number" | "word" | "ordinal" | "time" | "foreign-format"
    unit: str | None = None  # "percent", or a currency code from a prefix ("Rp" -> "IDR")
    alt: float | None = None  # the other reading of an ambiguous numeral




def same_number(a: float, b: float) -> bool:
    """The one notion of "the same number" (checks and rule facts): equal up to the float noise of parsing
    "4,5 miliar" or "4.5 billion", relative to the larger value."""
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def must_appear(mention: NumberMention) -> bool:
    """Whether a translation has to keep this number: definite, and not a number word (those are
    rephrased freely: "dua orang" -> "a couple of people")."""
    return not mention.approximate and mention.kind != "word"


# --------------------------------------------------------------------------- word tables
# --------------------------------------------------------------------------- number words

# Token roles for spelled-out numbers. UNIT adds, PULUH/BELAS/HUNDRED act on the unit before them, BIG
# closes a group ("dua ratus ribu" = (2*100)*1000), VAGUE is an order of magnitude, not a count.
_WORDS_ID = {
    **{w: ("UNIT", v) for w, v in {"nol": 0, "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5,
                                   "enam": 6, "tujuh": 7, "delapan": 8, "sembilan": 9}.items()},
    "puluh": ("PULUH", 10), "belas": ("BELAS", 10), "ratus": ("HUNDRED", 100),
    "ribu": ("BIG", 1e3), "rb": ("BIG", 1e3), "juta": ("BIG", 1e6), "jt": ("BIG", 1e6),
    "miliar": ("BIG", 1e9), "milyar": ("BIG", 1e9), "triliun": ("BIG", 1e12),
    "belasan": ("VAGUE", 10), "puluhan": ("VAGUE", 10), "ratusan": ("VAGUE", 100), "ribuan": ("VAGUE", 1e3),
    "jutaan": ("VAGUE", 1e6), "miliaran": ("VAGUE", 1e9), "triliunan": ("VAGUE", 1e12),
}
# "se-" words are "one" + the word: seratus = satu ratus, seribu = satu ribu.
_SE_ID = {"sepuluh": "puluh", "sebelas": "belas", "seratus": "ratus", "seribu": "ribu", "sejuta": "juta",
          "semiliar": "miliar"}
_WORDS_EN = {
    **{w: ("UNIT", v) for w, v in {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                                   "six": 6, "seven": 7, "eight": 8, "nine": 9}.items()},
    **{w: ("TEEN", v) for w, v in {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
                                   "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
                                   "nineteen": 19}.items()},
    **{w: ("TENS", v) for w, v in {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
                                   "seventy": 70, "eighty": 80, "ninety": 90}.items()},
    "hundred": ("HUNDRED", 100), "thousand": ("BIG", 1e3), "million": ("BIG", 1e6), "billion": ("BIG", 1e9),
    "trillion": ("BIG", 1e12), "bn": ("BIG", 1e9), "tn": ("BIG", 1e12),
    # Indonesian scale words kept in English ("Rp 25 triliun"): the amount is intact, the word untranslated.
    "ribu": ("BIG", 1e3), "juta": ("BIG", 1e6), "miliar": ("BIG", 1e9), "milyar": ("BIG", 1e9),
    "triliun": ("BIG", 1e12),
    "dozen": ("DOZEN", 12), "dozens": ("VAGUE", 12), "scores": ("VAGUE", 20), "tens": ("VAGUE", 10),
    "hundreds": ("VAGUE", 100), "thousands": ("VAGUE", 1e3), "millions": ("VAGUE", 1e6),
    "billions": ("VAGUE", 1e9), "a": ("A", 1), "an": ("A", 1), "and": ("AND", 0), "of": ("OF", 0),
}
_ORDINAL_WORDS_ID = {"pertama": 1, "kedua": 2, "ketiga": 3, "keempat": 4, "kelima": 5, "keenam": 6,
                     "ketujuh": 7, "kedelapan": 8, "kesembilan": 9, "kesepuluh": 10}
_ORDINAL_WORDS_EN = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
                     "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
                     "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17,
                     "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30, "fortieth": 40,
                     "fiftieth": 50, "sixtieth": 60, "seventieth": 70, "eightieth": 80, "ninetieth": 90,
                     "hundredth": 100, "thousandth": 1000}
_CURRENCIES = {"rp": "IDR", "idr": "IDR", "us$": "USD", "usd": "USD", "$": "USD", "s$": "SGD", "€": "EUR",
               "eur": "EUR", "£": "GBP", "gbp": "GBP"}

# A numeral that does not continue a word or another numeral ("Covid-19", "1,5" seen from its "5").
_NOT_AFTER = r"(?:(?<=Rp)|(?<=IDR)|(?<=USD)|(?<![\w/:]))(?<!\d[.,])(?<![^\W\d_]-)"  # "Rp15.000" is money
# ...and that ends where the number ends, or at a glued unit ("35mm", "2.4GHz", "£2.8bn", "the 1990s").
_GLUED_UNIT = (r"(?:mm|cm|km|kg|mg|m|g|ghz|mhz|hz|gb|mb|tb|kw|mw|gw|kwh|ha|x|s|k|bn|tn|million|billion|trillion"
               r"|ribu|rb|juta|jt|miliar|triliun)")
_NOT_BEFORE = rf"(?:(?![\w]|[.,]\d)|(?={_GLUED_UNIT}\b))"
_CURRENCY_BEFORE = re.compile(r"(Rp\.?|IDR|US\$|USD|S\$|\$|€|EUR|£|GBP)\s?$", re.I)
_PERCENT_AFTER = re.compile(r"\s?%|\s+(?:persen|percent|per cent)\b", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


# --------------------------------------------------------------------------- numbers


def _indonesian_numeral(raw: str) -> tuple[float, str, float | None]:
    """(value, kind, alternative reading) of a numeral written the Indonesian way."""
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", raw):
        return float(raw.replace(".", "").replace(",", ".")), "number", None
    if re.fullmatch(r"[1-9]\d{0,2},\d{3}", raw):  # "1,500": Indonesian 1.5, or English-style 1500
        return float(raw.replace(",", ".")), "number", float(raw.replace(",", ""))
    if re.fullmatch(r"\d{1,3}(?:,\d{3}){2,}(?:\.\d+)?", raw):  # "1,500,000": only English-style fits
        return float(raw.replace(",", "")), "number", None
    if re.fullmatch(r"\d{1,2}\.[0-5]\d", raw):  # "11.30" with no "pukul"/"WIB": decimal, or a time
        return float(raw), "number", int(raw[:-3]) + int(raw[-2:]) / 60
    return float(raw.replace(",", ".")), "number", None


def _english_numeral(raw: str) -> tuple[float, str, float | None]:
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+,\d{1,2}", raw):  # "40.000", "1,5": Indonesian
        return float(raw.replace(".", "").replace(",", ".")), "foreign-format", None
    return float(raw.replace(",", "")), "number", None


_NUMERAL = {
    "id": re.compile(_NOT_AFTER + r"(?:\d{1,3}(?:,\d{3}){2,}(?:\.\d+)?|\d{1,3}(?:\.\d{3})+(?:,\d+)?"
                     r"|\d+(?:[.,]\d+)?)" + _NOT_BEFORE, re.I),
    "en": re.compile(_NOT_AFTER + r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3})+(?:,\d+)?"
                     r"|\d+,\d{1,2}(?!\d)|\d+(?:\.\d+)?)" + _NOT_BEFORE, re.I),
}
_TIME = {
    "id": re.compile(r"(?:\b(?:pukul|jam|pkl\.?)\s*(?P<h>\d{1,2})(?:[.:](?P<min>\d{2}))?\b"
                     r"|(?<![\d.,])\b(?P<h2>\d{1,2})[.:](?P<min2>\d{2})\s*(?:WIB|WITA|WIT)\b"
                     r"|(?<![\d.,:])\b(?P<h3>\d{1,2}):(?P<min3>\d{2})\b(?![.:]\d))", re.I),
    "en": re.compile(r"(?:(?<![\d.,])\b(?P<h>\d{1,2})(?:[.:](?P<min>\d{2}))?\s*(?:[ap]\.m\.|[ap]m\b)"
                     r"|(?<![\d.,])\b(?P<h2>\d{1,2})[.:](?P<min2>\d{2})\s*(?:WIB|WITA|WIT|local\s+time|GMT|UTC)"
                     r"|\bat\s+(?P<h4>\d{1,2})\.(?P<min4>\d{2})\b"
                     r"|(?<![\d.,:])\b(?P<h3>\d{1,2}):(?P<min3>\d{2})\b(?![.:]\d))", re.I),
}
_ORDINAL = {"id": re.compile(r"\bke-(\d+)\b", re.I),
            "en": re.compile(r"(?<![\d,.])\b(\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th)\b", re.I)}


def _times(text: str, lang: str, taken: list[tuple[int, int]]) -> list[NumberMention]:
    found = []
    for match in _TIME[lang].finditer(text):
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        hour = int(next(v for k, v in groups.items() if k.startswith("h")))
        minute = int(next((v for k, v in groups.items() if k.startswith("min")), 0))
        meridiem = re.search(r"([ap])\.?m\.?$", match.group(0), re.I)
        if meridiem and hour <= 12:
            hour = hour % 12 + (12 if meridiem.group(1).lower() == "p" else 0)
        if hour > 24 or minute > 59 or overlaps(match.start(), match.end(), taken):
            continue
        taken.append(match.span())
        found.append(NumberMention(hour + minute / 60, match.group(0), *match.span(), kind="time"))
    return found


def _tokens(text: str, lang: str, taken: list[tuple[int, int]]) -> list[tuple[str, float, int, int]]:
    """Numerals and number words in order, as (role, value, start, end); other words become role 'OTHER'."""
    words = _WORDS_ID if lang == "id" else _WORDS_EN
    numeral_re, parse = _NUMERAL[lang], _indonesian_numeral if lang == "id" else _english_numeral
    tokens: list[tuple[str, float, int, int]] = []
    for match in re.finditer(rf"{numeral_re.pattern}|{_WORD.pattern}", text, re.I):
        start, end = match.span()
        if overlaps(start, end, taken):
            tokens.append(("OTHER", 0, start, end))
            continue
        raw, lower = match.group(0), match.group(0).lower()
        if raw[0].isdecimal():  # not "²": isdigit() accepts superscripts, float() does not
            value, kind, alt = parse(raw)
            tokens.append(("FOREIGN" if kind == "foreign-format" else "NUM", value, start, end))
            if alt is not None:
                tokens.append(("ALT", alt, start, end))
        elif lang == "id" and lower in _SE_ID:
            tokens.append(("UNIT", 1, start, start))
            tokens.append((_WORDS_ID[_SE_ID[lower]][0], _WORDS_ID[_SE_ID[lower]][1], start, end))
        elif lower in words:
            role, value = words[lower]
            tokens.append((role, value, start, end))
        elif (lang == "en" and lower == "m" and tokens and tokens[-1][3] == start
              and _CURRENCY_BEFORE.search(text, 0, tokens[-1][2])):
            tokens.append(("BIG", 1e6, start, end))  # "$5m" (but "100m" is metres)
        else:
            tokens.append(("OTHER", 0, start, end))
    return tokens


_STARTERS = {"NUM", "FOREIGN", "UNIT", "TEEN", "TENS", "VAGUE", "A"}
_FOLLOWS = {  # which role may follow which inside one spelled-out number
    "NUM": {"BIG", "HUNDRED", "PULUH"}, "FOREIGN": {"BIG"},
    "UNIT": {"PULUH", "BELAS", "HUNDRED", "BIG", "DOZEN"}, "TEEN": {"HUNDRED", "BIG"},
    "TENS": {"UNIT", "BIG"}, "PULUH": {"UNIT", "BIG"}, "BELAS": {"BIG"},
    "HUNDRED": {"UNIT", "TEEN", "TENS", "BIG", "AND"}, "BIG": {"UNIT", "TEEN", "TENS", "NUM", "AND"},
    "VAGUE": {"BIG", "OF"}, "A": {"HUNDRED", "BIG", "DOZEN"}, "AND": {"UNIT", "TEEN", "TENS"},
    "OF": {"VAGUE"}, "DOZEN": set(),
}


def _read_number(tokens, i: int, text: str) -> tuple[int, float, bool, bool]:
    """Read one number starting at token i: (index after it, value, approximate, spelled out)."""
    total, group, piece, last_big = 0.0, 0.0, 0.0, None
    approximate, words_only = False, True
    j, prev = i, None
    while j < len(tokens):
        role, value, start, _ = tokens[j]
        if prev is not None:
            gap = text[tokens[j - 1][3]:start]
            if role not in _FOLLOWS[prev] or not re.fullmatch(r"[ \t-]*" if prev != "NUM" else r" ?", gap):
                break
            if role in ("AND", "OF") and (j + 1 >= len(tokens) or tokens[j + 1][0] not in _FOLLOWS[role]):
                break
            if role == "OF" and tokens[j + 1][1] <= group:
                break  # "tens of thousands", not "thousands of ..."
        elif role not in _STARTERS or (role == "A" and (j + 1 >= len(tokens)
                                                        or tokens[j + 1][0] not in _FOLLOWS["A"])):
            break
        if role in ("NUM", "FOREIGN"):
            words_only, group, piece = False, value, value
        elif role in ("UNIT", "TEEN", "TENS", "A"):
            group, piece = group + value, value
        elif role == "PULUH":
            group, piece = group - piece + piece * 10, piece * 10
        elif role == "BELAS":
            group, piece = group + 10, piece + 10
        elif role == "HUNDRED":
            group = group - piece + piece * 100
        elif role == "DOZEN":
            group, approximate = group * 12, True
        elif role == "VAGUE":
            group, approximate = (group * value if group else value), True
        elif role == "BIG":
            if last_big is not None and value > last_big:
                total = (total + (group or 1)) * value
            else:
                total += (group or 1) * value
            group, piece, last_big = 0.0, 0.0, value
        prev = role
        j += 1
        if j < len(tokens) and tokens[j][0] == "ALT":
            j += 1
    while j > i + 1 and tokens[j - 1][0] in ("AND", "OF", "A"):
        j -= 1
    return j, total + group, approximate, words_only


_ORDINAL_PHRASE_ID = re.compile(
    r"\bke(?:(?:satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan)(?:\s+(?:belas|puluh|ratus))+"
    r"(?:\s+(?:satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan)(?:\s+belas)?)?"
    r"|sepuluh|sebelas|seratus|seribu)\b", re.I)


def _ordinal_word(word: str, lang: str) -> float | None:
    """'kedua' -> 2, 'kedua belas' -> 12, 'twentieth' -> 20, 'twenty-fourth' -> 24."""
    ordinals = _ORDINAL_WORDS_ID if lang == "id" else _ORDINAL_WORDS_EN
    if word in ordinals:
        return float(ordinals[word])
    if lang == "id" and _ORDINAL_PHRASE_ID.fullmatch(word):
        return next((m.value for m in _find_numbers(word[2:], "id")), None)
    tens, _, unit = word.partition("-")
    if lang == "en" and _WORDS_EN.get(tens, ("",))[0] == "TENS" and ordinals.get(unit, 10) < 10:
        return float(_WORDS_EN[tens][1] + ordinals[unit])
    return None


def _find_numbers(text: str, lang: str) -> list[NumberMention]:
    dates = find_dates(text, None, lang)
    taken = [(d.start, d.end) for d in dates if any(c.isdigit() for c in d.text)]
    found = _times(text, lang, taken)
    for match in _ORDINAL[lang].finditer(text):
        if not overlaps(match.start(), match.end(), taken):
            taken.append(match.span())
            value = float(match.group(1).replace(",", ""))
            found.append(NumberMention(value, match.group(0), *match.span(), kind="ordinal"))
    ordinal_words = _ORDINAL_PHRASE_ID.pattern + "|" if lang == "id" else ""
    for match in re.finditer(ordinal_words + r"[^\W\d_]+(?:-[^\W\d_]+)?", text, re.I):
        value = _ordinal_word(match.group(0).lower(), lang)
        if value is not None and not overlaps(match.start(), match.end(), taken):
            taken.append(match.span())
            kind = "word" if value <= 10 else "ordinal"
            found.append(NumberMention(value, match.group(0), *match.span(), kind=kind))
    tokens = _tokens(text, lang, taken)
    i = 0
    while i < len(tokens):
        j, value, approximate, words_only = _read_number(tokens, i, text)
        if j == i:
            i += 1
            continue
        start, end = tokens[i][2], tokens[j - 1][3]
        alt = next((t[1] for t in tokens[i:j] if t[0] == "ALT"), None)
        if alt is not None and j - i > 2:  # "1,500 juta": scale the other reading; "11.30 juta" is no time
            alt = value / tokens[i][1] * alt if "," in text[start:tokens[i][3]] else None
        # A lone "1" is as idiomatic as "one" ("1 mil" = "a mile"): evidence, never demanded.
        small = (words_only and value <= 10) or (j - i == 1 and value <= 1)
        kind = "foreign-format" if any(t[0] == "FOREIGN" for t in tokens[i:j]) else (
            "word" if small and not approximate else "number")
        unit = None
        percent = _PERCENT_AFTER.match(text, end)
        if percent:
            end, unit = percent.end(), "percent"
        currency = _CURRENCY_BEFORE.search(text, 0, start)
        if currency and not unit:
            start, unit = currency.start(), _CURRENCIES[currency.group(1).lower().rstrip(".")]
        found.append(NumberMention(value, text[start:end], start, end, approximate, kind, unit, alt))
        i = j
    return sorted(found, key=lambda m: m.start)


def numbers_in_indonesian(text: str) -> list[NumberMention]:
    """Every number in Indonesian text except those inside dates; see the module docstring for readings."""
    return _find_numbers(text, "id")


def numbers_in_english(text: str) -> list[NumberMention]:
    """Every number in English text except those inside dates; see the module docstring for readings."""
    return _find_numbers(text, "en")
