"""Facts found by rules, without the LLM: quotes with their speakers, numbers with units, explicit dates,
and the people (with their role), organisations (with the expansion of their acronym) and places named.

They serve twice: `fill_from_rules` adds what the LLM missed to its summary, and the same quote and
name helpers let `check` verify what the LLM claimed. Rules are deterministic and cite the sentence
they came from, so nothing here can be invented.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from .numbers import (MONTH_AND_WEEKDAY_NAMES, dates_in_english, dates_in_indonesian,
                      numbers_in_indonesian, same_number)
from .schema import DateFact, Location, NumberFact, Organization, Person, Quote, Sentence, Summary

# --------------------------------------------------------------------------- word lists

# The commonest Indonesian words, none of which is English or a name; the whole lexicon when `wordfreq`
# is not installed.
FUNCTION_WORDS_ID = frozenset(
    "yang dan dengan untuk dari ini itu tidak akan pada dalam juga oleh adalah bahwa telah sudah atau "
    "karena tersebut mereka kami kita saya dia ia bisa harus masih lebih sangat kata menurut".split())


@lru_cache(maxsize=65536)
def zipf(word: str, lang: str) -> float | None:
    """Zipf frequency of a word (0 = unseen, 7 = 'the'); None when `wordfreq` is not installed."""
    try:
        from wordfreq import zipf_frequency
    except ImportError:
        return None
    return zipf_frequency(word, lang)


def is_indonesian_word(word: str) -> bool:
    """A word of the Indonesian vocabulary rather than a name: common in Indonesian, clearly rarer in English.

    Measured on FLORES-200 + NTREX (capitalised mid-sentence Indonesian tokens vs. their reference
    translations): zipf_id >= 3.0 with a 1.0 lead over English separates translated words ("Presiden",
    "Menteri", "Rusia") from names copied as they are ("Stoltenberg", "NATO", "Washington"); it misreads
    Indonesian place names ("Aceh", "Palu"), which are then simply not checked.
    """
    word_id, word_en = zipf(word.lower(), "id"), zipf(word.lower(), "en")
    if word_id is None or word_en is None:
        return word.lower() in FUNCTION_WORDS_ID
    return word_id >= 3.0 and word_id - word_en >= 1.0


def is_english_word(word: str) -> bool:
    """An English common word, so a capitalised one is a title word ("Prime Minister", "Center").

    Indonesian web text is full of English, so no lead over Indonesian is required: zipf_en >= 3.0 and
    above zipf_id. On FLORES/NTREX references 3.0 halved the capitalised common words taken for names
    against 3.5 ("Prime", "Academy"); famous names pass too ("London", "Smith") and go unchecked, while
    rare and Indonesian ones ("Lavrov", "Budi Santoso") stay checked.
    """
    word_en, word_id = zipf(word.lower(), "en"), zipf(word.lower(), "id")
    if word_en is None or word_id is None:
        return False
    return word_en >= 3.0 and word_en > word_id


# --------------------------------------------------------------------------- names

# Indonesian name -> its English forms. A form of 4+ letters also covers words it begins ("Russia" ->
# "Russian"). Names spelled the same in both languages need no entry.
EXONYMS: dict[str, tuple[str, ...]] = {
    "Amerika Serikat": ("United States", "US", "USA", "America"),
    "AS": ("US", "USA", "United States", "America"), "Amerika Latin": ("Latin America",),
    "Amerika": ("America", "US", "United States"), "PBB": ("UN", "United Nations"),
    "Uni Eropa": ("European Union", "EU"), "UE": ("EU", "European Union"), "Eropa": ("Europe", "Europa"),
    "Uni Soviet": ("Soviet Union", "USSR", "Soviet"), "Timur Tengah": ("Middle East", "Mideast"),
    "Gedung Putih": ("White House",), "Rusia": ("Russia",), "Moskow": ("Moscow",),
    "Ukraina": ("Ukraine", "Ukrainian"), "Kiev": ("Kyiv", "Kiev"), "Kyiv": ("Kyiv", "Kiev"),
    "Jerman": ("Germany", "German"),
    "Inggris": ("Britain", "British", "Briton", "England", "English", "UK", "United Kingdom"),
    "Prancis": ("France", "French"), "Perancis": ("France", "French"),
    "Belanda": ("Netherlands", "Dutch", "Holland"), "Belgia": ("Belgium", "Belgian"), "Brussel": ("Brussels",),
    "Den Haag": ("The Hague", "Hague"), "Jenewa": ("Geneva",), "Spanyol": ("Spain", "Spanish", "Spaniard"),
    "Italia": ("Italy", "Italian"), "Yunani": ("Greece", "Greek"), "Turki": ("Turk", "Türkiye"),
    "Polandia": ("Poland", "Polish"), "Swedia": ("Sweden", "Swede", "Swedish"),
    "Norwegia": ("Norway", "Norwegian"), "Finlandia": ("Finland", "Finnish"), "Denmark": ("Denmark", "Danish"),
    "Tiongkok": ("China", "Chinese", "Sino"), "China": ("China", "Chinese", "Sino"), "Jepang": ("Japan",),
    "Korea Selatan": ("South Korea",), "Korea Utara": ("North Korea",), "Filipina": ("Philippine", "Filipino"),
    "Singapura": ("Singapore",), "Selandia Baru": ("New Zealand",), "Irak": ("Iraq",), "Suriah": ("Syria",),
    "Mesir": ("Egypt",), "Arab Saudi": ("Saudi Arabia", "Saudi"), "Yordania": ("Jordan",),
    "Libanon": ("Lebanon", "Lebanese"), "Palestina": ("Palestine", "Palestinian"), "Yerusalem": ("Jerusalem",),
    "Kairo": ("Cairo",), "Afganistan": ("Afghanistan", "Afghan"), "Afghanistan": ("Afghanistan", "Afghan"),
    "Kanada": ("Canada", "Canadian"), "Meksiko": ("Mexico", "Mexican"), "Brasil": ("Brazil",),
    "Chili": ("Chile",), "Karibia": ("Caribbean",), "RI": ("Indonesia", "RI"),
    "WIB": ("WIB", "Western Indonesia", "Jakarta", "local time"),
}

# English titles and roles -> the Indonesian words that state them, so a summary's "President" can be
# checked against a source that says "Presiden" (or its English). Longer titles first; a title marked
# capitalised-only is also an ordinary English word ("general", "head", "speaker") and counts only as
# "General", "Head", "Speaker".
TITLES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("vice president", ("wakil presiden", "wapres"), False),
    ("secretary general", ("sekretaris jenderal", "sekjen"), False),
    ("secretary of state", ("menteri luar negeri", "menlu"), False),
    ("director general", ("direktur jenderal", "dirjen"), False),
    ("prime minister", ("perdana menteri",), False),
    ("deputy minister", ("wakil menteri", "wamen"), False),
    ("foreign minister", ("menteri luar negeri", "menlu"), False),
    ("defence minister", ("menteri pertahanan", "menhan"), False),
    ("defense minister", ("menteri pertahanan", "menhan"), False),
    ("finance minister", ("menteri keuangan", "menkeu"), False),
    ("police chief", ("kapolri", "kapolda", "kapolres", "kepala polisi"), False),
    ("president", ("presiden",), False),
    ("minister", ("menteri", "menlu", "menhan", "menkeu", "mendagri", "menko", "mensesneg", "menkes"), False),
    ("secretary", ("sekretaris", "menteri", "sekjen"), True),
    ("governor", ("gubernur",), False),
    ("regent", ("bupati",), False),
    ("mayor", ("wali kota", "walikota"), False),
    ("chairman", ("ketua", "pimpinan", "pemimpin"), False),
    ("chairwoman", ("ketua", "pimpinan", "pemimpin"), False),
    ("chairperson", ("ketua", "pimpinan", "pemimpin"), False),
    ("speaker", ("ketua",), True),
    ("chief", ("kepala", "ketua", "panglima", "pemimpin", "kapolri", "kapolda", "kasad", "kasal", "kasau"), True),
    ("head", ("kepala", "ketua", "pemimpin", "pimpinan"), True),
    ("spokesperson", ("juru bicara", "jubir"), False),
    ("spokesman", ("juru bicara", "jubir"), False),
    ("spokeswoman", ("juru bicara", "jubir"), False),
    ("general", ("jenderal", "jendral"), True),
    ("commander", ("komandan", "panglima", "pangdam"), False),
    ("ambassador", ("duta besar", "dubes"), False),
    ("director", ("direktur",), True),
    ("chancellor", ("kanselir",), False),
    ("senator", ("senator",), False),
    ("king", ("raja",), True),
    ("queen", ("ratu",), True),
    ("prince", ("pangeran",), True),
    ("judge", ("hakim",), True),
    ("prosecutor", ("jaksa",), False),
    ("professor", ("profesor", "prof"), False),
    ("lawmaker", ("anggota dpr", "anggota dewan", "legislator", "wakil rakyat"), False),
)


def titles_in_english(text: str) -> list[tuple[str, int, int]]:
    """The titles and roles an English text states ("President", "Secretary General"), with their spans."""
    found: list[tuple[str, int, int]] = []
    for title, _, capitalised in TITLES:
        for match in re.finditer(r"\b" + title.replace(" ", r"\s+") + r"s?\b", text, re.I):
            if capitalised and not match.group(0)[0].isupper():
                continue
            if not any(s < match.end() and match.start() < e for _, s, e in found):
                found.append((title, match.start(), match.end()))
    return sorted(found, key=lambda t: t[1])


def title_stated(title: str, english: str, indonesian: str) -> bool:
    """Does a source sentence (its English or its Indonesian) state this title?"""
    if re.search(r"\b" + title.replace(" ", r"\s+") + r"s?\b", english, re.I):
        return True
    forms = next(forms for name, forms, _ in TITLES if name == title)
    return any(re.search(r"\b" + form.replace(" ", r"\s+") + r"\b", indonesian, re.I) for form in forms)


_NAME_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Joiners allowed inside a personal name run: "Mohammed bin Salman", "Ursula von der Leyen".
_NAME_JOINERS = {"bin", "binti", "van", "von", "der", "de", "da", "al", "el", "la"}
# Words before a personal name that say it is a person: "Presiden Joko Widodo", "juru bicara Budi".
_PERSON_TITLES = frozenset(
    "presiden wakil menteri sekretaris jenderal sekjen ketua kepala direktur juru bicara jubir perdana raja "
    "ratu pangeran gubernur bupati walikota panglima kapolri kapolda duta dubes senator kanselir pemimpin "
    "pendiri komandan kolonel mayor letnan kapten laksamana marsekal hakim jaksa profesor prof dr pak bu "
    "bapak ibu tuan nyonya analis pengamat spesialis peneliti menlu menhan mantan".split())
# Words of institutions and offices that precede a name: "Kepala Staf Angkatan Darat Jenderal Agus".
_INSTITUTION_WORDS = frozenset(
    "staf angkatan darat laut udara pertahanan luar negeri dalam keuangan perdagangan umum partai dewan "
    "perwakilan rakyat utama wali kota koordinator kementerian badan komisi tertinggi pelaksana tugas plt "
    "kepolisian kejaksaan agung mahkamah konstitusi kepresidenan istana negara pemerintah provinsi kabupaten "
    "polisi tentara nasional republik besar anggota kata ujar ucap menurut sang para".split())
_UNNAMED_PERSON = re.compile(r"\b(?:" + "|".join(sorted(_PERSON_TITLES)) + r")\s+(?:itu|tersebut)\b", re.I)
_SPEECH_VERBS = r"(?:mengatakan|menyatakan|menegaskan|menjelaskan|mengungkapkan|menambahkan|berkata|" \
                r"menyebut(?:kan)?|mengaku|menuturkan|mengatakannya)"
_ATTRIBUTION = r"(?:kata|ujar|ucap|ungkap|jelas|tegas|tukas|sambung|tutur|imbuh|tambah)"
_ATTRIBUTION_NYA = re.compile(r"^[\s,.;:!?\"“”'’)-]*\b" + _ATTRIBUTION + r"n{1,2}ya\b", re.I)


def name_runs(text: str) -> list[tuple[str, int, int]]:
    """Runs of capitalised words ("Sekretaris Jenderal NATO Jens Stoltenberg"), with their spans."""
    runs: list[tuple[str, int, int]] = []
    current: list[re.Match] = []

    def close() -> None:
        while current and current[-1].group(0).lower() in _NAME_JOINERS:
            current.pop()
        if current:
            runs.append((text[current[0].start():current[-1].end()], current[0].start(), current[-1].end()))
        current.clear()

    for match in _NAME_TOKEN.finditer(text):
        word = match.group(0)
        gap = text[current[-1].end():match.start()] if current else " "
        capitalised = word[0].isupper() or (current and word.lower() in _NAME_JOINERS)
        if not capitalised or (current and not re.fullmatch(r" ", gap)):
            close()
        if capitalised:
            current.append(match)
    close()
    return runs


def personal_name(run: str) -> str | None:
    """The personal name at the end of a capitalised run, after its titles, institutions, places and
    acronyms ("Menteri Luar Negeri Rusia Sergei Lavrov" -> "Sergei Lavrov"). None when nothing is left.

    Word frequency cannot tell Indonesian names from words ("Budi" and "Staf" are equally common), so the
    words stripped are a list, plus capitalised words that never occur in English ("Menurut").
    """
    words = run.split()
    start = 0
    while start < len(words) and _is_name_prefix(words[start]):
        start += 1
    kept = [w for w in words[start:] if w.lower() not in MONTH_AND_WEEKDAY_NAMES]
    while kept and kept[-1].lower() in _NAME_JOINERS:
        kept.pop()
    return " ".join(kept) or None


def _is_name_prefix(word: str) -> bool:
    lower = word.lower()
    if lower in _PERSON_TITLES or lower in _INSTITUTION_WORDS or word in EXONYMS or word == "Indonesia":
        return True
    if word.isupper() and len(word) > 1:
        return True  # "NATO", "TNI"
    return is_indonesian_word(word) and zipf(lower, "en") == 0


def people_mentioned(text: str) -> list[tuple[str, int]]:
    """Personal names that the text marks as people (after a title, after 'menurut'/'kata', or as the
    subject of a verb of saying), with their positions. Best effort, used to resolve 'katanya'. Names
    after 'dilansir'/'mengutip' are news outlets, not people."""
    people = []
    for run, start, end in name_runs(text):
        name = personal_name(run)
        if not name:
            continue
        before = text[:start]
        if re.search(r"\b(?:dilansir|melansir|dikutip|mengutip|seperti|via|sumber)\s+$", before, re.I):
            continue
        stripped = run[:run.rindex(name)].lower().split()
        titled = any(word in _PERSON_TITLES for word in stripped) or re.search(
            r"\b(?:" + "|".join(_PERSON_TITLES) + r")\s+$", before, re.I)
        said = re.match(r"\s*,?\s*" + _SPEECH_VERBS + r"\b", text[end:], re.I)
        cued = re.search(r"\b(?:menurut|" + _ATTRIBUTION + r")\s+$", before, re.I) or "menurut" in stripped
        if titled or said or cued:
            people.append((name, start))
    return people


# --------------------------------------------------------------------------- quotes

_OPEN = "“„«"
_CLOSE = "”»"
_NEUTRAL = '"'
_QUOTE_CHARS = _OPEN + _CLOSE + _NEUTRAL


@dataclass(frozen=True)
class QuotedSpan:
    """Words between quote marks, possibly over several sentences of one paragraph."""

    text: str
    sentence_ids: tuple[str, ...]
    before: str  # text of the first sentence before the opening mark
    after: str  # text of the last sentence after the closing mark


def normalise_quote(text: str) -> str:
    """Compare quotes loosely: quote marks, spacing, case and the punctuation at both ends do not matter."""
    text = re.sub(f"[{_QUOTE_CHARS}‘’']", "", text)
    return " ".join(text.split()).strip(" ,.;:!?-–—").casefold()


def _paragraphs(sentences: Sequence[Sentence]) -> list[list[Sentence]]:
    groups: dict[str, list[Sentence]] = {}
    for sentence in sentences:
        groups.setdefault(sentence.id.split(".")[0], []).append(sentence)
    return list(groups.values())


def quoted_spans(sentences: Sequence[Sentence]) -> list[QuotedSpan]:
    """Quoted spans of the Indonesian text. A quote may open in one sentence and close in a later one of
    the same paragraph; an unclosed quote runs to the end of its paragraph. A '"' opens or closes
    depending on what is open, so mixed “..." pairs (common in scraped news) still pair up."""
    spans = []
    for paragraph in _paragraphs(sentences):
        joined, offsets = "", []
        for sentence in paragraph:
            offsets.append(len(joined) + (1 if joined else 0))
            joined = f"{joined} {sentence.text}" if joined else sentence.text
        bounds: list[tuple[int, int]] = []
        opened: int | None = None
        closed = 0  # a closing mark with nothing open closes a quote opened before the paragraph
        for position, char in enumerate(joined):
            if char in _OPEN or (char == _NEUTRAL and opened is None):
                opened = position + 1 if opened is None else opened
            elif char in _CLOSE or char == _NEUTRAL:
                bounds.append((closed if opened is None else opened, position))
                opened, closed = None, position + 1
        if opened is not None:
            bounds.append((opened, len(joined)))
        for start, end in bounds:
            text = joined[start:end].strip()
            if len(text.split()) < 2:
                continue  # a stray mark or a quoted single word ("hoaks") is no statement
            first = max(i for i, off in enumerate(offsets) if off <= start)
            last = max(i for i, off in enumerate(offsets) if off <= max(start, end - 1))
            spans.append(QuotedSpan(
                text=text.rstrip(" ,"),
                sentence_ids=tuple(s.id for s in paragraph[first:last + 1]),
                before=joined[offsets[first]:max(offsets[first], start - 1)],
                after=joined[end + 1:offsets[last] + len(paragraph[last].text)],
            ))
    return spans


