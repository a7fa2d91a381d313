"""Translate stage: every sentence of an article into English, fast and without silent damage.

The backend (models/) only turns one batch into text. This engine owns what makes that safe and fast:
- over-long segments are split at clause boundaries, never truncated;
- segments are sorted by length and packed into batches under a token budget (padding waste stays low,
  and batching measured ~8x the one-at-a-time rate on 2 CPU cores), then put back in order;
- generation length is bounded relative to the input, per segment and never per batch: a segment's bound
  depends only on its own length bucket, and batches never mix buckets, so a sentence translates the same
  alone, in any batch, and in the cache (a cached sentence can be reused by any later article);
- degenerate output (empty, an echo of the source, loops, runaway length) is retried once with repetition
  guards, and flagged if it is still bad;
- every output is one line, so a sentence can never break the paragraph structure of the article;
- a sentence the fidelity checks fault (a number dropped or changed, a name missing, an untranslated word,
  a length outlier, a time word lost) is translated once more, with a hint listing what to keep for an LLM
  or with beam search for a seq2seq model, and the candidate with fewer problems is kept ("repaired:...");
  an LLM translation that still loses a number gets one last candidate, decoded under a grammar that
  allows digits only in the source's numbers as English writes them (a wrong magnitude is corrected);
- every sentence result is cached, so only cache misses ever reach (or load) a model.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from typing import Callable, Sequence

from summarizer import fidelity
from summarizer.cache import ResultCache, cache_key
from summarizer.dates import dates_in_indonesian
from summarizer.models.base import DecodeOptions, Translator

# Bump when the engine's policy (splitting, bounds, retries) changes: cached sentences then stop matching.
# 2: the output bound comes from the segment's own length bucket, not from the longest segment of its batch.
# 3: outputs are one line; sentences the fidelity checks fault are retried once (check-driven repair).
# 4: both of the above.
# 5: a fragment (far shorter than the source, e.g. the retry's hint list echoed back) is degenerate, and a
#    degenerate candidate never replaces a usable one.
# 6: an LLM translation that still loses a number after its retry gets a try constrained to the right digits.
ENGINE_VERSION = "6"

# Segments longer than this are split at clause boundaries. MarianMT's hard limit is 512 tokens, but
# quality of sentence-level MT models falls off on very long inputs; 200 tokens (~130 Indonesian words)
# only splits run-on sentences, which real news does have (and a 5 MB "paragraph" certainly does).
MAX_SEGMENT_TOKENS = 200
# Output bound: English is rarely more than ~1.5x the Indonesian token count; 2x + 16 leaves headroom for
# short segments while still stopping a loop early. The x is the upper end of the segment's length bucket
# (buckets grow by 2^(1/4), about 19%), so the bound is 2-2.4x the segment's own length + 16: for the longest
# segment (200 tokens) 446, inside Marian's 512 positions.
NEW_TOKENS_FACTOR = 2.0
NEW_TOKENS_SLACK = 16
_BUCKET_BOUNDS = tuple(sorted({round(8 * 2 ** (step / 4)) for step in range(40)}))  # 8, 10, 11, 13, ... 7752
# Retry settings for degenerate output: block exact 3-gram repeats and damp repetition.
SAFER_OPTIONS = {"no_repeat_ngram_size": 3, "repetition_penalty": 1.3}
# A seq2seq model has no prompt to hint with; beam search is its second opinion.
REPAIR_BEAMS = 4
# An output this much shorter than a source of at least FRAGMENT_MIN_CHARS is a fragment, not a translation:
# the 0.5B GGUF answered a hinted retry with the hint's list of names ("Trump, Turk, Recep, Tayyip, Erdoğan"),
# which has fewer check failures than a full sentence (candidates are ranked degenerate-last, see _rank).
# Human English is at least 0.547x the Indonesian length on FLORES-200 devtest (fidelity.LENGTH_RATIO_BAND), so
# 0.35 never hits a real translation.
FRAGMENT_RATIO = 0.35
FRAGMENT_MIN_CHARS = 60
# A number retry (`_force_numbers`) longer than this times the output it would replace has tacked the
# number on (the 0.5B GGUF appended "The company will pay £11 million." to a sentence that had dropped it).
NUMBER_RETRY_GROWTH = 1.15

# Instruction LLMs sometimes talk about the task instead of (or besides) doing it: "The English
# translation is: ...", "This translation maintains the original meaning...". Such words in the output,
# when the source says nothing about translating, mark commentary.
_COMMENTARY = re.compile(r"\b(translation|translated|translate|original (?:indonesian )?text|indonesian text)\b", re.I)
_SOURCE_ABOUT_TRANSLATION = re.compile(r"terjemah|translat", re.I)

_CLAUSE_BREAKS = re.compile(
    r"(?<=[;:])\s+|(?<=,)\s+|\s+(?=(?:dan|tetapi|namun|sedangkan|sehingga|karena|yang|serta|atau|meski)\b)"
)


@dataclass
class SegmentResult:
    en: str
    flags: list[str] = field(default_factory=list)  # e.g. "degenerate:loop", "split:3"


def degeneracy(source: str, output: str) -> str | None:
    """Why `output` is not a usable translation of `source`, or None when it looks sane."""
    text = output.strip()
    if not text:
        return "empty"
    if _word_key(text) == _word_key(source) and len(re.findall(r"[a-z]{3,}", source)) >= 3:
        return "echo"
    words = text.lower().split()
    if len(words) >= 8 and _has_loop(words):
        return "loop"
    # Natural English compresses to ~40-60% with zlib; a text repeating itself compresses far better.
    if len(text) >= 80 and len(zlib.compress(text.encode())) / len(text.encode()) < 0.2:
        return "loop"
    if len(text) > 3 * len(source) + 40:
        return "too-long"
    if len(source) >= FRAGMENT_MIN_CHARS and len(text) < FRAGMENT_RATIO * len(source):
        return "fragment"
    if has_commentary(source, text):
        return "commentary"
    return None


def has_commentary(source: str, output: str) -> bool:
    """Does the output talk about translating while the source does not?"""
    return bool(_COMMENTARY.search(output)) and not _SOURCE_ABOUT_TRANSLATION.search(source)


def _word_key(text: str) -> str:
    """The words of `text`, case and punctuation ignored: what an echo of the source shares with it."""
    return re.sub(r"\W+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _has_loop(words: list[str]) -> bool:
    """An n-gram (n <= 4) repeated 4+ times back to back: the classic greedy-decoding failure."""
    for n in range(1, 5):
        for phase in range(n):
            run = 1
            for i in range(phase + n, len(words) - n + 1, n):
                run = run + 1 if words[i:i + n] == words[i - n:i] else 1
                if run >= 4:
                    return True
    return False


def _problems(source: str, output: str, reason: str | None) -> list[str]:
    """What is wrong with one output: the repairable fidelity-check codes, and its degeneracy if any."""
    return fidelity.repairable_issues(source, output) + ([f"degenerate-{reason}"] if reason else [])


def _rank(problems: list[str]) -> tuple[bool, int]:
    """Lower is better: any usable translation beats a degenerate one (empty, echo, loop, commentary, a
    fragment), however many checks it fails; then fewer problems win."""
    return any(p.startswith("degenerate-") for p in problems), len(problems)


def _restates_hint(text: str, hint: str | None) -> str | None:
    """The degeneracy "hint-echo" when a retry answers with the hint itself ("The names Ukraine, NATO, ...;
    the time words ..."): it then holds every name and number the checks look for, and would win without
    translating. A hint is fidelity.repair_hint's "; "-joined parts, each a label and its items."""
    lowered = text.lower()
    leads = [part.split(",")[0].strip().lower() for part in (hint or "").split("; ")]
    return "hint-echo" if any(lead and lead in lowered for lead in leads) else None


def split_long(text: str, count_tokens: Callable[[Sequence[str]], list[int]], limit: int) -> list[str]:
    """Split `text` into pieces of at most `limit` tokens, at the clause boundary nearest the middle
    (falling back to the space nearest the middle). Joining the pieces with spaces restores the text."""
    if count_tokens([text])[0] <= limit:
        return [text]
    cuts = [m.start() for m in _CLAUSE_BREAKS.finditer(text)] or [m.start() for m in re.finditer(r"\s+", text)]
    if not cuts:  # one enormous token run: cut by characters, the only lossless option left
        middle = len(text) // 2
        return split_long(text[:middle], count_tokens, limit) + split_long(text[middle:], count_tokens, limit)
    middle = len(text) / 2
    cut = min(cuts, key=lambda position: abs(position - middle))
    left, right = text[:cut].rstrip(), text[cut:].lstrip()
    if not left or not right:
        cut = min((m.start() for m in re.finditer(r"\s+", text)), key=lambda p: abs(p - middle), default=len(text) // 2)
        left, right = text[:cut].rstrip(), text[cut:].lstrip()
    return split_long(left, count_tokens, limit) + split_long(right, count_tokens, limit)


class TranslationEngine:
    """Batched, guarded translation of independent segments through one Translator backend."""

    def __init__(self, translator: Translator, *, beams: int = 1, batch_tokens: int = 2048,
                 forced_new_tokens: int | None = None):
        """`forced_new_tokens` is for benchmarks: every segment decodes exactly that many tokens, in the
        batches the engine would form anyway, so configurations do the same work. The outputs then run past
        their natural end and are not translations, so nothing that judges them runs (the degenerate-output
        retry, the check-driven repair): decoding alone is measured."""
        self.translator = translator
        self.beams = beams
        self.batch_tokens = batch_tokens
        self.forced_new_tokens = forced_new_tokens
        self.degeneracy = (lambda source, output: None) if forced_new_tokens else degeneracy
        self.segment_limit = min(MAX_SEGMENT_TOKENS, max(8, translator.max_input_tokens - 2))

    def translate(self, texts: Sequence[str], contexts: Sequence[str | None] | None = None) -> list[SegmentResult]:
        """Translate each text; results come back in input order, one per text."""
        pieces: list[tuple[int, str]] = []  # (owner index, piece text)
        for index, text in enumerate(texts):
            for piece in split_long(text, self.translator.token_counts, self.segment_limit):
                pieces.append((index, piece))
        piece_contexts = [contexts[i] if contexts else None for i, _ in pieces]
        outputs = self._generate([p for _, p in pieces], piece_contexts, DecodeOptions(num_beams=self.beams))

        reasons = {k: reason for k, (_, source) in enumerate(pieces) if (reason := self.degeneracy(source, outputs[k]))}
        retry = list(reasons)
        if retry:
            safer = DecodeOptions(num_beams=self.beams, **SAFER_OPTIONS)
            second = self._generate([pieces[k][1] for k in retry], [piece_contexts[k] for k in retry], safer)
            for k, text in zip(retry, second):
                if self.degeneracy(pieces[k][1], text) is None or not outputs[k].strip():
                    outputs[k] = text
                reasons[k] = self.degeneracy(pieces[k][1], outputs[k])

        outputs = [" ".join(text.split()) for text in outputs]
        sources = [p for _, p in pieces]
        repaired = {} if self.forced_new_tokens else self._repair(sources, piece_contexts, outputs, reasons)

        results = [SegmentResult(en="") for _ in texts]
        counts = [0] * len(texts)
        for k, (index, _) in enumerate(pieces):
            joined = f"{results[index].en} {outputs[k]}".strip()
            results[index].en = joined
            counts[index] += 1
            if reasons.get(k):
                results[index].flags.append(f"degenerate:{reasons[k]}")
            if k in repaired:
                results[index].flags.append(f"repaired:{','.join(repaired[k])}")
        for index, count in enumerate(counts):
            if count > 1:
                results[index].flags.append(f"split:{count}")
        return results

    def _repair(self, sources: list[str], contexts: list[str | None], outputs: list[str],
                reasons: dict[int, str | None]) -> dict[int, list[str]]:
        """Translate once more every segment the fidelity checks fault; keep the candidate with fewer
        problems; then `_force_numbers`. Updates `outputs`/`reasons` in place; returns, per repaired
        segment, the codes it fixed."""
        problems = {k: _problems(source, outputs[k], reasons.get(k)) for k, source in enumerate(sources)}
        todo = [k for k, found in problems.items() if found]
        if not todo:
            return {}
        first = dict(problems)
        if getattr(self.translator, "supports_hints", False):
            options, hints = DecodeOptions(num_beams=self.beams), [fidelity.repair_hint(sources[k]) for k in todo]
        else:
            options, hints = DecodeOptions(num_beams=max(REPAIR_BEAMS, self.beams)), None
        candidates = self._generate([sources[k] for k in todo], [contexts[k] for k in todo], options, hints)
        self._keep_better(todo, candidates, hints, sources, outputs, reasons, problems)
        if getattr(self.translator, "supports_required", False):
            self._force_numbers(todo, sources, contexts, outputs, reasons, problems)
        return {k: sorted(set(first[k]) - set(found)) or sorted(set(first[k]))
                for k, found in problems.items() if found != first[k]}

    def _force_numbers(self, todo: list[int], sources: list[str], contexts: list[str | None], outputs: list[str],
                       reasons: dict[int, str | None], problems: dict[int, list[str]]) -> None:
        """One more try for each segment that still loses a number, under a grammar that allows digits only
        inside the source's numbers as English writes them (`fidelity.kept_numbers`): "£11juta" that came
        out "£11 billion" is made "£11 million". A model that left a number out can only be made to add it
        somewhere, typically tacked on at the end; such a candidate (longer than NUMBER_RETRY_GROWTH times
        the current output) is never kept, nor one that fails more checks. Sentences with a dated date are
        left alone: its day and year are digits the grammar would forbid."""
        required = {k: fidelity.kept_numbers(sources[k]) for k in todo if fidelity.NUMBER_LOSS & set(problems[k])}
        todo = [k for k, numbers in required.items()
                if numbers and not any(d.day or d.year for d in dates_in_indonesian(sources[k]))]
        candidates = self._generate([sources[k] for k in todo], [contexts[k] for k in todo],
                                    DecodeOptions(num_beams=self.beams), None, [required[k] for k in todo])
        in_place = [(k, text) for k, text in zip(todo, candidates)
                    if len(text) <= NUMBER_RETRY_GROWTH * len(outputs[k])]
        self._keep_better([k for k, _ in in_place], [text for _, text in in_place], None, sources, outputs, reasons,
                          problems)

    def _keep_better(self, todo: list[int], candidates: list[str], hints: list[str | None] | None,
                     sources: list[str], outputs: list[str], reasons: dict[int, str | None],
                     problems: dict[int, list[str]]) -> None:
        """Take each candidate whose problems rank better than the current output's."""
        for n, (k, text) in enumerate(zip(todo, candidates)):
            text = " ".join(text.split())
            reason = self.degeneracy(sources[k], text) or _restates_hint(text, hints[n] if hints else None)
            found = _problems(sources[k], text, reason)
            if _rank(found) < _rank(problems[k]):
                outputs[k], reasons[k], problems[k] = text, reason, found

    def _generate(self, texts: list[str], contexts: list[str | None], options: DecodeOptions,
                  hints: list[str | None] | None = None, required: list[list[str]] | None = None) -> list[str]:
        """Length-sorted batches of one length bucket each, under the token budget; output in input order."""
        if not texts:
            return []
        lengths = self.translator.token_counts(texts)
        order = sorted(range(len(texts)), key=lambda i: lengths[i], reverse=True)
        outputs: list[str] = [""] * len(texts)
        start = 0
        while start < len(order):
            bucket = length_bucket(lengths[order[start]])
            new_tokens = new_token_bound(lengths[order[start]])
            # Padded cost of a batch: every row is as long as its bucket plus its output bound.
            per_row = (bucket + new_tokens) * max(1, options.num_beams)
            size = max(1, self.batch_tokens // per_row)
            batch = order[start:start + size]
            batch = [i for i in batch if length_bucket(lengths[i]) == bucket]
            batch_options = DecodeOptions(
                num_beams=options.num_beams,
                max_new_tokens=self.forced_new_tokens or new_tokens,
                no_repeat_ngram_size=options.no_repeat_ngram_size,
                repetition_penalty=options.repetition_penalty,
                min_new_tokens=self.forced_new_tokens or 0,
            )
            use_context = any(contexts[i] for i in batch)
            extra = {"hints": [hints[i] for i in batch]} if hints else {}
            if required:
                extra["required"] = [required[i] for i in batch]
            results = self.translator.translate(
                [texts[i] for i in batch], batch_options, [contexts[i] for i in batch] if use_context else None,
                **extra,
            )
            for i, text in zip(batch, results):
                outputs[i] = text
            start += len(batch)
        return outputs


def length_bucket(tokens: int) -> int:
    """The upper end of the length bucket `tokens` falls in (its own length past the last bucket)."""
    return next((bound for bound in _BUCKET_BOUNDS if tokens <= bound), tokens)


def new_token_bound(tokens: int) -> int:
    """Generation bound of a segment of `tokens` source tokens: a function of the segment alone."""
    return int(length_bucket(tokens) * NEW_TOKENS_FACTOR) + NEW_TOKENS_SLACK


def valid_result(value: object) -> bool:
    """Whether a cached value has the shape of a `SegmentResult` (anything else is treated as a miss)."""
    return (isinstance(value, dict) and isinstance(value.get("en"), str) and isinstance(value.get("flags"), list)
            and all(isinstance(flag, str) for flag in value["flags"]) and set(value) == {"en", "flags"})


def translate_segments(
    texts: Sequence[str],
    *,
    contexts: Sequence[str | None] | None,
    engine: Callable[[], TranslationEngine],
    model_key: Sequence[object],
    cache: ResultCache,
) -> list[SegmentResult]:
    """Translate through the sentence cache: only misses reach `engine()`, which loads the model lazily."""
    keys = [
        cache_key("sentence", ENGINE_VERSION, list(model_key), text, contexts[i] if contexts else None)
        for i, text in enumerate(texts)
    ]
    results: list[SegmentResult | None] = []
    for key in keys:
        cached = cache.get(key, valid=valid_result)
        results.append(SegmentResult(**cached) if cached else None)
    missing = [i for i, result in enumerate(results) if result is None]
    if missing:
        fresh = engine().translate([texts[i] for i in missing], [contexts[i] for i in missing] if contexts else None)
        for i, result in zip(missing, fresh):
            results[i] = result
            cache.set(keys[i], {"en": result.en, "flags": result.flags})
    return results  # type: ignore[return-value]
