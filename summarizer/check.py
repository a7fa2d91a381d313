"""Fidelity checks after translation and grounding checks after summarisation.

Translation issues (stage "translate"), one per problem and sentence:
  number-missing, number-added, number-format, number-vague, date-missing, time-missing, name-missing,
  name-added, untranslated-word, untranslated-sentence, empty-translation, length-ratio.
Summary issues (stage "summarize"): unknown-source, no-source, unsupported-number, unsupported-date,
  unsupported-quote, unsupported-name, unsupported-title.

False alarms cost as much as misses (an analyst stops reading warnings), so every rule errs towards
silence when the text is ambiguous: small number words, vague quantities and Indonesian-looking names are
used as evidence but never demanded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from .extract import (EXONYMS, FUNCTION_WORDS_ID, TITLES, is_english_word, is_indonesian_word, normalise_quote,
                      quoted_spans, title_stated, titles_in_english, zipf)
from .numbers import (MONTH_AND_WEEKDAY_NAMES, DateMention, NumberMention, dates_in_english,
                      dates_in_indonesian, must_appear, numbers_in_english, numbers_in_indonesian, same_number,
                      time_stated, time_words)
from .schema import Fact, Grounding, Issue, Person, Sentence, Summary

_EXONYM_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, EXONYMS), key=len, reverse=True)) + r")\b")

# en/id character-length ratio of FLORES-200 devtest (1,012 human id->en pairs): median 0.933,
# percentiles 0.5%: 0.675, 1%: 0.702, 99%: 1.246, 99.5%: 1.277; extremes 0.547 and 1.440. The band is that
# full range rounded outward, so no human translation there is flagged (NTREX-128: 9 of 1,981 = 0.45%),
# while a translation that lost or repeated half the sentence is.
LENGTH_RATIO_BAND = (0.5, 1.5)
# Below this many source characters one word more or less swings the ratio past any band.
LENGTH_RATIO_MIN_CHARS = 20
# A word copied from the source is left untranslated when it is this common in Indonesian (zipf 3.5 =
# once per ~300k words) and this much rarer in English: "yang" (7.5 vs 3.9), "dengan", "senjata".
UNTRANSLATED_MIN_ZIPF_ID = 3.5
UNTRANSLATED_MIN_LEAD = 2.0
# Transliterated names ("Makedonia" -> "Macedonia", "Katalan" -> "Catalan") count as carried over.
NAME_SIMILARITY = 0.75

# Indonesian words that English news keeps as they are: not "untranslated".
KEPT_IN_ENGLISH = frozenset(
    "rupiah pesantren santri ulama kiai kyai ustaz ustadz madrasah haji hijab jilbab batik kretek jamu ojek "
    "becak angkot warung kampung sambal tempe rendang adat reformasi".split())

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Currency codes a translation may write for "Rp" or "dolar": not names.
_CURRENCY_CODES = frozenset({"IDR", "USD", "EUR", "GBP", "SGD", "AUD", "JPY", "CNY", "MYR"})
# Indonesian honorifics, translated as "Mr", "Mrs"...: not names.
_ID_TITLES = frozenset({"tn", "ny", "nn", "nona", "bpk", "sdr", "sdri", "hj", "kh", "ir", "drs", "dra"})
# Prefix + suffix shape of derived Indonesian words: "Penyuntingan", "Pengurangannya", "Menggunakan".
_AFFIXED_ID = re.compile(r"(?:me|pe|ber|ter|di|ke)[a-z]{4,}(?:an|kan|nya|lah)")
_ACRONYM_DOTS = re.compile(r"\b((?:[A-Z]\.){2,})")


def _undot(text: str) -> str:
    """'U.S.' -> 'US', so acronyms compare as words."""
    return _ACRONYM_DOTS.sub(lambda m: m.group(1).replace(".", ""), text)


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def _words(text: str) -> list[re.Match]:
    return list(_WORD.finditer(_undot(text)))


def _strip_possessive(word: str) -> str:
    return re.sub(r"['’]s?$", "", word)


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?:;“\"'‘(—–-"


def _form_present(form: str, text: str) -> bool:
    pattern = re.escape(form) + (r"\b" if len(form) < 4 else "")
    return re.search(r"\b" + pattern, text) is not None


_SPELLINGS = [(re.compile(p), r) for p, r in (
    (r"ph", "f"), (r"th", "t"), (r"ch", "k"), (r"c(?=[eiy])", "s"), (r"c", "k"), (r"q", "k"), (r"x", "ks"),
    (r"y", "i"), (r"z", "s"), (r"w", "v"), (r"(.)\1", r"\1"))]


def _spelled(word: str) -> str:
    """One spelling for English and Indonesian forms of a name: "Byzantine"/"Bizantium" -> "bisantine"/
    "bisantium", "Cinematography"/"Sinematografi" -> "sinematografi"."""
    for pattern, replacement in _SPELLINGS:
        word = pattern.sub(replacement, word)
    return word


def _similar(a: str, b: str) -> bool:
    a, b = _fold(a), _fold(b)
    if a == b or (len(a) >= 4 and b.startswith(a)) or (len(b) >= 5 and a.startswith(b)):
        return True
    return len(a) >= 4 and (SequenceMatcher(None, a, b).ratio() >= NAME_SIMILARITY
                            or SequenceMatcher(None, _spelled(a), _spelled(b)).ratio() >= NAME_SIMILARITY)


# --------------------------------------------------------------------------- translation: numbers


def _readings(mention: NumberMention) -> list[float]:
    return [mention.value] + ([mention.alt] if mention.alt is not None else [])


def _matches(mention: NumberMention, values: list[tuple[float, str]]) -> bool:
    for reading in _readings(mention):
        for value, kind in values:
            if same_number(reading, value):
                return True
            if "time" in (mention.kind, kind) and same_number(reading % 12, value % 12):
                return True  # "pukul 14.00" = "2 p.m."
    return False


def _date_values(dates: list[DateMention]) -> list[tuple[float, str]]:
    return [(float(v), "date") for d in dates for v in (d.year, d.month, d.day) if v is not None]


def _pool(numbers: list[NumberMention], dates: list[DateMention]) -> list[tuple[float, str]]:
    """Every value a text states, as evidence: definite numbers, small words, date parts."""
    values = [(r, m.kind) for m in numbers if not m.approximate for r in _readings(m)]
    return values + _date_values(dates)


def _is_power_of_thousand(ratio: float) -> bool:
    return any(same_number(ratio, 1000.0 ** k) for k in (1, 2, 3, -1, -2, -3))


def _number_issues(source: str, english: str) -> list[tuple[str, str]]:
    id_dates, en_dates = dates_in_indonesian(source), dates_in_english(english)
    id_numbers, en_numbers = numbers_in_indonesian(source), numbers_in_english(english)
    id_pool, en_pool = _pool(id_numbers, id_dates), _pool(en_numbers, en_dates)
    issues = [("number-format", f"'{m.text}' is written the Indonesian way in English")
              for m in en_numbers if m.kind == "foreign-format"]
    missing = [m for m in id_numbers if must_appear(m) and not _matches(m, en_pool)]
    added = [m for m in en_numbers
             if must_appear(m) and m.kind != "foreign-format" and not _matches(m, id_pool)]
    # "tiga juta" -> "three": the scale word lost leaves a small number word, which is otherwise not demanded.
    words = [e for e in en_numbers if e.kind == "word" and not _matches(e, id_pool)]
    for m in missing:
        twin = next((a for a in added if _is_power_of_thousand(m.value / a.value) if a.value), None)
        twin = twin or next((w for w in words if w.value and m.value / w.value >= 1000
                             and _is_power_of_thousand(m.value / w.value)), None)
        if twin is not None:  # "40.000" came out as "40": one formatting error, not two
            if twin in added:
                added.remove(twin)
            issues.append(("number-format", f"'{m.text}' became '{twin.text}'"))
        elif not any(e.kind == "foreign-format" and same_number(e.value, m.value) for e in en_numbers):
            issues.append(("number-missing", f"'{m.text}' is not in the translation"))
    vague = [m for m in id_numbers if m.approximate]
    for a in added:
        if any(same_number(a.value, v.value) for v in vague):
            issues.append(("number-vague", f"vague quantity became the definite '{a.text}'"))
        else:
            issues.append(("number-added", f"'{a.text}' is not in the source"))
    for d in id_dates:
        if d.month is None or (d.day is None and d.year is None):
            continue  # weekdays, "kemarin", a bare month: no number to lose
        in_dates = any(e.month == d.month and e.day == d.day and d.year in (None, e.year) for e in en_dates)
        stated = [float(v) for v in (d.day, d.year) if v is not None]
        if not in_dates and not all(any(same_number(v, e) for e, _ in en_pool) for v in stated):
            issues.append(("date-missing", f"date '{d.text}' is not in the translation"))
    for e in en_dates:
        for value in (e.day, e.year):
            if value is not None and not any(same_number(value, v) for v, _ in id_pool):
                issues.append(("number-added", f"date '{e.text}' is not in the source"))
                break
    return issues


# --------------------------------------------------------------------------- translation: names, words


def _headline_case(text: str) -> bool:
    """"Killer Pig Mauls Chinese Farmer": most English words capitalised, so capitals say nothing."""
    words = [m.group(0) for m in _words(text) if len(m.group(0)) >= 4 and is_english_word(m.group(0))]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.75 * len(words)


def _name_form(word: str, text: str, start: int) -> str | None:
    """The name a translation should copy for this capitalised source word, or None for a word it
    translates: Indonesian vocabulary, affixed Indonesian forms ("Penyuntingan"), titles ("Tn."), words so
    common in Indonesian (zipf >= 4.5) that they are words in both languages ("Air", "Film", "TV"), and at
    sentence start a word the English list does not know at all ("Menyetrika"). Measured on FLORES/NTREX
    references. A possessive "-nya" is dropped: "Stoltenbergnya" -> "Stoltenberg".
    """
    if not word[0].isupper() or len(word) < 2 or word.lower() in MONTH_AND_WEEKDAY_NAMES | _ID_TITLES:
        return None
    if is_indonesian_word(word):
        return None
    if any(is_indonesian_word(word[:-len(suffix)]) for suffix in ("nya", "lah", "kah", "mu", "ku")
           if word.lower().endswith(suffix) and len(word) - len(suffix) >= 3):
        return None  # "Catatlah", "Bayimu": an inflected Indonesian word
    base = re.sub(r"-nya$|(?<=....)nya$", "", word)  # "SNL-nya", "Stoltenbergnya"
    if _AFFIXED_ID.fullmatch(base.lower()):
        return None
    word_id, word_en = zipf(base.lower(), "id"), zipf(base.lower(), "en")
    if word_id is None or word_en is None:  # no frequency lists: only acronyms are surely names
        return base if base.isupper() else None
    if _sentence_initial(text, start) and word_en == 0:
        return None  # "Perancah", "Darmawisata": at sentence start a word English never uses is no known name
    return base if word_id < 4.5 else None


def _name_issues(source: str, english: str) -> list[tuple[str, str]]:
    issues = []
    source = _undot(source)
    english_plain = _undot(english)
    en_words = [_strip_possessive(w) for m in _words(english) for w in {m.group(0), *m.group(0).split("-")}]
    exonyms = list(_EXONYM_RE.finditer(source))
    covered = [(m.start(), m.end()) for m in exonyms]
    for match in exonyms:
        forms = EXONYMS[match.group(0)]
        if not any(_form_present(form, english_plain) for form in forms):
            issues.append(("name-missing", f"'{match.group(0)}' ({' / '.join(forms)}) is not in the translation"))
    for match in _words(source):
        word = _name_form(match.group(0), source, match.start())
        if word is None or any(s <= match.start() < e for s, e in covered):
            continue
        if not any(_similar(word, w) for w in en_words):
            issues.append(("name-missing", f"'{word}' is not in the translation"))
    if _headline_case(english):
        return issues  # "Killer Pig Mauls Farmer": every word is capitalised, none is a name by that sign
    source_words = [w for m in _words(source) for w in {m.group(0), re.sub(r"-?nya$", "", m.group(0)),
                                                        *m.group(0).split("-")}]
    allowed_forms = [form for m in exonyms for form in EXONYMS[m.group(0)]]
    for match in _words(english):
        word = _strip_possessive(match.group(0))
        if (not word[0].isupper() or len(word) < 2 or word.lower() in MONTH_AND_WEEKDAY_NAMES
                or word in _CURRENCY_CODES or _sentence_initial(english_plain, match.start()) or is_english_word(word)
                or (zipf(word.lower(), "en") is None and not word.isupper())):
            continue
        if any(_similar(w, word) for w in source_words):
            continue
        if any(word.startswith(f) if len(f) >= 4 else word == f for form in allowed_forms for f in form.split()):
            continue
        issues.append(("name-added", f"'{word}' is not in the source"))
    return issues


def _untranslated_words(source: str, english: str) -> list[str]:
    source_words = {m.group(0).lower() for m in _words(source)}
    capitalised_in_source = {m.group(0).lower() for m in _words(source) if m.group(0)[0].isupper()}
    found = []
    for match in _words(english):
        word = match.group(0)
        lower = word.lower()
        if lower not in source_words or lower in found or lower in KEPT_IN_ENGLISH:
            continue
        if word[0].isupper() and (not _sentence_initial(english, match.start()) or (
                lower in capitalised_in_source and lower not in FUNCTION_WORDS_ID)):
            continue  # a name carried over ("Palu merupakan..." -> "Palu is..."), not a word left behind
        if _is_untranslated(lower):
            found.append(lower)
    return found


def _is_untranslated(word: str) -> bool:
    word_id, word_en = zipf(word, "id"), zipf(word, "en")
    if word_id is None or word_en is None:
        return is_indonesian_word(word)
    return word_id >= UNTRANSLATED_MIN_ZIPF_ID and word_id - word_en >= UNTRANSLATED_MIN_LEAD


def _has_indonesian(text: str) -> bool:
    return any(is_indonesian_word(m.group(0)) for m in _words(text) if m.group(0).islower())


def _pair_issues(source: str, english: str) -> list[tuple[str, str]]:
    if not english.strip():
        return [("empty-translation", "the translation is empty")] if source.strip() else []
    if " ".join(english.split()).casefold() == " ".join(source.split()).casefold():
        return [("untranslated-sentence", "the translation is the source text")] if _has_indonesian(source) else []
    issues = _number_issues(source, english) + _name_issues(source, english)
    issues += [("time-missing", f"'{w.text}' ({w.english}) is not in the translation")
               for w in time_words(source) if not time_stated(w, english)]
    issues += [("untranslated-word", f"'{w}' is Indonesian") for w in _untranslated_words(source, english)]
    if len(source) >= LENGTH_RATIO_MIN_CHARS:
        ratio = len(english) / len(source)
        low, high = LENGTH_RATIO_BAND
        if not low <= ratio <= high:
            issues.append(("length-ratio", f"English is {ratio:.2f}x the source length (expected {low}-{high})"))
    return issues


# Problems a second translation can fix, so the engine retries a sentence that has one (see translate.py).
REPAIRABLE = frozenset({"number-missing", "number-format", "number-added", "date-missing", "name-missing",
                        "untranslated-word", "untranslated-sentence", "empty-translation", "length-ratio",
                        "time-missing"})


def repairable_issues(source: str, english: str) -> list[str]:
    """The codes of the problems of one translated sentence that a retry may fix (one entry per problem)."""
    return [code for code, _ in _pair_issues(source, english) if code in REPAIRABLE]


def repair_hint(source: str) -> str | None:
    """What a retranslation must keep, in English: "the numbers 40,000 and 2.5; the names NATO, Jens
    Stoltenberg; the time words 'next month'". None when the source has none of these."""
    numbers = [f"{m.value:,.10g}" + ("%" if m.unit == "percent" else "") for m in numbers_in_indonesian(source)
               if must_appear(m) and m.kind != "time"]
    found = [(m.start(), EXONYMS[m.group(0)][0]) for m in _EXONYM_RE.finditer(source)]
    covered = [(m.start(), m.end()) for m in _EXONYM_RE.finditer(source)]
    found += [(m.start(), form) for m in _words(source) if (form := _name_form(m.group(0), source, m.start()))
              and not any(s <= m.start() < e for s, e in covered)]
    names = [name for _, name in sorted(found)]
    times = [f"'{w.english}'" for w in time_words(source)]
    parts = [f"the {label} {', '.join(dict.fromkeys(items))}" for label, items in
             (("numbers", numbers), ("names", names), ("time words", times)) if items]
    return "; ".join(parts) or None