def _speaker(span: QuotedSpan, earlier: list[str]) -> tuple[bool, str | None]:
    """(is the span attributed to someone, who). `earlier` = texts of previous sentences, nearest last."""
    direct = re.match(r"^[\s,.;:!?)-]*\b(?:" + _ATTRIBUTION + r"|menurut)\s+(.*)", span.after, re.I)
    if direct:
        runs = name_runs(direct.group(1))
        if runs and runs[0][1] == 0:
            return True, personal_name(runs[0][0])
        if not re.match(r"(?:dia|ia|beliau)\b", direct.group(1), re.I):
            return True, None
    speakers_before = people_mentioned(span.before)  # "Presiden X mengatakan tujuannya “...”"
    cue_before = re.search(r"\b(?:menurut|" + _ATTRIBUTION + r")\b|\b" + _SPEECH_VERBS + r"\b", span.before, re.I)
    if cue_before and speakers_before:
        return True, speakers_before[-1][0]
    if not (direct or _ATTRIBUTION_NYA.match(span.after) or re.search(_SPEECH_VERBS, span.before, re.I)):
        return False, None
    for text in (span.before, *reversed(earlier[-5:])):  # "ujarnya": the latest person named before...
        people = people_mentioned(text)
        unnamed = [m.start() for m in _UNNAMED_PERSON.finditer(text)]
        if unnamed and (not people or unnamed[-1] > people[-1][1]):
            return True, None  # ...unless an unnamed one came later: "Juru bicara itu ... katanya"
        if people:
            return True, people[-1][0]
    return True, None


