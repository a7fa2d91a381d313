"""The translation engine: batching, order, splitting, degenerate-output guard, sentence cache.

A scripted Translator double makes the engine's decisions observable here; the same engine runs on real
tiny Marian/NLLB/Qwen2 models in test_models.py and test_cli.py.
"""

from __future__ import annotations

from typing import Sequence

import pytest

from summarizer.cache import ResultCache
from summarizer.models.base import DecodeOptions, ResolvedModel, Translator
from summarizer.translate import (
    TranslationEngine,
    degeneracy,
    length_bucket,
    new_token_bound,
    split_long,
    translate_segments,
)


class ScriptedTranslator(Translator):
    """Translates by a rule, records every batch it was given."""

    resolved = ResolvedModel(spec="fake", kind="local", architecture="seq2seq", location="/fake", fingerprint="fake")

    def __init__(self, rule=lambda text, options: f"EN({text})", max_input_tokens: int = 512):
        self.rule = rule
        self.max_input_tokens = max_input_tokens
        self.batches: list[tuple[list[str], DecodeOptions]] = []

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    def translate(self, texts, options, contexts=None):
        self.batches.append((list(texts), options))
        return [self.rule(t, options) for t in texts]


def count_words(texts):
    return [len(t.split()) for t in texts]


def test_order_is_restored_after_length_sorting():
    fake = ScriptedTranslator()
    texts = ["satu", "dua tiga empat lima enam", "tujuh delapan", "sembilan sepuluh sebelas"]
    results = TranslationEngine(fake, batch_tokens=10_000).translate(texts)
    assert [r.en for r in results] == [f"EN({t})" for t in texts]
    # one batch, longest first
    assert fake.batches[0][0][0] == "dua tiga empat lima enam"


def test_batches_respect_the_token_budget():
    fake = ScriptedTranslator()
    texts = [" ".join(f"kata{i}{j}" for j in range(10)) for i in range(12)]
    TranslationEngine(fake, batch_tokens=200).translate(texts)
    # each row costs (10 source + 2*10+16 new) = 46 tokens -> 4 rows per 200-token batch
    first_pass = [(b, options) for b, options in fake.batches if options.num_beams == 1]  # not the repairs
    assert [len(b) for b, _ in first_pass] == [4, 4, 4]
    assert all(options.max_new_tokens == 36 for _, options in first_pass)


def test_generation_bound_scales_with_input_and_never_depends_on_the_batch():
    fake = ScriptedTranslator()
    TranslationEngine(fake).translate(["a b c"])
    assert fake.batches[0][1].max_new_tokens == new_token_bound(3) == 8 * 2 + 16  # 3 tokens: bucket <= 8
    long = " ".join(["kata"] * 50)
    fake = ScriptedTranslator()
    TranslationEngine(fake).translate(["a b c", long, "d e f g"])
    bounds = {text: options.max_new_tokens for texts, options in fake.batches for text in texts}
    assert bounds == {"a b c": new_token_bound(3), "d e f g": new_token_bound(4), long: new_token_bound(50)}
    assert all(len({length_bucket(len(t.split())) for t in texts}) == 1 for texts, _ in fake.batches)
    assert 2 * 50 + 16 <= new_token_bound(50) <= 2.4 * 50 + 16


def test_long_segments_are_split_never_truncated():
    sentence = ", ".join(f"bagian nomor {i} dari kalimat panjang" for i in range(60))
    pieces = split_long(sentence, count_words, 40)
    assert len(pieces) > 1
    assert all(len(p.split()) <= 40 for p in pieces)
    assert " ".join(pieces) == sentence