def check_translation(sentences: Sequence[Sentence], title: tuple[str, str] | None = None) -> list[Issue]:
    """Check every translated sentence (and the (Indonesian, English) title) against its source.

    Returns:
        One Issue per problem, pinned to the sentence id ("title" for the title), stage "translate".
    """
    pairs = [(s.id, s.text, s.en) for s in sentences if s.en is not None]
    if title is not None:
        pairs.insert(0, ("title", title[0], title[1]))
    return [Issue(code=code, message=message, sentence=sentence_id, stage="translate")
            for sentence_id, source, english in pairs for code, message in _pair_issues(source, english)]


# --------------------------------------------------------------------------- summary

_NAME_FILLERS = frozenset({"the", "of", "and", "de", "van", "von", "der", "al", "bin", "mr", "mrs", "ms", "dr"})
# Prose rebuilt from key points stays inside the schema's limits (one_line <= 30 words, summary <= 120).
ONE_LINE_WORDS = 30
SUMMARY_WORDS = 120
HEADLINE_WORDS = 15


class _Source:
    """The article indexed for grounding: values stated per sentence, texts, quoted spans."""

    def __init__(self, sentences: Sequence[Sentence], title: str | None):
        self.ids = [s.id for s in sentences]
        self.values: dict[str, list[tuple[float, str]]] = {}
        self.dates: dict[str, list[DateMention]] = {}
        self.texts: dict[str, list[str]] = {}
        self.english = [s.en for s in sentences if s.en and s.en.strip()]
        self.title = title
        for sentence in [*sentences, *([Sentence(id="title", text=title)] if title else [])]:
            dates = dates_in_indonesian(sentence.text) + (dates_in_english(sentence.en) if sentence.en else [])
            numbers = numbers_in_indonesian(sentence.text) + (numbers_in_english(sentence.en) if sentence.en else [])
            if sentence.id == "title":  # the title may come in either language
                dates += dates_in_english(sentence.text)
                numbers += numbers_in_english(sentence.text)
            self.values[sentence.id] = _pool(numbers, dates)
            self.dates[sentence.id] = dates
            self.texts[sentence.id] = [sentence.text] + ([sentence.en] if sentence.en else [])
        self.folded_by_id = {i: [_fold(_undot(t)) for t in texts] for i, texts in self.texts.items()}
        self.folded = [t for texts in self.folded_by_id.values() for t in texts]
        self.indonesian = [s.text for s in sentences] + ([title] if title else [])
        self.quotes = [(normalise_quote(span.text), span.sentence_ids) for span in quoted_spans(sentences)]

    def pool(self, ids: Sequence[str]) -> list[tuple[float, str]]:
        return [value for i in ids for value in self.values.get(i, [])]

    def scope(self, ids: Sequence[str] | None) -> "_Scope":
        """The texts a claim may rely on: the cited sentences, or the whole article (ids None)."""
        ids = [*self.ids, "title"] if ids is None else [i for i in ids if i in self.texts]
        return _Scope(
            ids=ids,
            folded=[t for i in ids for t in self.folded_by_id.get(i, [])],
            indonesian=" \n ".join(self.texts[i][0] for i in ids if i in self.texts),
            english=" \n ".join(t for i in ids for t in self.texts.get(i, [])[1:]),
        )