# --------------------------------------------------------------------------- numbers and dates

_UNITS = {  # Indonesian unit word -> English, for the summary's NumberFact.unit
    "orang": "people", "personel": "personnel", "tentara": "troops", "prajurit": "soldiers",
    "pasukan": "troops", "negara": "countries", "warga": "residents", "korban": "victims",
    "anggota": "members", "tahun": "years", "bulan": "months", "hari": "days", "jam": "hours",
    "menit": "minutes", "kali": "times", "unit": "units", "rumah": "houses", "ton": "tonnes",
    "kilometer": "km", "km": "km", "meter": "m", "hektare": "hectares", "ha": "hectares",
    "pesawat": "aircraft", "kapal": "ships", "tank": "tanks", "rudal": "missiles", "dolar": "USD",
    "rupiah": "IDR", "euro": "EUR", "pengungsi": "refugees", "siswa": "students", "kasus": "cases",
}
_NOT_UNITS = frozenset("dari di ke dan yang atau untuk pada dengan dalam oleh itu ini sebagai lebih kurang "
                       "hingga sampai per juga sejak tersebut saja lagi pun".split())


def _unit_after(text: str, end: int) -> str | None:
    match = re.match(r"\s+([^\W\d_]+)", text[end:])
    if not match:
        return None
    word = match.group(1)
    if word.lower() in _UNITS:
        return _UNITS[word.lower()]
    if word[0].isupper() or word.lower() in _NOT_UNITS:
        return None
    return word.lower()  # no English in the tiny table: keep the Indonesian noun rather than guess


