"""Grounding checks after summarisation: every summary item must be supported by the sentences it cites
(numbers, dates, names, titles, quotes), using the same comparisons as the translation checks (fidelity.py).

Issues (stage "summarize"): unknown-source, no-source, unsupported-number, unsupported-date,
  unsupported-quote, unsupported-name, unsupported-title, unsupported-polarity. In strict mode unsupported
items are dropped; unsupported prose is rewritten from the supported key points.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .dates import MONTH_AND_WEEKDAY_NAMES, DateMention, dates_in_english, dates_in_indonesian
from .fidelity import (CURRENCY_CODES, fold_accents, sentence_initial, strip_possessive, undot, value_matches,
                       value_pool, word_matches)
from .lexicon import (EXONYMS, TITLES, is_english_word, normalise_quote, quoted_spans, title_stated,
                      titles_in_english, zipf)
from .numbers import NumberMention, must_appear, numbers_in_english, numbers_in_indonesian, same_number
from .schema import Fact, Grounding, Issue, Person, Sentence, Summary

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
            self.values[sentence.id] = value_pool(numbers, dates)
            self.dates[sentence.id] = dates
            self.texts[sentence.id] = [sentence.text] + ([sentence.en] if sentence.en else [])
        self.folded_by_id = {i: [fold_accents(undot(t)) for t in texts] for i, texts in self.texts.items()}
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
    missing = [m.text for m in numbers_in_english(text) if must_appear(m) and not value_matches(m, pool)]
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
    folded = fold_accents(" ".join(text.split()))
    if folded and any(folded in fold_accents(t) for i in ids for t in source.texts.get(i, [])):
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
    folded = fold_accents(undot(name))
    if any(re.search(r"\b" + re.escape(folded), text) for text in scope.folded):
        return True
    for key, forms in EXONYMS.items():
        if any(folded.startswith(fold_accents(f)) for f in forms) and re.search(r"\b" + re.escape(key) + r"\b",
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
    for match in word_matches(text):
        for word in strip_possessive(match.group(0)).split("-"):
            if (len(word) < 2 or not word[0].isupper() or word.lower() in MONTH_AND_WEEKDAY_NAMES
                    or word.lower() in _TITLE_WORDS or word.lower() in _NAME_FILLERS or is_english_word(word)
                    or word in CURRENCY_CODES):
                continue
            if zipf(word.lower(), "en") is None and sentence_initial(text, match.start()):
                continue  # without frequency lists a sentence-initial capital says nothing
            if word not in names:
                names.append(word)
    return names


# English negation. Checked English against English (the claim against the pipeline's translation), because
# across languages negation words do not line up: on NTREX-128's references 5% of Indonesian sentences with
# "tidak"/"tak"/"bukan" have no negation word in a correct English translation ("tidak diketahui" = unknown).
_NEGATION = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot)\b|n't\b", re.IGNORECASE)
# A claim is compared with its closest sentence only when that sentence holds this share of the claim's
# content words (and at least POLARITY_MIN_WORDS of them): then they speak of the same thing.
POLARITY_OVERLAP = 0.6
POLARITY_MIN_WORDS = 3
_FUNCTION_WORD_ZIPF = 5.5  # "said" 6.0, "make" 6.1 are function-like; "party" 5.5, "mission" 4.9 are content


@lru_cache(maxsize=4096)
def _content_stems(text: str) -> frozenset[str]:
    """The content words of an English text, cut to 5 letters so that inflections meet (mission/missions)."""
    stems = set()
    for word in re.findall(r"[A-Za-z]+", text):
        lower = word.lower()
        if len(lower) >= 3 and not _NEGATION.fullmatch(lower) and (zipf(lower, "en") or 0.0) < _FUNCTION_WORD_ZIPF:
            stems.add(lower[:5])
    return frozenset(stems)


def _polarity_problems(text: str, source: _Source, ids: Sequence[str], where: str) -> list[tuple[str, str]]:
    """A claim that says the opposite of the sentence it restates: the closest sentence in scope (by shared
    content words) is negated and the claim is not, or the other way round ("will not be launched" for a
    mission the article says will be). An inversion that keeps a negation word somewhere is not caught."""
    claim = _content_stems(text)
    if len(claim) < POLARITY_MIN_WORDS:
        return []
    overlap, best_id, best = max(((len(claim & _content_stems(en)), i, en) for i in ids
                                  for en in source.texts.get(i, [])[1:]), default=(0, "", ""))
    if overlap < max(POLARITY_MIN_WORDS, POLARITY_OVERLAP * len(claim)):
        return []
    claim_negated, source_negated = bool(_NEGATION.search(text)), bool(_NEGATION.search(best))
    if claim_negated == source_negated:
        return []
    which = "the claim is negated, the sentence is not" if claim_negated else "the sentence is negated, the claim is not"
    return [("unsupported-polarity", f"says the opposite of {best_id}, the closest of {where} ({which})")]


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
    return problems + _polarity_problems(text, source, scope.ids, where)


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
        if not value_matches(mention, source.pool(ids)):
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