@dataclass(frozen=True)
class _Scope:
    ids: list[str]
    folded: list[str]
    indonesian: str
    english: str


def _unsupported_values(text: str, pool: list[tuple[float, str]]) -> list[str]:
    """Numbers an English text states (counts, and the day/year of dates) that the pool does not hold."""
    missing = [m.text for m in numbers_in_english(text) if must_appear(m) and not _matches(m, pool)]
    for date in dates_in_english(text):
        for part in (date.day, date.year):
            if part is not None and not any(same_number(part, v) for v, _ in pool):
                missing.append(date.text)
                break
    return missing


def _iso_parts(iso: str) -> tuple[int | None, int | None, int | None] | None:
    match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", iso)
    return tuple(int(g) if g else None for g in match.groups()) if match else None  # type: ignore[return-value]


def _date_supported(text: str, iso: str | None, source: _Source, ids: Sequence[str]) -> bool:
    folded = _fold(" ".join(text.split()))
    if folded and any(folded in _fold(t) for i in ids for t in source.texts.get(i, [])):
        return True  # stated verbatim ("Wednesday", "25/10/2020")
    if iso is not None:
        parts = _iso_parts(iso)
        if parts is None:
            return False
    else:
        stated = dates_in_english(text)
        if not stated:
            return not _unsupported_values(text, source.pool(ids)) and bool(re.search(r"\d", text))
        parts = (stated[0].year, stated[0].month, stated[0].day)
    year, month, day = parts
    for mention in (m for i in ids for m in source.dates.get(i, [])):
        if mention.month is None or (month is not None and mention.month != month):
            continue
        if day is not None and mention.day != day:
            continue
        if year is None or mention.year in (None, year):
            return True  # a year missing from the text comes from the publication date
    return False