@dataclass
class RuleFacts:
    quotes: list[Quote] = field(default_factory=list)
    numbers: list[NumberFact] = field(default_factory=list)
    dates: list[DateFact] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    organizations: list[Organization] = field(default_factory=list)
    locations: list[Location] = field(default_factory=list)


def _english_of(span: QuotedSpan, spans: list[QuotedSpan], by_id: dict[str, Sentence]) -> str:
    """The English of a quote: the quoted span at the same position in the translation of its sentences,
    else their whole translation, else "" (never Indonesian text in an English field)."""
    english = [by_id[i].en for i in span.sentence_ids if by_id[i].en]
    if not english:
        return ""
    english_spans = quoted_spans([Sentence(id=f"p1.s{n}", text=t) for n, t in enumerate(english, 1)])
    siblings = [s for s in spans if s.sentence_ids == span.sentence_ids]
    if len(english_spans) == len(siblings):
        return english_spans[siblings.index(span)].text
    return " ".join(english)


def _quote_facts(sentences: Sequence[Sentence]) -> list[Quote]:
    by_id = {s.id: s for s in sentences}
    order = [s.id for s in sentences]
    quotes = []
    spans = quoted_spans(sentences)
    for span in spans:
        earlier = [s.text for s in sentences[:order.index(span.sentence_ids[0])]]
        attributed, speaker = _speaker(span, earlier)
        if not attributed:
            continue
        quotes.append(Quote(speaker=speaker, text_id=span.text, text_en=_english_of(span, spans, by_id),
                            sources=list(span.sentence_ids), origin="rules"))
    return quotes


