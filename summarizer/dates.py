"""Dates in Indonesian and English news text, as values that can be compared across the two: the one date
parser of the package. `dates_in_indonesian`/`dates_in_english` find every date mention (explicit,
relative, weekdays) for the checks and rule facts; `publication_date` reads a line that is only a date
(an article's publication line) for ingest; `time_words` finds relative times a translation must keep.

Hand-written for the same reason as numbers.py: date libraries have no Indonesian relative-date grammar
and over-match month abbreviations ("Mei", "Jan").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

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


def overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in taken)


def find_dates(text: str, published: str | None, lang: str) -> list[DateMention]:
    months = _MONTHS_ID if lang == "id" else _MONTHS_EN
    weekdays = _WEEKDAYS_ID if lang == "id" else _WEEKDAYS_EN
    explicit, weekday_re, relative = _date_patterns(lang)
    pub = _parse_published(published)
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    weekday_before = re.compile(rf"\b({_weekday_pattern(weekdays)})\s*(,\s*|\(\s*)?$")
    for pattern in explicit:
        for match in pattern.finditer(text):
            if overlaps(match.start(), match.end(), taken):
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
            if not overlaps(match.start(), match.end(), taken):
                taken.append(match.span())
                found.append(DateMention(match.group(0), _relative_iso(unit, offset, pub), *match.span()))
    for match in weekday_re.finditer(text):
        if overlaps(match.start(), match.end(), taken):
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
    return find_dates(text, published, "id")


# What an English translation may say for each relative time, besides the phrase itself: a calendar name
# or a number at the same precision is the same time resolved ("kemarin" -> "on Tuesday", "tahun lalu" ->
# "in 2022"). Measured on FLORES/NTREX references (bench/fidelity.py).
_TIME_SENSES = {
    ("day", -2): r"day before yesterday|two days ago",
    ("day", 0): r"today|this (?:morning|afternoon|evening|day)|tonight|now|currently|to date|so far",
    ("day", -1): r"yesterday|last night|a day earlier|the previous day|the day before",
    ("day", 1): r"tomorrow|the next day|the following day",
    ("day", 2): r"day after tomorrow|in two days",
}
for _unit in ("week", "month", "year"):  # English says these the same way for each unit
    _TIME_SENSES[(_unit, -1)] = rf"last {_unit}|(?:the )?(?:past|previous|prior) {_unit}|a {_unit} ago|{_unit} earlier"
    _TIME_SENSES[(_unit, 0)] = rf"this {_unit}|the {_unit}|(?:the )?current {_unit}"
    _TIME_SENSES[(_unit, 1)] = rf"next {_unit}|(?:the )?(?:coming|following) {_unit}|in a {_unit}"
_TIME_SENSES.update({("weekday", number): name for name, number in _WEEKDAYS_EN.items()})
_MONTH_NAMES_EN = "|".join(n for n in _MONTHS_EN if n not in _MONTH_ABBREVIATIONS)
_CALENDAR_EN = {"day": r"monday|tuesday|wednesday|thursday|friday|saturday|sunday",
                "week": r"monday|tuesday|wednesday|thursday|friday|saturday|sunday",
                "month": _MONTH_NAMES_EN,
                "year": r"(?:19|20)\d{2}",
                # A weekday resolved to its date ("Rabu" -> "on October 28") is the same day.
                "weekday": _MONTH_NAMES_EN}
# Indonesian weekday names as written in news (capitalised). "Minggu" (Sunday) is left out: it is also
# "week", and "Minggu lalu" at a sentence start means last week.
_NAMED_WEEKDAY = re.compile(
    rf"\b({_weekday_pattern({name: n for name, n in _WEEKDAYS_ID.items() if name != 'minggu'})}|Jum’at)\b")
_ENGLISH_WEEKDAY = {number: name.capitalize() for name, number in _WEEKDAYS_EN.items()}


# A count before the phrase makes it a duration or an age, which the number checks cover.
_COUNTED = re.compile(r"(?:\d|\b(?:satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|belas|"
                      r"puluh|ratus|ribu|juta|beberapa|sekian|puluhan|ratusan|ribuan|jutaan|se|akhir))\s+$", re.I)


@dataclass(frozen=True)
class TimeWord:
    """A relative time in Indonesian ("bulan depan") and what an English rendering of it must say."""

    text: str
    unit: str  # "day" | "week" | "month" | "year", or "weekday" (offset: 0 = Monday)
    offset: int
    english: str  # the plain English sense, for messages: "next month"


def time_words(text: str) -> list[TimeWord]:
    """Relative times of an Indonesian text (hari ini, kemarin, besok, pekan lalu, bulan depan, tahun lalu...)
    and named weekdays (Rabu = Wednesday), which a small LLM sometimes leaves untranslated."""
    found, taken = [], []
    for unit, offset, id_text, en_text in _RELATIVE:
        for match in re.finditer(rf"(?<!-)\b{id_text}\b", text, re.I):
            before = text[:match.start()]
            if _COUNTED.search(before):
                continue  # "dua tahun lalu" (two years ago), "berusia 24 tahun ini" (24-year-old): a count
            if not overlaps(match.start(), match.end(), taken):
                taken.append(match.span())
                found.append((match.start(), TimeWord(match.group(0), unit, offset,
                                                      re.sub(r"\\s\+", " ", en_text))))
    for match in _NAMED_WEEKDAY.finditer(text):
        if not overlaps(match.start(), match.end(), taken):
            number = _WEEKDAYS_ID[match.group(0).lower().replace("’", "'")]
            found.append((match.start(), TimeWord(match.group(0), "weekday", number, _ENGLISH_WEEKDAY[number])))
    return [word for _, word in sorted(found, key=lambda pair: pair[0])]


def time_stated(word: TimeWord, english: str) -> bool:
    """Does the English say this relative time, as a phrase or resolved to a calendar name or year?"""
    pattern = rf"\b(?:{_TIME_SENSES[(word.unit, word.offset)]}|{_CALENDAR_EN[word.unit]})\b"
    return re.search(pattern, english, re.I) is not None


def dates_in_english(text: str, published: str | None = None) -> list[DateMention]:
    """The same for English: "October 30, 2020", "30 October 2020", "25/10/2020" (day first, as in the
    Indonesian source), "Feb. 11", "yesterday", "last week", "Wednesday"."""
    return find_dates(text, published, "en")


# --------------------------------------------------------------------------- publication dates

# Month names and abbreviations of both languages, plus spellings seen only on publication lines.
_MONTHS = {**_MONTHS_ID, **_MONTHS_EN, "agus": 8, "nopember": 11, "nop": 11}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_FORMS = (
    re.compile(rf"(?P<d>\d{{1,2}}) (?P<m>{_MONTH})\.? (?P<y>\d{{4}})", re.IGNORECASE),
    re.compile(rf"(?P<m>{_MONTH})\.? (?P<d>\d{{1,2}}),? (?P<y>\d{{4}})", re.IGNORECASE),
    re.compile(r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
)
_WEEKDAY = "senin|selasa|rabu|kamis|jumat|jum'at|jum’at|sabtu|minggu|ahad|monday|tuesday|wednesday|thursday|" \
           "friday|saturday|sunday"
# A line that is only a date: "Jumat, 30 Oktober 2020", "Minggu (25/10/2020)", "30 Okt 2020 | 10:15 WIB".
_DATE_LINE = re.compile(
    rf"(?:(?:diterbitkan|dipublikasikan|published|posted|updated|diperbarui|tanggal)(?: on| pada)?:? )?"
    rf"(?:(?:{_WEEKDAY}),? )?\(?(?P<date>[^()|]{{6,30}}?)\)?"
    r"(?:,? (?:[|•,–—-] )?(?:pukul |jam )?\d{1,2}[.:]\d{2}(?:[.:]\d{2})?(?: ?(?:wib|wita|wit|gmt|utc)"
    r"(?: ?[+-]\d{1,2}(?::?\d{2})?)?)?)?", re.IGNORECASE)


def parse_date(text: str) -> str | None:
    """ISO "YYYY-MM-DD" of a date written as "30 Oktober 2020", "Okt 30, 2020", "25/10/2020" or
    "2020-10-25"; None when it is not exactly one valid date."""
    for form in _DATE_FORMS:
        if match := form.fullmatch(text.strip()):
            month = match["m"]
            try:
                return dt.date(int(match["y"]), _MONTHS.get(month.lower()) or int(month), int(match["d"])).isoformat()
            except ValueError:
                return None
    return None


def date_line(text: str) -> str | None:
    """ISO date when the whole line is a publication date."""
    match = _DATE_LINE.fullmatch(text) if len(text) <= 80 else None
    return parse_date(match["date"]) if match else None




_BODY_DATE = re.compile(r"\((\d{1,2}/\d{1,2}/\d{4})\)")  # "Minggu (25/10/2020)"


def body_date(paragraphs: list[str]) -> str | None:
    """ISO date of the first "(25/10/2020)" in the body: the publication date when no date line states it."""
    return next((iso for paragraph in paragraphs for found in _BODY_DATE.finditer(paragraph)
                 if (iso := parse_date(found.group(1)))), None)