def _name_supported(name: str, source: _Source, scope: _Scope | None = None) -> bool:
    """Is a person/organisation/location name in the article? Surname-only and full-name mentions match,
    Indonesian exonyms count ("Russia" for "Rusia"), "Wiesbaden, Germany" needs both parts."""
    parts = [p.strip() for p in name.split(",") if p.strip()]
    scope = scope or source.scope(None)
    return bool(parts) and all(_name_part_supported(p, scope) for p in parts)


def _name_part_supported(name: str, scope: _Scope) -> bool:
    folded = _fold(_undot(name))
    if any(re.search(r"\b" + re.escape(folded), text) for text in scope.folded):
        return True
    for key, forms in EXONYMS.items():
        if any(folded.startswith(_fold(f)) for f in forms) and re.search(r"\b" + re.escape(key) + r"\b",
                                                                         scope.indonesian):
            return True
    tokens = [t for t in re.findall(r"[^\W\d_]+", folded) if t not in _NAME_FILLERS]
    if len(tokens) == 1 and len(tokens[0]) >= 5:  # "Iraqi", "Indonesian": an adjective of a name stated
        stems = {w for text in scope.folded for w in re.findall(r"[^\W\d_]{4,}", text)}
        return any(tokens[0].startswith(stem) for stem in stems)
    return len(tokens) > 1 and any(all(re.search(r"\b" + re.escape(t), text) for t in tokens)
                                   for text in scope.folded)


