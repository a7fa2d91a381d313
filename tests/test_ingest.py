"""Ingest: discovery, decoding, boilerplate removal, title/dateline/date detection, HTML and Markdown."""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import pytest

from summarizer.errors import InputError
from summarizer.boilerplate import match_dateline
from summarizer.dates import parse_date
from summarizer.ingest import ingest
from summarizer.sources import InputDocument, canonical_text, decode_bytes, discover, normalize_lines
from summarizer.schema import Dateline

ARTICLES = Path(__file__).parent / "fixtures" / "articles"


def ingest_file(name: str):
    return ingest(InputDocument(name, ARTICLES / name))


def ingest_text(tmp_path: Path, text: str | bytes, name: str = "article.txt"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return ingest(InputDocument(str(path), path))


def removed(article) -> list[tuple[int, str, str]]:
    return [(item.line, item.reason, item.text) for item in article.removed]


def fixture_lines(name: str) -> list[str]:
    return normalize_lines((ARTICLES / name).read_text(encoding="utf-8"))[0]


def assert_every_line_accounted_for(article, name: str) -> None:
    """Each non-empty input line is the title, or recorded as removed, or kept in a paragraph once the
    dateline and any recorded prefix/suffix (repeated headline, end marker) of that line are taken off:
    nothing disappears silently and no content line is dropped."""
    kept = " ".join(article.paragraphs)
    for number, line in enumerate(fixture_lines(name), 1):
        records = [item.text for item in article.removed if item.line == number]
        dateline = [article.dateline.text] if article.dateline else []
        if not line or line == article.title or line in records + dateline:
            continue
        for cut in records + dateline:
            line = line.removeprefix(cut).removesuffix(cut).strip()
        assert line and line in kept, (number, line)


# ----------------------------------------------------------------------------------------- discovery


def test_discover_walks_directories_sorted_skipping_hidden_and_other_suffixes(tmp_path):
    for name in ("b.txt", "a.md", "sub/c.html", "sub/d.htm", "z.TXT", "notes.pdf", ".hidden.txt",
                 ".git/e.txt", "sub/.cache/f.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    sources = [Path(doc.source).relative_to(tmp_path).as_posix() for doc in discover([str(tmp_path)])]
    assert sources == ["a.md", "b.txt", "sub/c.html", "sub/d.htm", "z.TXT"]


def test_discover_keeps_argument_order_stdin_and_missing_paths(tmp_path):
    (tmp_path / "one.txt").write_text("x")
    missing = tmp_path / "missing.txt"
    docs = discover([str(missing), "-", str(tmp_path / "one.txt"), "-", str(tmp_path)],
                    stdin=io.BytesIO(b"dari stdin"))
    assert [doc.source for doc in docs] == [str(missing), "-", str(tmp_path / "one.txt")]
    assert docs[1].path is None and docs[1].read_bytes() == b"dari stdin"
    with pytest.raises(InputError, match="missing.txt: no such file"):
        docs[0].read_bytes()


def test_explicit_file_is_taken_whatever_its_suffix(tmp_path):
    (tmp_path / "berita.text").write_text("x")
    assert [doc.path for doc in discover([str(tmp_path / "berita.text")])] == [tmp_path / "berita.text"]


# ----------------------------------------------------------------------------------------- decoding


@pytest.mark.parametrize("data, text", [
    ("Kabar “baik” hari ini".encode(), "Kabar “baik” hari ini"),
    (b"\xef\xbb\xbf" + "Kabar “baik”".encode(), "Kabar “baik”"),
    ("Kabar “baik”".encode("utf-16"), "Kabar “baik”"),
])
def test_decode_utf8_bom_and_utf16_without_warnings(data, text):
    assert decode_bytes(data) == (text, [])


def test_decode_falls_back_to_cp1252_per_byte_and_keeps_utf8_parts():
    text, warnings = decode_bytes("Café ".encode() + b"\x93kutip\x94 \x81")
    assert text == "Café “kutip” \x81"
    assert [(w.code, w.stage) for w in warnings] == [("decoded-cp1252", "ingest"), ("decoded-latin1", "ingest")]
    assert "2 byte(s)" in warnings[0].message and "1 byte(s)" in warnings[1].message


@pytest.mark.parametrize("data", [
    (ARTICLES / "binary_png.txt").read_bytes(),
    b"teks\x00dengan NUL",
    bytes(range(1, 32)) * 3 + b"sedikit teks",  # no NUL, but mostly control bytes
])
def test_decode_rejects_binary(data):
    with pytest.raises(InputError, match="binary data"):
        decode_bytes(data)


def test_cp1252_fixture_decodes_curly_quotes_with_warning():
    article = ingest_file("cp1252.txt")
    assert "“Air naik cepat sekali,” kata seorang pengemudi ojek." in article.paragraphs[0]
    assert "Café" in article.paragraphs[0]
    assert [w.code for w in article.warnings] == ["decoded-cp1252"]


@pytest.mark.parametrize("name, message", [
    ("empty.txt", "empty.txt: empty file"),
    ("whitespace_only.txt", "whitespace_only.txt: only whitespace"),
    ("binary_png.txt", "binary_png.txt: binary data, not text"),
])
def test_bad_inputs_raise_input_error_with_a_clear_message(name, message):
    with pytest.raises(InputError) as caught:
        ingest_file(name)
    assert caught.value.message == message and caught.value.hint


def test_missing_file_and_all_boilerplate_raise_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        ingest(InputDocument("nope.txt", tmp_path / "nope.txt"))
    with pytest.raises(InputError, match=r"no article text found \(3 boilerplate"):
        ingest_text(tmp_path, "Baca juga: Judul Lain\n\nShare\n\nAdd yours\n")


# ----------------------------------------------------------------------------------------- normalising


def test_normalising_keeps_line_numbers_quotes_and_drops_invisible_characters():
    lines, controls = normalize_lines("Judul\r\n\r\nsatu\u00a0 dua\u200b\tti\u00adga\x07 “kutip”\u2028akhir  ")
    assert lines == ["Judul", "", "satu dua tiga “kutip”", "akhir"]
    assert controls == 1


def test_text_hash_is_sha256_of_normalised_text_before_boilerplate_removal(tmp_path):
    body = "Judul Berita\n\nBaca juga: Lain\n\nIsi berita pertama di sini.\n"
    article = ingest_text(tmp_path, body)
    expected = "Judul Berita\n\nBaca juga: Lain\n\nIsi berita pertama di sini."
    assert canonical_text(normalize_lines(body)[0]) == expected
    assert article.text_hash == hashlib.sha256(expected.encode()).hexdigest()
    variant = ingest_text(tmp_path, b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode() + b"\r\n\r\n\r\n",
                          name="variant.txt")
    assert variant.text_hash == article.text_hash


def test_nfc_normalisation(tmp_path):
    article = ingest_text(tmp_path, "Kafe\n\nPemilik cafe\u0301 itu berkata demikian.\n")
    assert article.paragraphs == ["Pemilik caf\u00e9 itu berkata demikian."]


# ----------------------------------------------------------------------------------------- fixtures


def test_repeated_headline_and_headline_prefix():
    article = ingest_file("repeated_headline.txt")
    title = "Petani Kopi Gayo Bersiap Hadapi Panen Raya"
    assert article.title == title
    assert removed(article) == [(3, "repeated-headline", title), (5, "repeated-headline", title + " –"),
                                (11, "repeated-headline", title)]
    assert article.paragraphs[0].startswith("Ribuan petani kopi di dataran tinggi Gayo")
    assert article.paragraphs[1] == "1. Persiapan Lahan: Pemangkasan dan Pemupukan"
    assert article.paragraphs[5] == "Kesimpulan: Harapan di Tengah Ketidakpastian"
    assert len(article.paragraphs) == 7 and article.dateline is None and article.published is None
    assert_every_line_accounted_for(article, "repeated_headline.txt")


def test_single_newline_paragraphs_with_dateline_on_its_own_line():
    article = ingest_file("single_newline.txt")
    assert article.title is None
    assert article.dateline == Dateline(place="Surabaya", outlet="Kabarjatim.com", text="Surabaya, Kabarjatim.com")
    assert article.removed == []
    assert [p[:20] for p in article.paragraphs] == [
        "Pemerintah Kota Sura", "Lokasi dan Jadwal", "Taman baca pertama d", "Anggaran pembangunan",
        "Tanggapan Warga", "Sejumlah warga menya"]
    assert_every_line_accounted_for(article, "single_newline.txt")


def test_caption_duplicating_first_paragraph_date_line_and_end_marker():
    article = ingest_file("caption_date.txt")
    assert article.title == "Jepang Perpanjang Bantuan Kemanusiaan untuk Sudan"
    assert article.published == "2023-03-14"  # the date line wins over "Senin (13/3/2023)" in the body
    assert article.dateline == Dateline(place="Tokyo", outlet="Kabarnusa.id", text="Kabarnusa.id,Tokyo -")
    caption = fixture_lines("caption_date.txt")[4]
    assert caption.endswith("Foto: Reuters/Kabarnusa")
    assert removed(article) == [(3, "publication-date", "Selasa, 14 Maret 2023"), (5, "photo-credit", caption),
                                (13, "end-marker", "***")]
    assert article.paragraphs[0].startswith("Menteri Luar Negeri Jepang mengumumkan")
    assert article.paragraphs[-1] == "“Situasinya sangat mendesak. Kami meminta negara lain ikut membantu,\" ucapnya."
    assert_every_line_accounted_for(article, "caption_date.txt")


def test_read_time_source_related_links_and_comment_box():
    article = ingest_file("read_time_comments.txt")
    assert article.title == "Gempa kecil guncang selatan Bandung tanpa korban jiwa"
    assert article.dateline == Dateline(place="Bandung", outlet="ANTARA", text="Bandung (ANTARA) –")
    assert removed(article) == [
        (3, "read-time", "Estimated read time 1 min read"),
        (11, "source-credit", "Sumber: Antara"),
        (13, "related-links", "You May Also Like"),
        (15, "related-links", "Harga Cabai di Bandung Kembali Naik"),
        (17, "related-links", "More From Author"),
        (19, "comment-box", "+ There are no comments"),
        (21, "comment-box", "Add yours"),
    ]
    assert len(article.paragraphs) == 3
    assert article.paragraphs[0].startswith("Gempa bermagnitudo 3,9 mengguncang")
    assert article.published is None
    assert_every_line_accounted_for(article, "read_time_comments.txt")


def test_cross_links_share_buttons_and_lookalike_content_lines_are_kept():
    article = ingest_file("crosslinks_share.txt")
    assert article.title == "Nelayan Makassar Keluhkan Kelangkaan Solar Bersubsidi"
    assert article.dateline == Dateline(place="MAKASSAR", outlet="Kabarsulsel.com", text="MAKASSAR, Kabarsulsel.com–")
    assert removed(article) == [
        (5, "share-buttons", "Bagikan: Facebook Twitter WhatsApp"),
        (9, "cross-link", "Baca juga: Harga Ikan di Pasar Tradisional Makassar Melonjak"),
        (13, "cross-link", "Baca Juga"),
        (15, "cross-link", "Pemprov Sulsel Siapkan Bantuan untuk Nelayan Terdampak"),
        (20, "cross-link", "READ Festival Kuliner Pantai Losari Kembali Digelar"),  # NBSP normalised
        (22, "cross-link", "Lihat juga: Cuaca Ekstrem Hantui Perairan Selat Makassar"),
        (24, "end-marker", "(*)"),
    ]
    # Content that merely starts like boilerplate stays.
    assert any(p.startswith("Baca juga buku panduan") for p in article.paragraphs)
    assert any(p.startswith("Sumber daya perikanan") for p in article.paragraphs)
    assert article.paragraphs[0].endswith("dengan harga lebih mahal,")
    assert article.paragraphs[-1].endswith("mulai pekan depan.")
    assert_every_line_accounted_for(article, "crosslinks_share.txt")


def test_html_page_keeps_the_article_and_drops_navigation_footer_and_comments():
    article = ingest_file("page.html")
    assert article.title == "Warga Gotong Royong Perbaiki Jembatan Desa"
    assert article.published == "2023-03-14"
    assert article.dateline == Dateline(place="GARUT", outlet="Kabarlembah.id", text="GARUT, Kabarlembah.id –")
    assert removed(article) == [(3, "repeated-headline", "Warga Gotong Royong Perbaiki Jembatan Desa")]
    assert len(article.paragraphs) == 4
    text = " ".join(article.paragraphs)
    for outside in ("Beranda", "Salut untuk warga", "Berita Terkait", "hak cipta", "dataLayer"):
        assert outside not in text
    assert "“Kami tidak bisa menunggu anggaran turun. Anak-anak harus tetap bisa sekolah,” ujarnya." in text


def test_html_falls_back_to_stdlib_text_when_trafilatura_finds_nothing(monkeypatch):
    import trafilatura

    monkeypatch.setattr(trafilatura, "bare_extraction", lambda *args, **kwargs: None)
    article = ingest_file("page.html")
    assert [w.code for w in article.warnings] == ["html-fallback"]
    assert article.title == "Warga Gotong Royong Perbaiki Jembatan Desa"  # og:title
    assert article.published == "2023-03-14"  # article:published_time
    text = " ".join(article.paragraphs)
    assert "Ratusan warga Desa Sukamaju" in text
    assert "Beranda" not in text and "dataLayer" not in text and "hak cipta" not in text


def test_html_content_is_detected_whatever_the_suffix(tmp_path):
    html = ("<!DOCTYPE html><html><head><title>Judul Halaman</title></head><body><p>SOLO – Warga Solo menggelar "
            "kirab budaya pada Minggu. Acara itu diikuti ribuan peserta.</p></body></html>")
    article = ingest_text(tmp_path, html, name="halaman.txt")
    assert article.title == "Judul Halaman"
    assert article.dateline == Dateline(place="SOLO", text="SOLO –")
    assert article.paragraphs == ["Warga Solo menggelar kirab budaya pada Minggu. Acara itu diikuti ribuan peserta."]


def test_markdown_title_wrapped_paragraphs_lists_and_images():
    article = ingest_file("article.md")
    assert article.title == "Pemkot Bogor Uji Coba Bus Listrik"
    assert article.dateline == Dateline(place="BOGOR", outlet="Kabarbogor.id", text="BOGOR, Kabarbogor.id –")
    assert article.published == "2023-02-06"  # from "Senin (6/2/2023)": no date line
    assert article.paragraphs == [
        "Pemerintah Kota Bogor mulai menguji coba tiga bus listrik di rute padat penumpang pada Senin (6/2/2023). "
        "Uji coba berlangsung selama satu bulan.",
        "Rute dan Tarif",
        "Bus akan melayani dua rute:",
        "1. Terminal Baranangsiang menuju Stasiun Bogor.",
        "2. Stasiun Bogor menuju Kebun Raya.",
        "Selama uji coba, penumpang tidak dipungut biaya. Informasi jadwal tersedia di situs Dishub Bogor.",
    ]
    assert removed(article) == [(14, "image", "Foto: Antara")]


def test_hard_wrapped_plain_text_is_reflowed_into_paragraphs(tmp_path):
    text = ("Harga Beras Naik\n\n"
            "Harga beras medium di pasar tradisional Yogyakarta naik menjadi\n"
            "Rp 14.000 per kilogram pekan ini. Pedagang menyebut pasokan dari\n"
            "petani berkurang karena panen mundur.\n\n"
            "Dinas Perdagangan berjanji menggelar operasi pasar.\n")
    article = ingest_text(tmp_path, text)
    assert article.title == "Harga Beras Naik"
    assert article.paragraphs == [
        "Harga beras medium di pasar tradisional Yogyakarta naik menjadi Rp 14.000 per kilogram pekan ini. "
        "Pedagang menyebut pasokan dari petani berkurang karena panen mundur.",
        "Dinas Perdagangan berjanji menggelar operasi pasar."]


def test_short_lines_that_were_not_wrapped_stay_separate(tmp_path):
    text = "Judul Pendek\nSubjudul\nKalimat pertama yang cukup panjang ada di sini.\nKalimat kedua.\n"
    assert ingest_text(tmp_path, text).paragraphs == [
        "Subjudul", "Kalimat pertama yang cukup panjang ada di sini.", "Kalimat kedua."]


def test_stdin_markdown_is_recognised_by_its_heading():
    article = ingest(InputDocument("-", None, "# Judul Dari Stdin\n\nIsi berita singkat.\n".encode()))
    assert (article.source, article.title, article.paragraphs) == ("-", "Judul Dari Stdin", ["Isi berita singkat."])


# ----------------------------------------------------------------------------------------- dates and datelines


@pytest.mark.parametrize("text, iso", [
    ("30 Oktober 2020", "2020-10-30"), ("1 Jan 2021", "2021-01-01"), ("5 Mei 2019", "2019-05-05"),
    ("17 Agu 2023", "2023-08-17"), ("17 Agt 2023", "2023-08-17"), ("2 Okt. 2022", "2022-10-02"),
    ("9 Des 2024", "2024-12-09"), ("24 Februari 2022", "2022-02-24"), ("October 30, 2020", "2020-10-30"),
    ("25/10/2020", "2020-10-25"), ("2020-10-25", "2020-10-25"),
    ("31 Februari 2022", None), ("30 Oktober", None), ("pada 30 Oktober 2020", None),
])
def test_parse_date(text, iso):
    assert parse_date(text) == iso


@pytest.mark.parametrize("line, iso", [
    ("Jumat, 30 Oktober 2020", "2020-10-30"),
    ("Minggu (25/10/2020)", "2020-10-25"),
    ("Rabu, 3 Jan 2024 | 10:15 WIB", "2024-01-03"),
    ("Diterbitkan 12 Sep 2021, 08.00 WIB", "2021-09-12"),
])
def test_date_lines_are_removed_and_become_the_publication_date(tmp_path, line, iso):
    article = ingest_text(tmp_path, f"Judul Berita Hari Ini\n\n{line}\n\nIsi berita pertama di sini.\n")
    assert article.published == iso
    assert removed(article) == [(3, "publication-date", line)]


def test_body_date_is_used_only_without_a_date_line(tmp_path):
    body = "Judul Berita\n\nMenteri berbicara pada Minggu (25/10/2020). Sejak 24 Februari 2022 situasi berubah.\n"
    article = ingest_text(tmp_path, body)
    assert article.published == "2020-10-25" and article.removed == []
    assert ingest_text(tmp_path, "Judul Berita\n\nSejak 24 Februari 2022 situasi berubah.\n").published is None


@pytest.mark.parametrize("text, place, outlet, dateline, rest", [
    ("JAKARTA, Saorakyat.com – NATO bersiap.", "JAKARTA", "Saorakyat.com", "JAKARTA, Saorakyat.com –", "NATO bersiap."),
    ("JAKARTA, Saorakyat.com– NATO bersiap.", "JAKARTA", "Saorakyat.com", "JAKARTA, Saorakyat.com–", "NATO bersiap."),
    ("Moskow (ANTARA) – Rusia menolak.", "Moskow", "ANTARA", "Moskow (ANTARA) –", "Rusia menolak."),
    ("Detil.co,Brussels - Sekjen NATO.", "Brussels", "Detil.co", "Detil.co,Brussels -", "Sekjen NATO."),
    ("Liputan6.com, Jakarta - Harga naik.", "Jakarta", "Liputan6.com", "Liputan6.com, Jakarta -", "Harga naik."),
    ("Washington, Infomalangraya.com", "Washington", "Infomalangraya.com", "Washington, Infomalangraya.com", ""),
    ("Saorakyat.com – Harga naik.", None, "Saorakyat.com", "Saorakyat.com –", "Harga naik."),
    ("JAKARTA - Harga naik.", "JAKARTA", None, "JAKARTA -", "Harga naik."),
])
def test_datelines(text, place, outlet, dateline, rest):
    assert match_dateline(text) == (Dateline(place=place, outlet=outlet, text=dateline), rest)


@pytest.mark.parametrize("text", [
    "North Atlantic Treaty Organization (NATO) memiliki posisi strategis.",
    "Presiden Joko Widodo (Jokowi)",  # a line on its own needs a domain or a dash to be a dateline
    "Jakarta, ibu kota negara, kembali banjir.",
    "Pro-Rusia menguasai kota itu.",
    "Jakarta",
])
def test_not_datelines(text):
    assert match_dateline(text) is None


# ----------------------------------------------------------------------------------------- performance


def test_five_megabyte_single_paragraph_ingests_quickly(tmp_path):
    sentence = "Menurut Jend. Andika, sekitar 40.000 tentara tiba pukul 11.30 WIB “dengan selamat,” katanya. "
    text = sentence * (5_000_000 // len(sentence))
    path = tmp_path / "article.txt"
    path.write_text(text, encoding="utf-8")
    started = time.process_time()  # CPU seconds: what other processes on the machine do cannot flake this
    article = ingest(InputDocument(str(path), path), max_chars=len(text))  # the cap is raised on purpose
    cpu_seconds = time.process_time() - started
    assert article.paragraphs == [text.strip()]
    # Linear work takes well under a second here; anything quadratic on 5 MB would take minutes.
    assert cpu_seconds < 10, cpu_seconds
