"""Numbers and dates in Indonesian and English: readings, vague quantities, dates resolved against publication."""

from __future__ import annotations

import pytest

from summarizer.dates import dates_in_english, dates_in_indonesian
from summarizer.numbers import numbers_in_english, numbers_in_indonesian


def values(mentions):
    return [(m.value, m.kind, m.approximate) for m in mentions]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pasukan itu memiliki sekitar 40.000 tentara.", [(40000, "number", False)]),
        ("Sebanyak 1,5 juta warga mengungsi.", [(1.5e6, "number", False)]),
        ("Jumlahnya kurang dari 12 ribu.", [(12000, "number", False)]),
        ("Anggaran 2,3 miliar dan 5 triliun.", [(2.3e9, "number", False), (5e12, "number", False)]),
        ("dua puluh lima orang", [(25, "number", False)]),
        ("seratus dua puluh tiga kapal", [(123, "number", False)]),
        ("tiga ratus ribu dan dua juta lima ratus ribu", [(3e5, "number", False), (2.5e6, "number", False)]),
        ("seribu lima ratus pengungsi", [(1500, "number", False)]),
        # "2.5" cannot be a thousands group: tech text and English-style wire copy use it as a decimal point
        ("Aplikasi versi 2.5 diunduh 3.26 juta kali.", [(2.5, "number", False), (3.26e6, "number", False)]),
        ("di urutan ke-21 dan kedua belas", [(21, "ordinal", False), (12, "ordinal", False)]),
        ("salah satu dari dua negara", [(1, "word", False), (2, "word", False)]),
        ("ribuan warga dan puluhan ribu tentara", [(1000, "number", True), (10000, "number", True)]),
        ("ratusan juta rupiah", [(1e8, "number", True)]),
    ],
)
def test_indonesian_numbers(text, expected):
    assert values(numbers_in_indonesian(text)) == expected


def test_indonesian_money_percent_and_units():
    found = numbers_in_indonesian("Harga naik 5% atau 5 persen menjadi Rp 1.500.000,00, lalu Rp15.000.")
    assert [(m.value, m.unit, m.text) for m in found] == [
        (5, "percent", "5%"), (5, "percent", "5 persen"), (1.5e6, "IDR", "Rp 1.500.000,00"),
        (15000, "IDR", "Rp15.000")]


def test_ambiguous_indonesian_comma_keeps_both_readings():
    (mention,) = numbers_in_indonesian("sekitar 1,500 orang")
    assert (mention.value, mention.alt) == (1.5, 1500)


def test_identifiers_dates_and_times_are_not_counts():
    text = "Covid-19 dan F-16 dibahas di G20 pada Minggu (25/10/2020) pukul 11.30 WIB."
    assert [(m.value, m.kind) for m in numbers_in_indonesian(text)] == [(11.5, "time")]


def test_bare_year_is_a_number():
    assert values(numbers_in_indonesian("Sejak 2014, harga naik.")) == [(2014, "number", False)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("about 40,000 troops and 1.5 million people", [(40000, "number", False), (1.5e6, "number", False)]),
        ("12 thousand troops and five hundred tanks", [(12000, "number", False), (500, "number", False)]),
        ("twenty-five, a hundred and five, one hundred thousand",
         [(25, "number", False), (105, "number", False), (1e5, "number", False)]),
        ("the 21st summit for the first time", [(21, "ordinal", False), (1, "word", False)]),
        ("it ranked twelfth and twenty-fourth", [(12, "ordinal", False), (24, "ordinal", False)]),
        ("thousands of civilians and tens of thousands of troops", [(1000, "number", True), (1e4, "number", True)]),
        ("dozens of leaders", [(12, "number", True)]),
        ("one of the best in a generation", [(1, "word", False)]),
        ("the 100m freestyle in 35mm film at 2.4GHz in the 1990s",
         [(100, "number", False), (35, "number", False), (2.4, "number", False), (1990, "number", False)]),
    ],
)
def test_english_numbers(text, expected):
    assert values(numbers_in_english(text)) == expected