_TITLE_WORDS = frozenset(w for title, _, _ in TITLES for w in title.split())


def _claimed_names(text: str) -> list[str]:
    """The capitalised words of an English claim that can only be names: not English vocabulary, not titles,
    months or weekdays ("Stoltenberg", "DPR", "Mulyani"). A famous name that is also common English
    ("London") goes unchecked, which errs towards silence."""
    names = []
    for match in _words(text):
        for word in _strip_possessive(match.group(0)).split("-"):
            if (len(word) < 2 or not word[0].isupper() or word.lower() in MONTH_AND_WEEKDAY_NAMES
                    or word.lower() in _TITLE_WORDS or word.lower() in _NAME_FILLERS or is_english_word(word)
                    or word in _CURRENCY_CODES):
                continue
            if zipf(word.lower(), "en") is None and _sentence_initial(text, match.start()):
                continue  # without frequency lists a sentence-initial capital says nothing
            if word not in names:
                names.append(word)
    return names


def _claim_problems(text: str, source: _Source, ids: Sequence[str] | None, where: str) -> list[tuple[str, str]]:
    """What an English claim states that its scope (cited sentences, or the article when ids is None) does
    not: numbers, explicit dates, names, and titles or roles, each checked in the English and Indonesian."""
    scope = source.scope(ids)
    pool = source.pool(scope.ids)
    missing = _unsupported_values(text, pool)
    problems = [("unsupported-number", f"'{v}' is not in {where}") for v in missing]
    for date in dates_in_english(text):
        if date.month is not None and date.text not in missing and not _date_supported(date.text, None, source,
                                                                                      scope.ids):
            problems.append(("unsupported-date", f"'{date.text}' is not in {where}"))
    for name in _claimed_names(text):
        if not _name_part_supported(name, scope):
            problems.append(("unsupported-name", f"'{name}' is not in {where}"))
    for title, start, end in titles_in_english(text):
        if not title_stated(title, scope.english, scope.indonesian):
            problems.append(("unsupported-title", f"'{text[start:end]}' is not in {where}"))
    return problems