def _number_facts(sentences: Sequence[Sentence]) -> list[NumberFact]:
    facts: dict[tuple[float, str | None], NumberFact] = {}
    for sentence in sentences:
        for mention in numbers_in_indonesian(sentence.text):
            if mention.approximate or mention.kind in ("time", "ordinal"):
                continue
            unit = mention.unit or _unit_after(sentence.text, mention.end)
            if mention.kind == "word" and unit not in _UNITS.values():
                continue  # "salah satu", "kedua belah pihak": small words count only with a clear unit
            if unit is None and mention.value.is_integer() and 1900 <= mention.value <= 2100:
                continue  # a bare year is a date, not a quantity
            key = (mention.value, unit)
            if key in facts:
                facts[key].sources.append(sentence.id)
            else:
                facts[key] = NumberFact(value=mention.value, unit=unit, sources=[sentence.id], origin="rules")
    return list(facts.values())


def _date_facts(sentences: Sequence[Sentence], published: str | None) -> list[DateFact]:
    facts: dict[str, DateFact] = {}
    for sentence in sentences:
        english = dates_in_english(sentence.en, published) if sentence.en else []
        for date in dates_in_indonesian(sentence.text, published):
            if date.month is None:
                continue  # relative days and weekdays: not explicit
            same = [e for e in english if e.month == date.month and e.day == date.day
                    and (date.year is None or e.year == date.year)]
            text = same[0].text if same else date.text
            key = date.iso or text.casefold()
            if key in facts:
                facts[key].sources.append(sentence.id)
            else:
                facts[key] = DateFact(text=text, iso=date.iso, sources=[sentence.id], origin="rules")
    return list(facts.values())


