"""Sentence splitting for Indonesian news, and the paragraph/sentence ids of `segment`."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summarizer.schema import Article
from summarizer.segment import segment, split_sentences

CASES = [
    # plain sentences
    ("NATO bersiap. Rusia menolak! Apa selanjutnya? Tidak ada yang tahu.",
     ["NATO bersiap.", "Rusia menolak!", "Apa selanjutnya?", "Tidak ada yang tahu."]),
    # titles, ranks and abbreviations
    ("Jend. Andika tiba. Letjen. Budi dan Mayjen. Sri menyusul.",
     ["Jend. Andika tiba.", "Letjen. Budi dan Mayjen. Sri menyusul."]),
    ("Sekjen. NATO hadir di Brussels. Dia berbicara.", ["Sekjen. NATO hadir di Brussels.", "Dia berbicara."]),
    ("Prof. Dr. Ir. H. Ahmad, S.H., M.Si. membuka acara. Hj. Siti ikut.",
     ["Prof. Dr. Ir. H. Ahmad, S.H., M.Si. membuka acara.", "Hj. Siti ikut."]),
    ("Surat a.n. Menteri dikirim u.p. Kepala Biro. Isinya rahasia.",
     ["Surat a.n. Menteri dikirim u.p. Kepala Biro.", "Isinya rahasia."]),
    ("Kol. Inf. Rudi, Brigjen. Tono, dan Kapt. Sari hadir. Acara selesai.",
     ["Kol. Inf. Rudi, Brigjen. Tono, dan Kapt. Sari hadir.", "Acara selesai."]),
    ("Kantor di Jl. Merdeka No. 5 dibuka. Gedung St. Mary tutup.",
     ["Kantor di Jl. Merdeka No. 5 dibuka.", "Gedung St. Mary tutup."]),
    ("Saham PT Bank Rakyat Tbk. Naik. Harga Rp. 5.000 per lembar.",
     ["Saham PT Bank Rakyat Tbk. Naik.", "Harga Rp. 5.000 per lembar."]),
    ("Laga Persib vs. Persija berakhir imbang. Penonton pulang.",
     ["Laga Persib vs. Persija berakhir imbang.", "Penonton pulang."]),
    ("Mereka membawa senjata, amunisi, dll. Semua disita. Barang bukti dsb. Diamankan polisi.",
     ["Mereka membawa senjata, amunisi, dll. Semua disita.", "Barang bukti dsb. Diamankan polisi."]),
    ("Presiden J. Biden dan P.M. Inggris bertemu. Mereka sepakat.",
     ["Presiden J. Biden dan P.M. Inggris bertemu.", "Mereka sepakat."]),
    ("Moh. Mahfud hadir. Dia berbicara singkat.", ["Moh. Mahfud hadir.", "Dia berbicara singkat."]),
    ("Putusan Roe v. Wade dibatalkan. Det. Dennis menulis laporan.",
     ["Putusan Roe v. Wade dibatalkan.", "Det. Dennis menulis laporan."]),
    # numbers, dates, times, money, decimals
    ("Pasukan itu berjumlah 40.000 orang. Sebanyak 1,5 juta warga mengungsi.",
     ["Pasukan itu berjumlah 40.000 orang.", "Sebanyak 1,5 juta warga mengungsi."]),
    ("Rapat digelar Minggu (25/10/2020) pukul 11.30 WIB. Biayanya Rp 1.500.000,00.",
     ["Rapat digelar Minggu (25/10/2020) pukul 11.30 WIB.", "Biayanya Rp 1.500.000,00."]),
    ("Inflasi naik 2.5 persen. Angka itu tertinggi sejak 2019. 300 toko tutup.",
     ["Inflasi naik 2.5 persen.", "Angka itu tertinggi sejak 2019.", "300 toko tutup."]),
    ("Pesawat mendarat pukul 10 a.m. waktu setempat. Penumpang turun.",
     ["Pesawat mendarat pukul 10 a.m. waktu setempat.", "Penumpang turun."]),
    # quotes with attribution
    ("“Kami siap,” kata Stoltenberg. Dia lalu pergi.", ["“Kami siap,” kata Stoltenberg.", "Dia lalu pergi."]),
    ('"Kami siap," ujarnya. "Kami juga kuat."', ['"Kami siap," ujarnya.', '"Kami juga kuat."']),
    ("“Kami akan menang.” ungkapnya.", ["“Kami akan menang.” ungkapnya."]),
    ("Dia berkata, “Perang harus berakhir.” Semua orang bertepuk tangan.",
     ["Dia berkata, “Perang harus berakhir.”", "Semua orang bertepuk tangan."]),
    ("“Apakah ini adil?” tanya dia. “Tidak!” jawab mereka.",
     ["“Apakah ini adil?” tanya dia.", "“Tidak!” jawab mereka."]),
    ("Putin menyebut tujuannya “untuk melindungi warga”. Kiev menolak.",
     ["Putin menyebut tujuannya “untuk melindungi warga”.", "Kiev menolak."]),
    ("Kantor itu (yang dibuka pada 2019.) Kini tutup.", ["Kantor itu (yang dibuka pada 2019.)", "Kini tutup."]),
    # ellipses
    ("Dia ragu... lalu pergi. Semua diam.", ["Dia ragu... lalu pergi.", "Semua diam."]),
    ("Ia menunggu… dan menunggu. Tidak ada kabar… Akhirnya ia pulang.",
     ["Ia menunggu… dan menunggu.", "Tidak ada kabar…", "Akhirnya ia pulang."]),
    # lowercase after a period never starts a sentence
    ("KTT NATO. di Washington berakhir. Para pemimpin pulang.",
     ["KTT NATO. di Washington berakhir.", "Para pemimpin pulang."]),
    ("Pusat komando, a. komando utama di Wiesbaden, dibentuk.",
     ["Pusat komando, a. komando utama di Wiesbaden, dibentuk."]),
    # list markers
    ("1. Diplomasi dan Dialog: Pendekatan Multilateral", ["1. Diplomasi dan Dialog: Pendekatan Multilateral"]),
    ("IV. Penutup dan Saran", ["IV. Penutup dan Saran"]),
    ("Fokusnya ada dua, yaitu: 1. Diplomasi, 2. Pelatihan. Keduanya penting.",
     ["Fokusnya ada dua, yaitu: 1. Diplomasi, 2. Pelatihan.", "Keduanya penting."]),
    # domains, URLs, e-mails
    ("Dikutip dari Saorakyat.com dan Detil.co, NATO bersiap. Informasi di https://contoh.id/berita. "
     "Hubungi redaksi@contoh.id. Terima kasih.",
     ["Dikutip dari Saorakyat.com dan Detil.co, NATO bersiap.", "Informasi di https://contoh.id/berita.",
      "Hubungi redaksi@contoh.id.", "Terima kasih."]),
    # acronyms that end a sentence still split
    ("Ia bekerja untuk AS. Namun kini pensiun.", ["Ia bekerja untuk AS.", "Namun kini pensiun."]),
    # whitespace is normalised, no trailing split
    ("  Satu   kalimat\tdengan\nspasi.  ", ["Satu kalimat dengan spasi."]),
    ("Tanpa titik akhir", ["Tanpa titik akhir"]),
    ("", []),
]


@pytest.mark.parametrize("paragraph, expected", CASES, ids=[case[0][:40] for case in CASES])
def test_split_sentences(paragraph, expected):
    assert split_sentences(paragraph) == expected


# Pieces that exercise every rule, so random paragraphs hit the tricky spots far more often than plain text.
PIECES = st.sampled_from([
    "Jend.", "J.", "a.n.", "S.H.,", "dll.", "No.", "40.000", "1,5", "25/10/2020", "11.30", "Rp", "“", "”", '"',
    "’", "…", "...", ".", "!", "?", ",", "(", ")", "Saorakyat.com", "kata", "Stoltenberg", "NATO", "di",
    "1.", "IV.", " ", "  ", "\n", "\t", "\u00a0", "Ukraina.", "ujarnya.", "ini", "Dia",
])


@settings(max_examples=300, deadline=None, database=None)  # no example database written into the repo
@given(st.one_of(st.lists(PIECES, max_size=40).map(" ".join), st.lists(PIECES, max_size=40).map("".join), st.text()))
def test_sentences_join_back_to_the_normalised_paragraph(paragraph):
    sentences = split_sentences(paragraph)
    assert " ".join(sentences) == " ".join(paragraph.split())
    assert all(sentence and sentence == sentence.strip() for sentence in sentences)


def test_segment_numbers_paragraphs_and_sentences_from_one():
    article = Article(source="-", text_hash="0" * 64, paragraphs=[
        "NATO bersiap. Rusia menolak.", "1. Diplomasi dan Dialog", "“Kami siap,” kata dia. Dia pergi. Selesai."])
    result = segment(article)
    assert result.paragraphs == [["p1.s1", "p1.s2"], ["p2.s1"], ["p3.s1", "p3.s2", "p3.s3"]]
    assert [(s.id, s.text) for s in result.sentences] == [
        ("p1.s1", "NATO bersiap."), ("p1.s2", "Rusia menolak."), ("p2.s1", "1. Diplomasi dan Dialog"),
        ("p3.s1", "“Kami siap,” kata dia."), ("p3.s2", "Dia pergi."), ("p3.s3", "Selesai.")]
    assert all(s.en is None for s in result.sentences)


@pytest.mark.parametrize("unit", [
    "Menurut Jend. Andika, 40.000 tentara tiba pukul 11.30 WIB “dengan selamat,” katanya. ",
    "a. ",  # a boundary candidate every three characters
    "kata ",  # no boundary at all
])
def test_five_megabyte_paragraph_segments_in_linear_time(unit):
    paragraph = unit * (5_000_000 // len(unit))
    started = time.process_time()  # CPU seconds: what other processes on the machine do cannot flake this
    sentences = split_sentences(paragraph)
    cpu_seconds = time.process_time() - started
    assert " ".join(sentences) == paragraph.strip()
    # Linear work takes a second or two here; a quadratic scan of 5 MB would take hours.
    assert cpu_seconds < 15, cpu_seconds