def _fact_problems(field: str, item: Fact, source: _Source) -> list[tuple[str, str]]:
    """What is unsupported about one summary item, as (code, message)."""
    ids = item.sources
    needs_source = field in ("key_points", "numbers", "dates")
    if needs_source and not ids:
        return [("no-source", "cites no existing source sentence")]
    problems = []
    if field == "key_points":
        problems += _claim_problems(item.text, source, ids, "the cited sentences")
    elif field == "numbers":
        mention = NumberMention(item.value, f"{item.value:g}", 0, 0)
        if not _matches(mention, source.pool(ids)):
            problems.append(("unsupported-number", f"{item.value:g} is not in the cited sentences"))
    elif field == "dates":
        if not _date_supported(item.text, item.iso, source, ids):
            problems.append(("unsupported-date", f"'{item.text}' ({item.iso}) is not in the cited sentences"))
    elif field == "quotes":
        text = normalise_quote(item.text_id)
        if not text or not any(text in span for span, _ in source.quotes):
            problems.append(("unsupported-quote", "text_id is not a quoted span of the article"))
        if item.speaker and not _name_supported(item.speaker, source):
            problems.append(("unsupported-name", f"speaker '{item.speaker}' is not in the article"))
    else:
        if not _name_supported(item.name, source):
            problems.append(("unsupported-name", f"'{item.name}' is not in the article"))
    return problems


