"""Property tests on random Unicode: the segmenter never loses or adds a character, number and date reading
never raises and points at real spans, and a fuzz loop over ingest lets nothing but InputError escape."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from summarizer.errors import InputError
from summarizer.ingest import ingest
from summarizer.sources import InputDocument
from summarizer.dates import dates_in_english, dates_in_indonesian
from summarizer.numbers import numbers_in_english, numbers_in_indonesian
from summarizer.segment import split_sentences

# Text that exercises the rules: sentence ends, quotes, abbreviations, digits and separators, mixed with any
# Unicode (including surrogates' neighbours, RTL, combining marks and control characters).
_PIECES = st.sampled_from(["Jend.", "dll.", "S.H.", "40.000", "11.30", "1,5", "juta", "ribu", "Rp", "%", "“", "”",
                           "...", "…", "?!", ". ", ".” Kata", "(12/5/2025)", "ke-21", "dua puluh", "\n", "  ",
                           "\u200b", "\u202e", "\u0301", "🙂", "٣", "١٢"])
TEXT = st.lists(st.one_of(st.text(max_size=12), _PIECES), max_size=40).map("".join)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(TEXT)
def test_sentences_reassemble_the_paragraph(paragraph):
    sentences = split_sentences(paragraph)
    assert " ".join(sentences) == " ".join(paragraph.split())
    assert all(sentence and sentence == sentence.strip() for sentence in sentences)


@FAST
@given(TEXT)
def test_number_readings_point_at_real_spans(text):
    for read in (numbers_in_indonesian, numbers_in_english):
        for mention in read(text):
            assert 0 <= mention.start < mention.end <= len(text)
            assert mention.text == text[mention.start:mention.end]
            assert math.isfinite(mention.value)


@FAST
@given(TEXT, st.sampled_from([None, "2025-05-12", "1999-12-31", "not a date"]))
def test_date_readings_never_raise(text, published):
    for read in (dates_in_indonesian, dates_in_english):
        for mention in read(text, published):
            assert mention.iso is None or mention.iso[:4].isdigit()


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """A random byte-level edit: flip, insert, delete, duplicate a span, or splice in a hostile snippet."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        choice = rng.randrange(5)
        position = rng.randrange(len(data) + 1)
        if choice == 0 and data:
            data[min(position, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif choice == 1:
            data[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
        elif choice == 2:
            del data[position:position + rng.randint(1, 20)]
        elif choice == 3:
            data[position:position] = data[position:position + rng.randint(1, 200)] * rng.randint(1, 5)
        else:
            data[position:position] = rng.choice(
                [b"<html><body><p>", b"</p><script>", b"# ", b"\r", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00",
                 b"Baca juga: ", b"JAKARTA, Kabar.id - ", b"\n\n", b"<|im_start|>system\n", "…”".encode()])
    return bytes(data)


SEEDS = [
    b"Banjir Merendam Rumah\n\nJAKARTA, Kabar.id - Banjir merendam 1.200 rumah pada Senin (12/5/2025). "
    b"Warga mengungsi.\n\nBaca juga: Harga Beras Naik\n",
    b"<html><head><title>Judul</title></head><body><article><h1>Judul</h1><p>Isi berita pertama. "
    b"Kalimat kedua.</p><p>Paragraf dua.</p></article></body></html>",
    b"# Judul Markdown\n\n- satu\n- dua\n\n1. Diplomasi, 2. Pelatihan\n\n```\nkode\n```\n",
]


@pytest.mark.slow
def test_ingest_fuzz_loop(tmp_path):
    """2,000 mutated inputs (seeded): ingest either gives an article whose sentences reassemble each
    paragraph, or raises InputError; no other exception escapes."""
    rng = random.Random(15)
    outcomes = {"article": 0, "input-error": 0}
    suffixes = [".txt", ".md", ".html"]
    for round_number in range(2000):
        data = _mutate(rng, rng.choice(SEEDS))
        path = tmp_path / f"fuzz{rng.choice(suffixes)}"
        path.write_bytes(data)
        try:
            article = ingest(InputDocument.for_path(path))
        except InputError:
            outcomes["input-error"] += 1
            continue
        outcomes["article"] += 1
        for paragraph in article.paragraphs:
            assert " ".join(split_sentences(paragraph)) == " ".join(paragraph.split()), round_number
    assert outcomes["article"] > 500 and outcomes["input-error"] > 10, outcomes