def test_english_money_and_percent():
    found = numbers_in_english("up 5% or 5 percent to $5m, £2.8bn and Rp15,000")
    assert [(m.value, m.unit) for m in found] == [(5, "percent"), (5, "percent"), (5e6, "USD"), (2.8e9, "GBP"),
                                                  (15000, "IDR")]


def test_indonesian_format_in_english_is_flagged_by_kind():
    found = numbers_in_english("about 40.000 troops and 1,5 million people")
    assert [(m.value, m.kind) for m in found] == [(40000, "foreign-format"), (1.5e6, "foreign-format")]


def test_english_times_use_a_24_hour_value():
    found = numbers_in_english("at 10:08 p.m., 7.55am and 11.30 WIB")
    assert [round(m.value, 2) for m in found] == [22.13, 7.92, 11.5]


# --------------------------------------------------------------------------- dates

PUBLISHED = "2020-10-30"  # a Friday


@pytest.mark.parametrize(
    ("text", "date_text", "iso"),
    [
        ("Diterbitkan Jumat, 30 Oktober 2020 di Jakarta.", "Jumat, 30 Oktober 2020", "2020-10-30"),
        ("Hal itu disampaikan pada Minggu (25/10/2020).", "Minggu (25/10/2020)", "2020-10-25"),
        ("Invasi dimulai pada 24 Februari 2022.", "24 Februari 2022", "2022-02-24"),
        ("Pertemuan digelar pada 11 Februari.", "11 Februari", "2020-02-11"),
        ("Proyek selesai pada Februari 2023.", "Februari 2023", "2023-02"),
        ("Laporan terbit 12 Okt. 2019.", "12 Okt. 2019", "2019-10-12"),
        ("Ia tiba di Jakarta pada Rabu.", "Rabu", "2020-10-28"),
        ("Ia tiba di Jakarta pada Jumat.", "Jumat", "2020-10-30"),
        ("Ia tiba kemarin.", "kemarin", "2020-10-29"),
        ("Data hari ini menunjukkan hal itu.", "hari ini", "2020-10-30"),
        ("Ia tiba pada Minggu pagi.", "Minggu", "2020-10-25"),
        ("Keputusan diambil pekan lalu.", "pekan lalu", "2020-10"),  # 19-25 October: inside one month
        ("Keputusan diambil minggu lalu.", "minggu lalu", "2020-10"),
        ("Harga naik sejak tahun lalu.", "tahun lalu", "2019"),
    ],
)
def test_indonesian_dates(text, date_text, iso):
    (date,) = dates_in_indonesian(text, PUBLISHED)
    assert (date.text, date.iso) == (date_text, iso)


def test_week_across_two_months_resolves_to_the_year_only():
    (date,) = dates_in_indonesian("Keputusan diambil pekan lalu.", "2020-11-04")  # week of 26 Oct - 1 Nov
    assert date.iso == "2020"


def test_dates_without_publication_keep_what_the_text_states():
    found = dates_in_indonesian("Pada 11 Februari dan Rabu (25/10/2020), serta kemarin.")
    assert [(d.iso, d.year, d.month, d.day) for d in found] == [
        (None, None, 2, 11), ("2020-10-25", 2020, 10, 25), (None, None, None, None)]


def test_month_names_need_a_date_context():
    assert dates_in_indonesian("Jan Egeland dan Mei Ling tiba.", PUBLISHED) == []
    (date,) = dates_in_indonesian("Keputusan diambil pada Maret.", PUBLISHED)
    assert (date.month, date.iso) == (3, None)  # which year's March is unknowable


def test_invalid_dates_are_ignored():
    assert dates_in_indonesian("Nilai 31/02/2020 salah.") == []


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("on October 25, 2020", "2020-10-25"),
        ("on 25 October 2020", "2020-10-25"),
        ("on Sunday (25/10/2020)", "2020-10-25"),
        ("on Feb. 11", "2020-02-11"),
        ("in February 2023", "2023-02"),
        ("yesterday", "2020-10-29"),
        ("last week", "2020-10"),
        ("on Wednesday", "2020-10-28"),
    ],
)
def test_english_dates(text, iso):
    (date,) = dates_in_english(text, PUBLISHED)
    assert date.iso == iso