def test_split_without_any_space_still_loses_nothing():
    blob = "x" * 5000
    pieces = split_long(blob, lambda texts: [len(t) // 100 for t in texts], 10)
    assert "".join(pieces) == blob
    assert all(len(p) // 100 <= 10 for p in pieces)


def test_engine_joins_split_pieces_and_flags_them():
    fake = ScriptedTranslator(rule=lambda text, options: text.upper(), max_input_tokens=20)
    sentence = ", ".join(f"bagian {i} kalimat" for i in range(30))
    [result] = TranslationEngine(fake).translate([sentence])
    assert result.en == sentence.upper()
    assert any(flag.startswith("split:") for flag in result.flags)


TURKEY_CALL = ("Keputusan itu diumumkan setelah Trump berbicara lewat telepon dengan Presiden Turki, Recep Tayyip "
               "Erdoğan, pada Minggu malam.")


@pytest.mark.parametrize(
    "source, output, reason",
    [
        ("NATO mengirim pasukan ke Ukraina.", "", "empty"),
        ("NATO mengirim pasukan ke Ukraina.", "  ", "empty"),
        ("NATO mengirim pasukan ke Ukraina.", "NATO mengirim pasukan ke Ukraina.", "echo"),
        ("Pasukan dikirim.", "the the the the the the the the", "loop"),
        ("Pasukan dikirim.", "troops were sent and sent and sent and sent and sent", "loop"),
        ("Ya.", "Yes, and this is a very long invented continuation that goes on far beyond the source text.", "too-long"),
        ("NATO bersiap.", "The English translation is: NATO is preparing.", "commentary"),
        ("NATO bersiap.", "NATO is preparing. This translation keeps the original meaning.", "commentary"),
        (TURKEY_CALL, "Trump, Turk, Recep, Tayyip, Erdoğan", "fragment"),  # the hint's names, echoed
    ],
)
def test_degeneracy_detects_bad_output(source, output, reason):
    assert degeneracy(source, output) == reason


@pytest.mark.parametrize(
    "source, output",
    [
        ("NATO mengirim pasukan ke Ukraina.", "NATO sent troops to Ukraine."),
        ("Jens Stoltenberg.", "Jens Stoltenberg."),  # names only: identical output is correct
        ("Harga naik 5%, 5%, 5%.", "Prices rose 5%, 5%, 5%."),
        ("Buku itu diterjemahkan ke bahasa Inggris.", "The book was translated into English."),
    ],
)
def test_degeneracy_accepts_good_output(source, output):
    assert degeneracy(source, output) is None


def test_degenerate_output_is_retried_with_repetition_guards():
    def rule(text, options):
        return "loop loop loop loop loop loop loop loop" if options.no_repeat_ngram_size == 0 else "A fine sentence."

    fake = ScriptedTranslator(rule=rule)
    [result] = TranslationEngine(fake).translate(["Kalimat yang baik sekali."])
    assert result.en == "A fine sentence."
    assert result.flags == []
    assert fake.batches[1][1].no_repeat_ngram_size == 3 and fake.batches[1][1].repetition_penalty > 1


def test_still_degenerate_after_retry_is_flagged():
    fake = ScriptedTranslator(rule=lambda text, options: "")
    [result] = TranslationEngine(fake).translate(["Kalimat yang baik sekali."])
    assert result.flags == ["degenerate:empty"]
    assert len(fake.batches) == 3 and fake.batches[2][1].num_beams > 1  # guards, then one repair by beam search


def test_sentence_cache_only_sends_misses_to_the_model(tmp_path):
    cache = ResultCache(tmp_path / "c")
    fake = ScriptedTranslator()
    loads = []

    def engine():
        loads.append(1)
        return TranslationEngine(fake)

    first = translate_segments(["satu", "dua"], contexts=None, engine=engine, model_key=["m"], cache=cache)
    second = translate_segments(["dua", "tiga"], contexts=None, engine=engine, model_key=["m"], cache=cache)
    assert [r.en for r in first] == ["EN(satu)", "EN(dua)"]
    assert [r.en for r in second] == ["EN(dua)", "EN(tiga)"]
    assert [b for b, options in fake.batches if options.num_beams == 1] == [["satu", "dua"], ["tiga"]]

    loads.clear()
    again = translate_segments(["satu", "tiga"], contexts=None, engine=engine, model_key=["m"], cache=cache)
    assert [r.en for r in again] == ["EN(satu)", "EN(tiga)"]
    assert loads == []  # fully cached: the model is never even constructed
    other_model = translate_segments(["satu"], contexts=None, engine=engine, model_key=["other"], cache=cache)
    assert loads == [1] and other_model[0].en == "EN(satu)"
    cache.close()


# --------------------------------------------------------------------------- check-driven repair


class HintedTranslator(ScriptedTranslator):
    """An LLM-like double: drops the number unless the engine's retry hints at it."""

    supports_hints = True

    def __init__(self):
        super().__init__()
        self.hints: list[list[str | None]] = []

    def translate(self, texts, options, contexts=None, hints=None):
        self.batches.append((list(texts), options))
        self.hints.append(list(hints) if hints else [])
        return ["NATO will send 40,000 troops to Ukraine next month." if hints else
                "NATO will send troops to Ukraine in the first quarter." for _ in texts]


def test_a_faulted_sentence_is_retried_with_a_hint_and_the_better_candidate_kept():
    fake = HintedTranslator()
    [result] = TranslationEngine(fake).translate(["NATO akan mengirim 40.000 tentara ke Ukraina bulan depan."])
    assert result.en == "NATO will send 40,000 troops to Ukraine next month."
    assert result.flags == ["repaired:number-missing,time-missing"]
    assert fake.hints[1] == ["the numbers 40,000; the names NATO, Ukraine; the time words 'next month'"]


def test_a_retry_that_echoes_the_hint_is_not_kept():
    """The 0.5B GGUF answered a hint with its list of names: fewer failed checks, but no translation."""

    class EchoingHints(HintedTranslator):
        def translate(self, texts, options, contexts=None, hints=None):
            self.batches.append((list(texts), options))
            return ["Trump, Turkey, Recep Tayyip Erdoğan" if hints else
                    "The announcement came after Trump called the president." for _ in texts]

    fake = EchoingHints()
    [result] = TranslationEngine(fake).translate([TURKEY_CALL])
    assert result.en == "The announcement came after Trump called the president." and result.flags == []
    assert len(fake.batches) == 2  # retried (names were missing), and the retry lost


def test_a_retry_that_is_no_better_is_not_kept():
    fake = ScriptedTranslator(rule=lambda text, options: "NATO will send troops." if options.num_beams == 1
                              else "NATO akan mengirim tentara.")
    [result] = TranslationEngine(fake).translate(["NATO akan mengirim 40.000 tentara."])
    assert result.en == "NATO will send troops." and result.flags == []
    assert [o.num_beams for _, o in fake.batches] == [1, 4]  # seq2seq: beam search is the second opinion


def test_clean_sentences_are_not_retried():
    fake = ScriptedTranslator(rule=lambda text, options: "NATO will send 40,000 troops.")
    TranslationEngine(fake).translate(["NATO akan mengirim 40.000 tentara."])
    assert len(fake.batches) == 1


def test_every_output_is_one_line():
    fake = ScriptedTranslator(rule=lambda text, options: "NATO will send\n\n40,000 troops.\n")
    [result] = TranslationEngine(fake).translate(["NATO akan mengirim 40.000 tentara."])
    assert result.en == "NATO will send 40,000 troops."


def test_forced_lengths_reach_every_batch_and_nothing_judges_the_outputs():
    """forced_new_tokens (benchmarks): min = max = N in every batch, in the batches the engine forms anyway;
    degenerate or faulty outputs are neither retried nor repaired (test_models.py runs it on real models)."""
    texts = [" ".join(f"kata{i}{j}" for j in range(10)) for i in range(12)] + ["NATO akan mengirim 40.000 tentara."]
    shipped, forced = ScriptedTranslator(rule=lambda text, options: ""), ScriptedTranslator(rule=lambda text, options: "")
    TranslationEngine(shipped, batch_tokens=200).translate(texts)
    results = TranslationEngine(forced, batch_tokens=200, forced_new_tokens=7).translate(texts)
    assert all(o.max_new_tokens == o.min_new_tokens == 7 for _, o in forced.batches)
    sizes = [len(batch) for batch, _ in forced.batches]
    assert sizes == [len(batch) for batch, _ in shipped.batches][:len(sizes)]  # the shipped engine's batches
    assert len(shipped.batches) > len(forced.batches)  # the shipped engine retried the empty outputs
    assert all(result.flags == [] for result in results)


def test_a_retry_that_restates_the_hint_is_not_kept():
    """Seen with the 0.5B GGUF on a seed article: the retry answered "The names Ukraine, NATO, ...; the time
    words ...", which holds every name the checks want, and replaced a real (if short) translation."""

    class RestatingHints(HintedTranslator):
        def translate(self, texts, options, contexts=None, hints=None):
            self.batches.append((list(texts), options))
            return [f"{hints[0][0].upper()}{hints[0][1:]}." if hints else
                    "NATO will send troops to Ukraine next month." for _ in texts]

    fake = RestatingHints()
    [result] = TranslationEngine(fake).translate(["NATO akan mengirim 40.000 tentara ke Ukraina bulan depan."])
    assert result.en == "NATO will send troops to Ukraine next month." and result.flags == []
    assert len(fake.batches) == 2  # retried (the number was missing), and the restated hint lost