# --------------------------------------------------------------------------- people, organisations, places

# First words of an Indonesian institution's name: "Kementerian Keuangan", "Badan Pusat Statistik".
_ORGANIZATION_HEADS = frozenset(
    "kementerian kemenkeu badan komisi dewan mahkamah kejaksaan kepolisian partai bank universitas lembaga "
    "majelis komite komnas kantor pengadilan tentara angkatan perusahaan pt yayasan persatuan asosiasi "
    "ikatan gerakan front organisasi aliansi pasukan".split())
# Acronyms that are no organisation: time zones, currencies, and the exonyms that are places.
_NOT_ORGANIZATIONS = frozenset({"WIB", "WITA", "WIT", "IDR", "USD", "AS", "RI", "UTC", "GMT", "HAM", "KM", "II",
                                "III", "IV", "VI"})
_PLACE_CUE = re.compile(r"\b(?:di|ke|dari|kota|provinsi|kabupaten|negara)\s+$", re.I)
_NOT_PLACE_EXONYMS = frozenset({"PBB", "Uni Eropa", "UE", "WIB", "RI", "Gedung Putih"})
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]{1,7}\b")


def _english_title(indonesian_role: str) -> str | None:
    """'Menteri Keuangan' -> 'Finance Minister': the longest English title whose Indonesian form is stated."""
    best: tuple[int, str] | None = None
    for title, forms, _ in TITLES:
        for form in forms:
            if re.search(r"\b" + form.replace(" ", r"\s+") + r"\b", indonesian_role, re.I):
                if best is None or len(form) > best[0]:
                    best = (len(form), title)
    return best[1].title() if best else None


def _role_in_english(name: str, english: str | None) -> str | None:
    """The title just before the name in the translation: "Finance Minister Sri Mulyani" -> "Finance Minister"."""
    if not english:
        return None
    surname = name.split()[-1]
    at = english.find(name) if name in english else english.find(surname)
    if at <= 0:
        return None
    words = english[:at].split()[-6:]
    kept: list[str] = []
    while words and (words[-1][0].isupper() or titles_in_english(words[-1])) and words[-1].lower() not in (
            "the", "a", "said", "according"):
        kept.insert(0, words.pop())
    role = " ".join(kept)
    return role if role and titles_in_english(role) else None


