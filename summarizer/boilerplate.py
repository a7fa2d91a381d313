"""Boilerplate removal: what scraped news carries around the story (repeated headlines, "Baca juga" links,
captions, share buttons, comment boxes), plus the title, dateline and publication-date lines. A rule only
drops a line that cannot be article text, and every dropped line is kept with its reason."""

from __future__ import annotations

import re

from summarizer.dates import date_line
from summarizer.formats import Unit
from summarizer.schema import Dateline, RemovedLine

# ------------------------------------------------------------------------------------------ datelines

_PLACE = r"(?P<place>[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){0,3})"
_DOMAIN = r"(?P<outlet>[A-Za-z0-9][\w-]*(?:\.[A-Za-z]{2,}){1,2})"
_DASH = re.compile(r" ?[–—]+ ?| -{1,2} ?|-{1,2} ")
# (pattern, whether it needs a dash when it stands alone on its line)
_DATELINES = (
    (re.compile(rf"{_PLACE} \((?P<outlet>[^()]{{2,40}})\)"), True),  # Moskow (ANTARA) –
    (re.compile(rf"{_DOMAIN} ?, ?{_PLACE}"), False),  # Detil.co,Brussels -
    (re.compile(rf"{_PLACE} ?, ?{_DOMAIN}"), False),  # JAKARTA, Saorakyat.com– / Washington, Infomalangraya.com
    (re.compile(_DOMAIN), True),  # Saorakyat.com –
    (re.compile(r"(?P<place>[A-Z]{3,}(?: [A-Z]{3,})?|[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})?)(?= [–—-])"),
     True),  # JAKARTA – / Jakarta -
)
DATELINE_MAX_CHARS = 80  # the longest real datelines ("Kuala Lumpur, Infomalangraya.com –") are ~40


def match_dateline(text: str) -> tuple[Dateline, str] | None:
    """Split a leading dateline off a paragraph: (dateline, rest); rest is "" when the line is only that."""
    head = text[:DATELINE_MAX_CHARS]
    for pattern, needs_dash in _DATELINES:
        if not (match := pattern.match(head)):
            continue
        dash = _DASH.match(text, match.end())
        cut = dash.end() if dash else match.end()
        rest = text[cut:]
        if (rest and not dash) or (not rest and needs_dash and not dash):
            continue
        groups = match.groupdict()
        return Dateline(place=groups.get("place"), outlet=groups.get("outlet"), text=text[:cut].strip()), rest
    return None


def _is_dateline_line(text: str) -> bool:
    """The whole line is a dateline ("Washington, Infomalangraya.com"), not a paragraph that starts with one."""
    return (found := match_dateline(text)) is not None and not found[1]


# ------------------------------------------------------------------------------------------ boilerplate

_NON_WORD = re.compile(r"[\W_]+")


def _key(text: str) -> str:
    """Comparison key: case and punctuation do not matter ("+ There are no comments" = "there are no comments")."""
    return _NON_WORD.sub(" ", text.casefold()).strip()


_DANGLING_CROSS_LINKS = {"baca juga", "lihat juga", "simak juga", "baca", "read", "read more", "read also"}
_WHOLE_LINES = {
    **dict.fromkeys(_DANGLING_CROSS_LINKS | {"baca selengkapnya", "selengkapnya"}, "cross-link"),
    **dict.fromkeys(("you may also like", "more from author", "related posts", "related articles", "related news",
                     "related stories", "more stories", "recommended for you", "berita terkait", "artikel terkait",
                     "berita lainnya", "artikel lainnya", "rekomendasi untuk anda"), "related-links"),
    **dict.fromkeys(("there are no comments", "no comments", "add yours", "leave a reply", "leave a comment",
                     "cancel reply", "post comment", "comments", "komentar", "tulis komentar", "kirim komentar",
                     "tinggalkan komentar", "tinggalkan balasan", "belum ada komentar", "be the first to comment",
                     "you must be logged in to post a comment"), "comment-box"),
}
_LIST_HEADERS = ("related-links", "comment-box")
_SHORT_CREDIT = r"[^ ]+(?: [^ ]+){0,7}"  # at most 8 words: a name or an outlet, never a sentence
_PATTERNS = (
    ("cross-link", re.compile(r"(?i:baca(?: juga)?|lihat(?: juga)?|simak(?: juga)?|read(?: more| also)?) ?: ?\S.*")),
    ("cross-link", re.compile(r"(?:(?i:baca|lihat|simak) (?i:juga)|READ(?: MORE| ALSO)?) [^ ].*(?<![.!?])")),
    ("read-time", re.compile(r"(?i:(?:estimated )?read(?:ing)? time\b.{0,30}|\d+ ?min(?:ute)?s? read|"
                             r"waktu baca\b.{0,30}|(?:sekitar )?\d+ menit (?:waktu )?(?:membaca|baca))")),
    ("photo-credit", re.compile(r"\(?(?i:foto|photo|sumber foto|kredit foto|ilustrasi|image|gambar) ?[:/] ?"
                                rf"{_SHORT_CREDIT}\)?")),
    ("source-credit", re.compile(rf"\(?(?i:sumber|source) ?: ?{_SHORT_CREDIT}\)?")),
    ("byline", re.compile(rf"(?i:editor|penulis|reporter|pewarta|redaktur|penyunting|kontributor|oleh|author|"
                          rf"writer) ?: ?{_SHORT_CREDIT}")),
    ("separator", re.compile(r"\*{3,}|(?:\* ){2,}\*|\(\*\)|-{3,}|_{3,}|={3,}|~{3,}")),
    ("comment-box", re.compile(r"(?i:\d+ (?:comments?|komentar))")),
)
# A photo credit closing a caption line: "... memerangi ekstremisme. Foto: Reuters/Sindonews"
_CREDIT_TAIL = re.compile(
    r"(?<![^\s.!?”\"])\(?(?:Foto|FOTO|Photo|PHOTO|Ilustrasi|ILUSTRASI) ?[:/] ?[^\s!?][^!?]{0,60}$")
