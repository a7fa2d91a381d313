"""Facts found by rules, without the LLM: quotes with their speakers, numbers with units, explicit dates,
and the people (with their role), organisations (with the expansion of their acronym) and places named.

`fill_from_rules` adds what the LLM missed to its summary. Rules are deterministic and cite the sentence
they came from, so nothing here can be invented.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .dates import MONTH_AND_WEEKDAY_NAMES, dates_in_english, dates_in_indonesian
from .lexicon import (EXONYMS, PERSON_TITLES, TITLES, QuotedSpan, name_runs, normalise_quote, people_mentioned,
                      personal_name, quote_speaker, quoted_spans, titles_in_english)
from .numbers import numbers_in_indonesian, same_number
from .schema import DateFact, Location, NumberFact, Organization, Person, Quote, Sentence, Summary

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
        attributed, speaker = quote_speaker(span, earlier)
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
# Acronyms that are no organisation: time zones, currencies, the exonyms that are places, and Indonesian
# acronyms of common nouns: KTT (Konferensi Tingkat Tinggi, a summit), RUU/UU (a bill, a law), APBN/APBD
# (a budget), BBM (fuel), PHK (layoffs), WNI/WNA (citizens, foreigners), PNS/ASN (civil servants), UMKM (small
# businesses), HUT (an anniversary), OTT (a sting), SD/SMP/SMA/SMK (schools), BUMN (state firms, a kind).
_NOT_ORGANIZATIONS = frozenset({"WIB", "WITA", "WIT", "IDR", "USD", "AS", "RI", "UTC", "GMT", "HAM", "KM", "II",
                                "III", "IV", "VI", "KTT", "RUU", "UU", "APBN", "APBD", "BBM", "PHK", "WNI", "WNA",
                                "PNS", "ASN", "UMKM", "HUT", "OTT", "SD", "SMP", "SMA", "SMK", "BUMN", "PPN",
                                "NIK", "KTP", "SIM"})
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
    return " ".join(w if w in ("of", "the", "and") else w.capitalize() for w in best[1].split()) if best else None


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
            lead = re.search(r"\b((?:" + "|".join(sorted(PERSON_TITLES)) + r")(?:\s+\w+)?)\s+$",
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
            if (first.lower() in _ORGANIZATION_HEADS or first.lower() in PERSON_TITLES or first.isupper()
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
