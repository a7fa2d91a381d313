"""The data every stage passes on, as pydantic models. The JSONL output and the cache use these same shapes.

Field names are a public contract: downstream tools parse them. Add fields, never rename them; bump
SCHEMA_VERSION when the meaning of a field changes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- ingest / segment


class RemovedLine(_Strict):
    """A line dropped as boilerplate. Kept so that nothing is lost silently."""

    line: int = Field(description="1-based line number in the decoded input")
    text: str
    reason: str = Field(description="machine-readable reason, e.g. 'repeated-headline', 'cross-link'")


class Dateline(_Strict):
    place: str | None = None
    outlet: str | None = None
    text: str = Field(description="the dateline as it appears in the source, e.g. 'Moskow (ANTARA) –'")


class Issue(_Strict):
    """A warning about one article, optionally pinned to a sentence id."""

    code: str = Field(description="machine-readable, e.g. 'number-missing', 'untranslated-word'")
    message: str
    sentence: str | None = None
    stage: str | None = None


class Article(_Strict):
    """What ingest produces: cleaned text plus what was removed and what was detected."""

    source: str = Field(description="path of the input, or '-' for stdin")
    text_hash: str = Field(description="SHA-256 hex of the normalised full text (before boilerplate removal)")
    title: str | None = None
    dateline: Dateline | None = None
    published: str | None = Field(default=None, description="ISO date stated in the text")
    paragraphs: list[str] = Field(description="cleaned body paragraphs, dateline prefix removed")
    removed: list[RemovedLine] = []
    warnings: list[Issue] = []


class Sentence(_Strict):
    id: str = Field(description="stable id 'p<paragraph>.s<sentence>', both 1-based")
    text: str = Field(description="cleaned Indonesian sentence")
    en: str | None = Field(default=None, description="English translation")


class Segmented(_Strict):
    """What segment produces: sentence ids grouped by paragraph."""

    paragraphs: list[list[str]]
    sentences: list[Sentence]


# --------------------------------------------------------------------------- summary


class Fact(_Strict):
    """Anything in a summary that an analyst may want to check against the source."""

    sources: list[str] = Field(default=[], description="ids of the source sentences this comes from")
    origin: Literal["llm", "rules"] = "llm"
    issues: list[str] = Field(default=[], description="check failures kept under --lenient")


class KeyPoint(Fact):
    text: str


class Person(Fact):
    name: str
    role: str | None = None
    affiliation: str | None = None


class Organization(Fact):
    name: str


class Location(Fact):
    name: str


class DateFact(Fact):
    text: str = Field(description="the date as written in the English translation")
    iso: str | None = Field(default=None, description="YYYY-MM-DD (or YYYY-MM / YYYY) when resolvable")
    what: str | None = None


class NumberFact(Fact):
    value: float
    unit: str | None = None
    what: str | None = None


class Quote(Fact):
    speaker: str | None = None
    text_en: str
    text_id: str = Field(description="the quoted span in the Indonesian source")


class Publication(_Strict):
    outlet: str | None = None
    dateline: str | None = None
    date: str | None = None


class Grounding(_Strict):
    """What the post-generation checks found."""

    mode: Literal["strict", "lenient"]
    checked: int = 0
    unsupported: int = 0
    dropped: list[dict] = Field(default=[], description="items removed under --strict, with the reason")
    rewritten: list[dict] = Field(default=[], description="headline/one_line/summary replaced because they "
                                  "stated what the article does not, with the original text and the reason")


class Summary(_Strict):
    headline: str
    one_line: str = Field(description="at most 30 words")
    summary: str = Field(description="at most 120 words")
    key_points: list[KeyPoint] = Field(default=[], max_length=7)
    people: list[Person] = []
    organizations: list[Organization] = []
    locations: list[Location] = []
    dates: list[DateFact] = []
    numbers: list[NumberFact] = []
    quotes: list[Quote] = []
    topics: list[str] = []
    publication: Publication = Publication()
    grounding: Grounding | None = None


# --------------------------------------------------------------------------- output record


class Translation(_Strict):
    title: str | None = None
    text: str = Field(description="English text, paragraphs separated by a blank line")


class ErrorInfo(_Strict):
    type: str
    message: str


class Record(_Strict):
    """One line of JSONL output: everything known about one input article."""

    schema_version: str = SCHEMA_VERSION
    id: str | None = Field(description="hash of the normalised text; null when the input could not be read")
    source: str = Field(description="path of the input ('-' for stdin), as printable text")
    source_b64: str | None = Field(default=None, description="base64 of the path's raw bytes; only set when "
                                   "`source` is not the exact name (bytes that are not UTF-8, control characters)")
    title: str | None = None
    dateline: Dateline | None = None
    published: str | None = None
    paragraphs: list[list[str]] = []
    sentences: list[Sentence] = []
    removed: list[RemovedLine] = []
    translation: Translation | None = None
    summary: Summary | None = None
    warnings: list[Issue] = []
    error: ErrorInfo | None = None
    models: dict[str, str] = {}
    timings: dict[str, float] = Field(default={}, description="seconds per stage")
    cache: dict[str, str] = Field(default={}, description="per stage: 'hit', 'miss', or 'partial' (some sentences were cached)")