def _role_problems(item: Fact, source: _Source) -> list[tuple[str, str]]:
    """A person's role, checked where the person is cited (else anywhere in the article)."""
    if not isinstance(item, Person) or not item.role:
        return []
    where = "the cited sentences" if item.sources else "the article"
    return [(code, f"role: {message}") for code, message in _claim_problems(item.role, source, item.sources or None,
                                                                             where)]


def _quote_sources(item: Fact, source: _Source) -> list[str]:
    """A supported quote cites the sentences its span comes from, whatever the LLM cited."""
    text = normalise_quote(item.text_id)
    found = [i for span, ids in source.quotes if text and text in span for i in ids]
    return list(dict.fromkeys([*item.sources, *found]))


def _first_words(texts: Sequence[str], limit: int) -> str:
    """Whole sentences from `texts`, as many as fit in `limit` words (at least the first, cut to fit)."""
    kept: list[str] = []
    for text in texts:
        if sum(len(t.split()) for t in kept) + len(text.split()) > limit:
            break
        kept.append(text.strip())
    if not kept and texts:
        kept = [" ".join(texts[0].split()[:limit])]
    return " ".join(kept)


def _rebuilt_prose(field: str, points: Sequence[str], source: _Source) -> str:
    """Prose made only of supported material: the supported key points, else the translated title and
    lead sentences of the article (a news lead is its own summary)."""
    texts = list(points) or source.english
    if field == "headline":
        if points:
            return points[0].rstrip(" .")
        return source.title or _first_words(source.english, HEADLINE_WORDS).rstrip(" .")
    return _first_words(texts, ONE_LINE_WORDS if field == "one_line" else SUMMARY_WORDS)