def _same_person(a: str, b: str) -> bool:
    """'Stoltenberg' and 'Jens Stoltenberg' are one person: one name's words are all in the other's."""
    wa, wb = set(a.casefold().split()), set(b.casefold().split())
    return bool(wa) and bool(wb) and (wa <= wb or wb <= wa)


def _people(sentences: Sequence[Sentence]) -> list[Person]:
    people: list[Person] = []
    for sentence in sentences:
        marked = people_mentioned(sentence.text)
        for run, start, _ in name_runs(sentence.text):
            name = personal_name(run)
            if not name or (name, start) not in marked:
                continue
            stated = run[:run.rindex(name)].strip()
            lead = re.search(r"\b((?:" + "|".join(sorted(_PERSON_TITLES)) + r")(?:\s+\w+)?)\s+$",
                             sentence.text[:start], re.I)  # "juru bicara Budi": a title in lower case
            stated = f"{lead.group(1)} {stated}".strip() if lead else stated
            role = _role_in_english(name, sentence.en) or (_english_title(stated) if stated else None)
            affiliation = next((w for w in stated.split() if w.isupper() and w not in _NOT_ORGANIZATIONS), None)
            known = next((p for p in people if _same_person(p.name, name)), None)
            if known is None:
                people.append(Person(name=name, role=role, affiliation=affiliation, sources=[sentence.id],
                                     origin="rules"))
                continue
            if len(name) > len(known.name):
                known.name = name
            known.role = known.role or role
            known.affiliation = known.affiliation or affiliation
            if sentence.id not in known.sources:
                known.sources.append(sentence.id)
    return people


_EXPANSION_WORD = re.compile(r"[A-Z][\w'’.-]*|of|and|for|the|dan|untuk|urusan")


def _expansions(text: str) -> dict[str, list[str]]:
    """Acronyms the text spells out: "Dewan Perwakilan Rakyat (DPR)", "House of Representatives (DPR)" or
    "DPR (Dewan Perwakilan Rakyat)"."""
    found: dict[str, list[str]] = {}
    for match in re.finditer(r"\(([A-Z][A-Za-z0-9&]{1,9})\)", text):
        words = text[:match.start()].split()
        taken: list[str] = []
        while words and _EXPANSION_WORD.fullmatch(words[-1].strip(",")) and len(taken) < 8:
            taken.insert(0, words.pop())
        while taken and not taken[0][0].isupper():
            taken.pop(0)
        if len(taken) >= 2:
            found.setdefault(match.group(1), []).append(" ".join(taken))
    for match in re.finditer(r"\b([A-Z][A-Z0-9&]{1,9})\s*\(([^()]{5,80})\)", text):
        inner = match.group(2).split()
        if len(inner) >= 2 and all(_EXPANSION_WORD.fullmatch(w) for w in inner) and inner[0][0].isupper():
            found.setdefault(match.group(1), []).append(match.group(2))
    return found


def _organizations(sentences: Sequence[Sentence]) -> list[Organization]:
    expansions: dict[str, str] = {}
    spelled: set[str] = set()
    for sentence in sentences:  # the English expansion reads better; the Indonesian one is a fallback
        for text in (sentence.en or "", sentence.text):
            for acronym, forms in _expansions(text).items():
                expansions.setdefault(acronym, forms[0])
                spelled.update(forms)
    found: dict[str, Organization] = {}

    def add(key: str, name: str, sentence_id: str) -> None:
        organization = found.setdefault(key, Organization(name=name, sources=[], origin="rules"))
        if sentence_id not in organization.sources:
            organization.sources.append(sentence_id)

    for sentence in sentences:
        text = sentence.text
        for match in _ACRONYM.finditer(text):
            acronym = match.group(0)
            if acronym in _NOT_ORGANIZATIONS or acronym in EXONYMS and EXONYMS[acronym][0] != acronym and \
                    acronym not in ("PBB", "UE"):
                continue
            if acronym.isdigit() or any(c.isdigit() for c in acronym[:1]):
                continue
            english = EXONYMS.get(acronym, (acronym,))[0] if acronym in ("PBB", "UE") else acronym
            name = f"{english} ({expansions[acronym]})" if acronym in expansions else english
            add(acronym, name, sentence.id)
        people = people_mentioned(text)
        for run, start, _ in name_runs(text):
            person = personal_name(run)
            if person and person != run and (person, start) in people:
                run = run[:run.rindex(person)].strip()  # "Kementerian Keuangan Budi Santoso"
            words = run.split()
            if len(words) >= 2 and words[0].lower() in _ORGANIZATION_HEADS and run not in spelled:
                add(run.casefold(), run, sentence.id)  # a spelled-out acronym is held by the acronym's entry
    return list(found.values())