# Boilerplate lines are short; photo captions, the longest kind, run a sentence or two. A longer line is a
# body paragraph (a credit glued onto one stays with it), and the bound keeps the rules cheap on huge lines.
MAX_CAPTION_CHARS = 400
_SHARE_WORDS = frozenset("share shares bagikan tweet whatsapp wa facebook fb twitter x telegram line email e mail "
                         "linkedin pinterest copy link salin tautan print cetak on ke via this artikel ini berita "
                         "messenger reddit".split())
_SHARE_TRIGGERS = frozenset("share shares bagikan tweet whatsapp facebook twitter telegram linkedin pinterest".split())
# Attached to the last paragraph: "tukasnya.***", "orang tua.(*)", "... bersama. (ant)"
_END_MARKER = re.compile(r" ?(?:\(\*\)|\*{2,}|(?<=[.!?”\"]) ?\([a-z]{2,6}(?:/[a-z]{2,6})*\))$")


def _boilerplate_reason(text: str) -> str | None:
    """Why a whole line is boilerplate, or None. Context-free rules only; see `remove_boilerplate` for the rest."""
    if len(text) > MAX_CAPTION_CHARS:
        return None
    if reason := _WHOLE_LINES.get(_key(text)):
        return reason
    for reason, pattern in _PATTERNS:
        if pattern.fullmatch(text):
            return reason
    if date_line(text):
        return "publication-date"
    if _CREDIT_TAIL.search(text):
        return "photo-credit"
    words = re.findall(r"[^\W\d_]+", text.casefold())
    if words and len(text) <= 120 and _SHARE_TRIGGERS.intersection(words) and _SHARE_WORDS.issuperset(words):
        return "share-buttons"
    return None


def _looks_like_headline(text: str) -> bool:
    """Short, not ending like a sentence. Headlines run 5-15 words; 25 words / 200 characters leaves room
    for long ones while rejecting a lede paragraph."""
    return (len(text) <= 200 and len(text.split()) <= 25 and not text.endswith((".", ",", ";", ":"))
            and any(char.isalpha() for char in text))


def remove_boilerplate(units: list[Unit], title: str | None
           ) -> tuple[str | None, Dateline | None, str | None, list[str], list[RemovedLine]]:
    """Drop boilerplate and detect title, dateline and date line.

    Returns (title, dateline, ISO date of a date line, paragraphs, removed lines).
    """
    extra: list[RemovedLine] = []
    for unit in units:
        unit.reason = unit.reason or _boilerplate_reason(unit.text)
    for previous, unit in zip(units, units[1:]):  # "Baca Juga" on its own line, the linked headline below it
        if (previous.reason == "cross-link" and _key(previous.text) in _DANGLING_CROSS_LINKS
                and unit.reason is None and _looks_like_headline(unit.text)):
            unit.reason = "cross-link"
    candidates = [unit for unit in units if unit.reason is None]
    if title is None and len(candidates) > 1 and _looks_like_headline(candidates[0].text) \
            and not _is_dateline_line(candidates[0].text):
        title, candidates[0].reason = candidates[0].text, "title"
    if title:
        for unit in units:
            if unit.reason is None and len(unit.text) <= 2 * len(title) and _key(unit.text) == _key(title):
                unit.reason = "repeated-headline"
    _mark_trailing_lists(units)

    content = [unit for unit in units if unit.reason is None]
    dateline = None
    if content:
        first = content[0]
        if title and first.text[:len(title)].casefold() == title.casefold():
            if (dash := _DASH.match(first.text, len(title))) and first.text[dash.end():]:
                extra.append(RemovedLine(line=first.line, text=first.text[:dash.end()].strip(),
                                         reason="repeated-headline"))
                first.text = first.text[dash.end():]
        if found := match_dateline(first.text):
            dateline, first.text = found
            if not first.text:
                first.reason = "dateline"
                content.pop(0)
    if content and (marker := _END_MARKER.search(content[-1].text[-40:])):
        last = content[-1]
        extra.append(RemovedLine(line=last.line, text=marker.group().strip(), reason="end-marker"))
        last.text = last.text[:len(last.text) - len(marker.group())]
    last_line = content[-1].line if content else 0
    for unit in units:
        if unit.reason == "separator" and unit.line > last_line:
            unit.reason = "end-marker"
    published = next((date_line(unit.text) for unit in units if unit.reason == "publication-date"), None)
    removed = [RemovedLine(line=unit.line, text=unit.text, reason=unit.reason)
               for unit in units if unit.reason not in (None, "title", "dateline")]
    removed = sorted(removed + extra, key=lambda item: item.line)
    return title, dateline, published, [unit.text for unit in content], removed


def _mark_trailing_lists(units: list[Unit]) -> None:
    """Headlines listed under a trailing "You May Also Like" or comment header are links, not article text.
    Only the tail of the article counts: after the header there must be no sentence-like paragraph."""
    start = None
    for index in range(len(units) - 1, -1, -1):
        if units[index].reason in _LIST_HEADERS:
            start = index
        elif units[index].reason is None and not _looks_like_headline(units[index].text):
            break
    header = None
    for unit in units[start:] if start is not None else []:
        if unit.reason in _LIST_HEADERS:
            header = unit.reason
        elif unit.reason is None:
            unit.reason = header


