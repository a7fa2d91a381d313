"""What the checks and the rule facts know about the words of Indonesian and English news: word
frequencies (is this word Indonesian, English, neither), place-name exonyms, titles and roles, how
personal names are written, and quoted speech with its speaker. Plain lookups and patterns, no model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .dates import MONTH_AND_WEEKDAY_NAMES
from .schema import Sentence

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
    "Italia": ("Italy", "Italian"), "Yunani": ("Greece", "Greek"), "Turki": ("Turkey", "Turk", "Türkiye"),
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
    ("foreign minister", ("menteri luar negeri", "menlu"), False),  # before the US title: roles use the first
    ("secretary of state", ("menteri luar negeri", "menlu"), False),
    ("director general", ("direktur jenderal", "dirjen"), False),
    ("prime minister", ("perdana menteri",), False),
    ("deputy minister", ("wakil menteri", "wamen"), False),
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
PERSON_TITLES = frozenset(
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
_UNNAMED_PERSON = re.compile(r"\b(?:" + "|".join(sorted(PERSON_TITLES)) + r")\s+(?:itu|tersebut)\b", re.I)
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
    if lower in PERSON_TITLES or lower in _INSTITUTION_WORDS or word in EXONYMS or word == "Indonesia":
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
        titled = any(word in PERSON_TITLES for word in stripped) or re.search(
            r"\b(?:" + "|".join(PERSON_TITLES) + r")\s+$", before, re.I)
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


def quote_speaker(span: QuotedSpan, earlier: list[str]) -> tuple[bool, str | None]:
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