_FACT_FIELDS = ("key_points", "people", "organizations", "locations", "dates", "numbers", "quotes")


def check_summary(summary: Summary, sentences: Sequence[Sentence], *, strict: bool,
                  title: str | None = None) -> tuple[Summary, list[Issue]]:
    """Ground every summary claim in the article.

    Unknown source ids are removed. Items whose claim the source does not support (a number, date, name
    or title the cited sentences do not state) are dropped under `strict` (kept in `grounding.dropped`
    whole) or kept with `issues` filled. Prose fields (headline, one_line, summary) are checked against the
    whole article and, when they fail, rewritten in either mode from the supported key points (the
    original goes to `grounding.rewritten`): unsupported prose is never left standing.

    Returns:
        The checked summary with `grounding` filled, and one Issue (stage "summarize") per problem.
    """
    source = _Source(sentences, title)
    known = set(source.ids)
    issues: list[Issue] = []
    dropped: list[dict] = []
    rewritten: list[dict] = []
    checked = unsupported = 0
    updates: dict[str, object] = {}
    for field in _FACT_FIELDS:
        kept = []
        for item in getattr(summary, field):
            checked += 1
            unknown = [i for i in item.sources if i not in known]
            item = item.model_copy(update={"sources": [i for i in item.sources if i in known]})
            if field == "quotes":
                item = item.model_copy(update={"sources": _quote_sources(item, source)})
            notes = [("unknown-source", f"cites unknown sentence '{i}'") for i in unknown]
            problems = _fact_problems(field, item, source)
            role_problems = [] if problems else _role_problems(item, source)
            if role_problems:  # a real person with an invented role keeps the name and loses the role
                issues += [Issue(code=c, message=f"{field}: {m}", sentence=item.sources[0] if item.sources else None,
                                 stage="summarize") for c, m in role_problems]
                unsupported += 1
                reason = "; ".join(m for _, m in role_problems)
                if strict:
                    dropped.append({"field": f"{field}.role", "item": item.model_dump(mode="json"), "reason": reason})
                    item = item.model_copy(update={"role": None})
                else:
                    item = item.model_copy(update={"issues": [*item.issues, *(f"{c}: {m}" for c, m in role_problems)]})
            first = item.sources[0] if item.sources else None
            issues += [Issue(code=c, message=f"{field}: {m}", sentence=first, stage="summarize")
                       for c, m in notes + problems]
            if problems:
                unsupported += 1
                reason = "; ".join(m for _, m in problems)
                if strict:
                    dropped.append({"field": field, "item": item.model_dump(mode="json"), "reason": reason})
                    continue
            if notes or problems:
                item = item.model_copy(update={"issues": [*item.issues, *(f"{c}: {m}" for c, m in notes + problems)]})
            kept.append(item)
        updates[field] = kept
    supported_points = [p.text for p in updates["key_points"] if not p.issues]  # type: ignore[attr-defined]
    for field in ("headline", "one_line", "summary"):
        checked += 1
        text = getattr(summary, field)
        problems = _claim_problems(text, source, None, "the article")
        if problems:
            unsupported += 1
            issues += [Issue(code=c, message=f"{field}: {m}", stage="summarize") for c, m in problems]
            updates[field] = _rebuilt_prose(field, supported_points, source)
            rewritten.append({"field": field, "text": text, "reason": "; ".join(m for _, m in problems)})
    grounding = Grounding(mode="strict" if strict else "lenient", checked=checked, unsupported=unsupported,
                          dropped=dropped, rewritten=rewritten)
    return summary.model_copy(update={**updates, "grounding": grounding}), issues