def _locations(sentences: Sequence[Sentence]) -> list[Location]:
    found: dict[str, Location] = {}

    def add(name: str, sentence_id: str) -> None:
        location = found.setdefault(name, Location(name=name, sources=[], origin="rules"))
        if sentence_id not in location.sources:
            location.sources.append(sentence_id)

    for sentence in sentences:
        taken: list[tuple[int, int]] = []
        for key in sorted(EXONYMS, key=len, reverse=True):
            if key in _NOT_PLACE_EXONYMS:
                continue
            for match in re.finditer(r"\b" + re.escape(key) + r"\b", sentence.text):
                if not any(s < match.end() and match.start() < e for s, e in taken):
                    taken.append(match.span())
                    add(EXONYMS[key][0], sentence.id)
        for run, start, end in name_runs(sentence.text):
            if any(s < end and start < e for s, e in taken) or not _PLACE_CUE.search(sentence.text[:start]):
                continue
            first = run.split()[0]
            if (first.lower() in _ORGANIZATION_HEADS or first.lower() in _PERSON_TITLES or first.isupper()
                    or first.lower() in MONTH_AND_WEEKDAY_NAMES or people_mentioned(run)):
                continue
            add(run, sentence.id)
    return list(found.values())


def _merge_named(existing: list, found: list, same) -> list:
    """The LLM's items, plus the rule items it did not name; the LLM's items gain the rules' citations."""
    merged = list(existing)
    for item in found:
        twin = next((i for i, e in enumerate(merged) if same(e.name, item.name)), None)
        if twin is None:
            merged.append(item)
        else:
            other = merged[twin]
            update = {}
            if not other.sources:
                update["sources"] = list(item.sources)
            if isinstance(other, Person) and not other.role and item.role:
                update["role"] = item.role
            if update:
                merged[twin] = other.model_copy(update=update)
    return merged


def _same_name(a: str, b: str) -> bool:
    a, b = a.casefold(), b.casefold()
    return a == b or a.startswith(b + " ") or b.startswith(a + " ") or a in b.split(" (") or b in a.split(" (")


def extract_facts(sentences: Sequence[Sentence], published: str | None) -> RuleFacts:
    """Quotes (with speaker when the text names one), numbers with units, explicit dates, people (with the
    role stated), organisations (with their acronym's expansion when the article gives it) and places, each
    citing the sentences it comes from. Facts are read from the Indonesian; English is used for display."""
    return RuleFacts(quotes=_quote_facts(sentences), numbers=_number_facts(sentences),
                     dates=_date_facts(sentences, published), people=_people(sentences),
                     organizations=_organizations(sentences), locations=_locations(sentences))


def fill_from_rules(summary: Summary, facts: RuleFacts) -> Summary:
    """Add the rule facts the LLM did not state: a number with the same value, a date with the same ISO
    (or text), a quote overlapping an existing one, or an entity of the same name counts as already there
    (an LLM entity without citations or role takes the rules' ones)."""
    values = [n.value for n in summary.numbers]
    numbers = [*summary.numbers, *(n for n in facts.numbers
                                  if not any(same_number(n.value, v) for v in values))]
    seen_dates = {d.iso or d.text.casefold() for d in summary.dates}
    dates = [*summary.dates, *(d for d in facts.dates if (d.iso or d.text.casefold()) not in seen_dates)]
    existing = [normalise_quote(q.text_id) for q in summary.quotes]
    quotes = list(summary.quotes)
    for quote in facts.quotes:
        text = normalise_quote(quote.text_id)
        if not any(text in other or other in text for other in existing if other):
            quotes.append(quote)
            existing.append(text)
    return summary.model_copy(update={
        "numbers": numbers, "dates": dates, "quotes": quotes,
        "people": _merge_named(summary.people, facts.people, _same_person),
        "organizations": _merge_named(summary.organizations, facts.organizations, _same_name),
        "locations": _merge_named(summary.locations, facts.locations, _same_name),
    })
