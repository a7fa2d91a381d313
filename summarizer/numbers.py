"""Numbers and dates in Indonesian and English news text, as values that can be compared across the two.

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

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache


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


@dataclass(frozen=True)
class DateMention:
    """A date as stated in the text; `iso` is YYYY-MM-DD, YYYY-MM or YYYY at the precision the text has."""

    text: str
    iso: str | None
    start: int
    end: int
    # What the text itself states (not resolved from the publication date), for comparing two languages.
    year: int | None = None
    month: int | None = None
    day: int | None = None


def same_number(a: float, b: float) -> bool:
    """The one notion of "the same number" (checks and rule facts): equal up to the float noise of parsing
    "4,5 miliar" or "4.5 billion", relative to the larger value."""
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def must_appear(mention: NumberMention) -> bool:
    """Whether a translation has to keep this number: definite, and not a number word (those are
    rephrased freely: "dua orang" -> "a couple of people")."""
    return not mention.approximate and mention.kind != "word"


# --------------------------------------------------------------------------- word tables

_MONTHS_ID = {
    "januari": 1, "februari": 2, "pebruari": 2, "maret": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7,
    "agustus": 8, "september": 9, "oktober": 10, "november": 11, "desember": 12,
    "jan": 1, "feb": 2, "peb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "agu": 8, "agt": 8, "ags": 8,
    "agust": 8, "sep": 9, "sept": 9, "okt": 10, "nov": 11, "des": 12,
}
_MONTHS_EN = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
    "nov": 11, "dec": 12,
}
_MONTH_ABBREVIATIONS = frozenset("jan feb peb mar apr jun jul agu agt ags agust aug sep sept okt oct nov des dec"
                                  .split())
_WEEKDAYS_ID = {"senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "jum'at": 4, "jumaat": 4,
                "sabtu": 5, "minggu": 6, "ahad": 6}
_WEEKDAYS_EN = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
                "sunday": 6}
MONTH_AND_WEEKDAY_NAMES = frozenset(
    n for n in (*_MONTHS_ID, *_MONTHS_EN, *_WEEKDAYS_ID, *_WEEKDAYS_EN) if len(n) > 3)

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


# --------------------------------------------------------------------------- dates

_RELATIVE = sorted([  # (unit, offset, Indonesian, English)
    ("day", -2, r"kemarin\s+lusa", r"the\s+day\s+before\s+yesterday"), ("day", 0, r"hari\s+ini", "today"),
    ("day", -1, "kemarin", "yesterday"), ("day", 1, "besok", "tomorrow"), ("day", 2, "lusa", "overmorrow"),
    ("week", -1, r"(?:pekan|minggu)\s+(?:lalu|kemarin)", r"last\s+week"), ("week", 0, r"(?:pekan|minggu)\s+ini", r"this\s+week"),
    ("week", 1, r"(?:pekan|minggu)\s+depan", r"next\s+week"), ("month", -1, r"bulan\s+(?:lalu|kemarin)", r"last\s+month"),
    ("month", 0, r"bulan\s+ini", r"this\s+month"), ("month", 1, r"bulan\s+depan", r"next\s+month"),
    ("year", -1, r"tahun\s+(?:lalu|kemarin)", r"last\s+year"), ("year", 0, r"tahun\s+ini", r"this\s+year"),
    ("year", 1, r"tahun\s+depan", r"next\s+year"),
], key=lambda r: -len(r[2]))  # longest first: "tahun kemarin" before "kemarin"


def _weekday_pattern(weekdays: dict[str, int]) -> str:
    return "|".join(sorted((w.capitalize() for w in weekdays), key=len, reverse=True))


@lru_cache(maxsize=2)
def _date_patterns(lang: str) -> tuple[list[re.Pattern], re.Pattern, list[tuple[re.Pattern, str, int]]]:
    months = _MONTHS_ID if lang == "id" else _MONTHS_EN
    full = "|".join(sorted((n for n in months if n not in _MONTH_ABBREVIATIONS), key=len, reverse=True))
    short = "|".join(sorted((n for n in months if n in _MONTH_ABBREVIATIONS), key=len, reverse=True))
    m = rf"(?P<m>(?:{full})\b|(?:{short})\b\.?)"  # only an abbreviation takes the dot
    y = r"(?P<y>\d{4})\b"
    explicit = [
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{m}(?:,?\s+{y})?",
        r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b",
        r"(?<![\d/.])\b(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})\b(?![/.-]\d)",
        r"\((?P<d>\d{1,2})/(?P<m>\d{1,2})\)",
    ]
    if lang == "en":
        explicit.append(rf"\b{m}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+{y})?")
    explicit.append(rf"\b{m}\s+{y}")
    cue = (r"pada|bulan|sejak|hingga|sampai|awal|akhir|pertengahan|medio" if lang == "id"
           else r"in|since|until|early|late|mid-?|during|by|through")
    explicit.append(rf"\b(?:{cue})\s+(?P<date>(?P<m>{full}))\b")  # a bare month only after a cue word
    weekday_names = _weekday_pattern(_WEEKDAYS_ID if lang == "id" else _WEEKDAYS_EN)
    weekday = re.compile(rf"\b(?P<w>{weekday_names})\b(?P<rel>\s+(?:lalu|depan|kemarin))?"
                         if lang == "id" else rf"(?:\b(?P<rel>last|next)\s+)?\b(?P<w>{weekday_names})\b")
    relative = [(rf"\b{id_text if lang == 'id' else en_text}\b", unit, offset)
                for unit, offset, id_text, en_text in _RELATIVE]
    flags = re.I
    return ([re.compile(p, flags) for p in explicit], weekday,
            [(re.compile(p, flags), unit, offset) for p, unit, offset in relative])


def _parse_published(published: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(published[:10]) if published else None
    except ValueError:
        return None


def _explicit_iso(year: int | None, month: int | None, day: int | None, pub: dt.date | None) -> str | None:
    if year is None and pub is not None and day is not None:
        year = pub.year  # "11 Februari": the article's own year is the best reading available
    if year is None or month is None:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    return dt.date(year, month, day).isoformat()


def _relative_iso(unit: str, offset: int, pub: dt.date | None) -> str | None:
    """Resolve 'kemarin', 'pekan lalu', 'tahun depan'... at the precision the phrase really has."""
    if pub is None:
        return None
    if unit == "day":
        return (pub + dt.timedelta(days=offset)).isoformat()
    if unit == "week":  # a whole week: name the month (or year) only when the week lies inside one
        monday = pub - dt.timedelta(days=pub.weekday()) + dt.timedelta(weeks=offset)
        sunday = monday + dt.timedelta(days=6)
        if (monday.year, monday.month) == (sunday.year, sunday.month):
            return f"{monday.year:04d}-{monday.month:02d}"
        return f"{monday.year:04d}" if monday.year == sunday.year else None
    if unit == "month":
        index = pub.year * 12 + pub.month - 1 + offset
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    return f"{pub.year + offset:04d}"


def _weekday_iso(weekday: int, relation: str | None, pub: dt.date | None) -> str | None:
    """The most recent such day on or before publication ('lalu'/'last': strictly before; 'depan': after)."""
    if pub is None:
        return None
    if relation in ("depan", "next"):
        return (pub + dt.timedelta(days=(weekday - pub.weekday() - 1) % 7 + 1)).isoformat()
    back = (pub.weekday() - weekday) % 7
    if relation in ("lalu", "last") and back == 0:
        back = 7
    return (pub - dt.timedelta(days=back)).isoformat()


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in taken)


def _find_dates(text: str, published: str | None, lang: str) -> list[DateMention]:
    months = _MONTHS_ID if lang == "id" else _MONTHS_EN
    weekdays = _WEEKDAYS_ID if lang == "id" else _WEEKDAYS_EN
    explicit, weekday_re, relative = _date_patterns(lang)
    pub = _parse_published(published)
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    weekday_before = re.compile(rf"\b({_weekday_pattern(weekdays)})\s*(,\s*|\(\s*)?$")
    for pattern in explicit:
        for match in pattern.finditer(text):
            if _overlaps(match.start(), match.end(), taken):
                continue
            parts = match.groupdict()
            month_text = parts["m"].lower().rstrip(".")
            month = int(month_text) if month_text.isdecimal() else months.get(month_text)
            day = int(parts["d"]) if parts.get("d") else None
            year = int(parts["y"]) if parts.get("y") else None
            if year is not None and year < 100:
                year += 2000  # "25/10/20": news dates of this century
            if lang == "en" and parts.get("sep") and month and month > 12 and day and day <= 12:
                day, month = month, day  # "10/25/2020": only a month-first date makes sense
            try:
                iso = _explicit_iso(year, month, day, pub)
            except ValueError:
                continue  # "31/02/2020", "45 Mei": not a date
            if month is None or not 1 <= month <= 12:
                continue
            start, end = match.span("date") if parts.get("date") else match.span()
            before = weekday_before.search(text, 0, start)
            if before:
                start = before.start()
                if before.group(2) and "(" in before.group(2):
                    close = re.match(r"\s*\)", text[end:])
                    end += close.end() if close else 0
            taken.append((start, end))
            found.append(DateMention(text[start:end], iso, start, end, year, month, day))
    for pattern, unit, offset in relative:
        for match in pattern.finditer(text):
            if not _overlaps(match.start(), match.end(), taken):
                taken.append(match.span())
                found.append(DateMention(match.group(0), _relative_iso(unit, offset, pub), *match.span()))
    for match in weekday_re.finditer(text):
        if _overlaps(match.start(), match.end(), taken):
            continue
        relation = (match.group("rel") or "").strip().lower() or None
        if relation == "kemarin":  # "Rabu kemarin" = last Wednesday
            relation = "lalu"
        weekday = weekdays[match.group("w").lower()]
        taken.append(match.span())
        found.append(DateMention(match.group(0), _weekday_iso(weekday, relation, pub), *match.span()))
    return sorted(found, key=lambda d: d.start)


def dates_in_indonesian(text: str, published: str | None = None) -> list[DateMention]:
    """Dates in Indonesian text: "Jumat, 30 Oktober 2020", "(25/10/2020)", "11 Februari", "Februari 2023",
    "pada Maret", "kemarin", "pekan lalu", "Rabu". Relative ones resolve against `published` (ISO), else
    iso is None. A capitalised "Minggu" is Sunday, but "minggu/Minggu lalu" is "last week"."""
    return _find_dates(text, published, "id")


# What an English translation may say for each relative time, besides the phrase itself: a calendar name
# or a number at the same precision is the same time resolved ("kemarin" -> "on Tuesday", "tahun lalu" ->
# "in 2022"). Measured on FLORES/NTREX references (bench/fidelity.py).
_TIME_SENSES = {
    ("day", -2): r"day before yesterday|two days ago",
    ("day", 0): r"today|this (?:morning|afternoon|evening|day)|tonight|now|currently|to date|so far",
    ("day", -1): r"yesterday|last night|a day earlier|the previous day|the day before",
    ("day", 1): r"tomorrow|the next day|the following day",
    ("day", 2): r"day after tomorrow|in two days",
    ("week", -1): r"last week|(?:the )?(?:past|previous|prior) week|a week ago|week earlier",
    ("week", 0): r"this week|the week|(?:the )?current week",
    ("week", 1): r"next week|(?:the )?(?:coming|following) week|in a week",
    ("month", -1): r"last month|(?:the )?(?:past|previous|prior) month|a month ago|month earlier",
    ("month", 0): r"this month|the month|(?:the )?current month",
    ("month", 1): r"next month|(?:the )?(?:coming|following) month|in a month",
    ("year", -1): r"last year|(?:the )?(?:past|previous|prior) year|a year ago|year earlier",
    ("year", 0): r"this year|the year|(?:the )?current year",
    ("year", 1): r"next year|(?:the )?(?:coming|following) year|in a year",
}
_CALENDAR_EN = {"day": r"monday|tuesday|wednesday|thursday|friday|saturday|sunday",
                "week": r"monday|tuesday|wednesday|thursday|friday|saturday|sunday",
                "month": "|".join(n for n in _MONTHS_EN if n not in _MONTH_ABBREVIATIONS),
                "year": r"(?:19|20)\d{2}"}


# A count before the phrase makes it a duration or an age, which the number checks cover.
_COUNTED = re.compile(r"(?:\d|\b(?:satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|belas|"
                      r"puluh|ratus|ribu|juta|beberapa|sekian|puluhan|ratusan|ribuan|jutaan|se|akhir))\s+$", re.I)


@dataclass(frozen=True)
class TimeWord:
    """A relative time in Indonesian ("bulan depan") and what an English rendering of it must say."""

    text: str
    unit: str  # "day" | "week" | "month" | "year"
    offset: int
    english: str  # the plain English sense, for messages: "next month"


def time_words(text: str) -> list[TimeWord]:
    """Relative times of an Indonesian text: hari ini, kemarin, besok, pekan lalu, bulan depan, tahun lalu..."""
    found, taken = [], []
    for unit, offset, id_text, en_text in _RELATIVE:
        for match in re.finditer(rf"(?<!-)\b{id_text}\b", text, re.I):
            before = text[:match.start()]
            if _COUNTED.search(before):
                continue  # "dua tahun lalu" (two years ago), "berusia 24 tahun ini" (24-year-old): a count
            if not _overlaps(match.start(), match.end(), taken):
                taken.append(match.span())
                found.append((match.start(), TimeWord(match.group(0), unit, offset,
                                                      re.sub(r"\\s\+", " ", en_text))))
    return [word for _, word in sorted(found, key=lambda pair: pair[0])]


def time_stated(word: TimeWord, english: str) -> bool:
    """Does the English say this relative time, as a phrase or resolved to a calendar name or year?"""
    pattern = rf"\b(?:{_TIME_SENSES[(word.unit, word.offset)]}|{_CALENDAR_EN[word.unit]})\b"
    return re.search(pattern, english, re.I) is not None


def dates_in_english(text: str, published: str | None = None) -> list[DateMention]:
    """The same for English: "October 30, 2020", "30 October 2020", "25/10/2020" (day first, as in the
    Indonesian source), "Feb. 11", "yesterday", "last week", "Wednesday"."""
    return _find_dates(text, published, "en")


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
        if hour > 24 or minute > 59 or _overlaps(match.start(), match.end(), taken):
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
        if _overlaps(start, end, taken):
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
    dates = _find_dates(text, None, lang)
    taken = [(d.start, d.end) for d in dates if any(c.isdigit() for c in d.text)]
    found = _times(text, lang, taken)
    for match in _ORDINAL[lang].finditer(text):
        if not _overlaps(match.start(), match.end(), taken):
            taken.append(match.span())
            value = float(match.group(1).replace(",", ""))
            found.append(NumberMention(value, match.group(0), *match.span(), kind="ordinal"))
    ordinal_words = _ORDINAL_PHRASE_ID.pattern + "|" if lang == "id" else ""
    for match in re.finditer(ordinal_words + r"[^\W\d_]+(?:-[^\W\d_]+)?", text, re.I):
        value = _ordinal_word(match.group(0).lower(), lang)
        if value is not None and not _overlaps(match.start(), match.end(), taken):
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
