"""Segment: cleaned paragraphs -> sentences with stable ids "p<paragraph>.s<sentence>" (both 1-based).

Indonesian news defeats naive splitters: titles and abbreviations (Jend., H., S.H., dll.), numbers
(40.000, 11.30 WIB), quotes with attribution (“…,” kata Stoltenberg.), numbered section heads ("1. Diplomasi")
and outlet names (Saorakyat.com). pysbd has no Indonesian rules, so the rules live here.

We only ever split at a space, so joining a paragraph's sentences with single spaces gives back the
paragraph with its whitespace normalised: segmentation never loses or adds a character. One left-to-right
pass with bounded look-behind and look-ahead keeps it linear in the paragraph length.
"""

from __future__ import annotations

import re

from summarizer.schema import Article, Segmented, Sentence

# A sentence-final run ("." "?!" "..." "…") with any closing quotes or brackets, followed by a space.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*(?= )")
# Opening punctuation skipped to find the first letter of the next sentence.
_OPENERS = "\"'“‘«([{*•-–—"
# Lowercase keys without the final period. Titles and ranks precede a name, so a capital follows them;
# dll./dsb./dst. end lists, and in news they are far more often mid-sentence than sentence-final.
_ABBREVIATIONS = frozenset("""
    jend letjen mayjen brigjen kol letkol kapt lettu letda serka sertu laksma laksda laksdya marsma marsda
    marsdya irjen kombes akbp kompol akp iptu ipda aiptu bripka prof dr drs dra ir hj kh ust sdr sdri bpk bp
    yth ny tn nn mr mrs ms st jl jln gg no kec kab kel prov ds tbk pt cv rp vs dll dsb dst dkk tsb sbb spt yg
    dgn utk hlm vol ket tel telp fax sekjen gen lt col sen rep gov jr sr inc ltd corp co dept moh muh moch
    mochd mhd abd ach inf kav arh czi pnb kes chk purn v det
""".split())
_INITIAL = re.compile(r"[^\W\d_]\.")  # "J." in "J. Biden"; "a." in "a. komando"
_DOTTED = re.compile(r"(?:[^\W\d_]{1,3}\.){2,}")  # S.H., M.Si., a.n., u.p., a.m., p.m.
_LIST_MARKER = re.compile(r"(?:\d{1,3}|[A-Za-z]|[IVXLC]{1,5})\.")  # "1." "a." "IV." heading a paragraph
_ENUMERATION = re.compile(r"\d{1,2}\.")  # "yaitu: 1. Diplomasi, 2. Pelatihan"
# The longest abbreviation we recognise ("M.Si.", "laksdya.") is short; looking back at most this far
# keeps each boundary check O(1).
MAX_TOKEN_CHARS = 40


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences. `" ".join(result) == " ".join(paragraph.split())` always holds."""
    text = " ".join(paragraph.split())
    sentences = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        if _is_sentence_end(text, boundary):
            sentences.append(text[start:boundary.end()])
            start = boundary.end() + 1
    if start < len(text):
        sentences.append(text[start:])
    return sentences


def _is_sentence_end(text: str, boundary: re.Match[str]) -> bool:
    after = boundary.end() + 1
    following = text[after:after + MAX_TOKEN_CHARS].lstrip(_OPENERS)
    if not following or following[0].islower():
        return False  # "KTT NATO. di Washington", "…," kata dia, "tapi... kami"
    if boundary.group() != ".":
        return True  # "?", "!", "...", or a period inside closing quotes: “… mandiri.” Kata
    word_start = text.rfind(" ", max(0, boundary.start() - MAX_TOKEN_CHARS), boundary.start()) + 1
    word = text[word_start:boundary.end()].lstrip(_OPENERS)
    if word[:-1].casefold() in _ABBREVIATIONS or _DOTTED.fullmatch(word):
        return False
    if _INITIAL.fullmatch(word) and word[0].isupper():
        return False
    if word_start == 0 and _LIST_MARKER.fullmatch(word):
        return False
    if _ENUMERATION.fullmatch(word) and word_start >= 2 and text[word_start - 2] in ":;,":
        return False
    return True


def segment(article: Article) -> Segmented:
    """Sentences of every paragraph, numbered "p<i>.s<j>"; paragraphs keep the article's order."""
    paragraphs: list[list[str]] = []
    sentences: list[Sentence] = []
    for i, paragraph in enumerate(article.paragraphs, 1):
        ids = []
        for j, text in enumerate(split_sentences(paragraph), 1):
            ids.append(f"p{i}.s{j}")
            sentences.append(Sentence(id=ids[-1], text=text))
        paragraphs.append(ids)
    return Segmented(paragraphs=paragraphs, sentences=sentences)
