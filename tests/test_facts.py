"""Rule-based facts: quotes with speakers, numbers with units, explicit dates; and merging them into a summary."""

from __future__ import annotations

from summarizer.facts import RuleFacts, extract_facts, fill_from_rules
from summarizer.lexicon import personal_name, quoted_spans
from summarizer.schema import DateFact, NumberFact, Quote, Sentence, Summary

SENTENCES = [
    Sentence(id="p1.s1", text="Menteri Pertahanan Budi Santoso mengatakan pemerintah akan mengirim 1.200 prajurit "
                              "ke perbatasan.",
             en="Defence Minister Budi Santoso said the government would send 1,200 soldiers to the border."),
    Sentence(id="p1.s2", text="“Kami tidak akan mundur,” ujarnya di Jakarta, Senin (12/6/2023).",
             en='"We will not back down," he said in Jakarta on Monday (12/6/2023).'),
    Sentence(id="p2.s1", text="“Situasi di lapangan masih sulit,” kata Kepala Staf Angkatan Darat Jenderal "
                              "Agus Wibisono.",
             en='"The situation on the ground is still difficult," said Army Chief of Staff General Agus Wibisono.'),
    Sentence(id="p2.s2", text="Menurut Agus, sekitar 300 orang telah dievakuasi sejak 3 Juni 2023.",
             en="According to Agus, about 300 people have been evacuated since June 3, 2023."),
    Sentence(id="p3.s1", text='Warga menamai kampung itu "Kampung Baru" sejak tahun 1998.',
             en='Residents have called the village "Kampung Baru" since 1998.'),
    Sentence(id="p4.s1", text="“Kami sudah menyiapkan tenda.", en='"We have prepared tents.'),
    Sentence(id="p4.s2", text="Bantuan akan tiba besok,” ucap Agus.", en='Aid will arrive tomorrow," Agus said.'),
    Sentence(id="p5.s1", text="Ribuan warga masih bertahan, sementara 12 ribu warga lainnya mengungsi.",
             en="Thousands of residents remain, while 12,000 others have fled."),
    Sentence(id="p6.s1", text="Juru bicara itu menolak berkomentar.", en="The spokesperson declined to comment."),
    Sentence(id="p6.s2", text="“Tunggu saja hasilnya,” katanya.", en='"Just wait for the results," he said.'),
    Sentence(id="p7.s1", text="Kerugian ditaksir mencapai Rp 2,5 miliar atau naik 15 persen pada Mei 2023.",
             en="Losses are estimated at Rp 2.5 billion, up 15 percent in May 2023."),
]


def test_quotes_with_speakers():
    quotes = extract_facts(SENTENCES, "2023-06-14").quotes
    assert [(q.speaker, q.sources, q.text_id, q.text_en) for q in quotes] == [
        ("Budi Santoso", ["p1.s2"], "Kami tidak akan mundur", "We will not back down"),  # "ujarnya"
        ("Agus Wibisono", ["p2.s1"], "Situasi di lapangan masih sulit",
         "The situation on the ground is still difficult"),
        ("Agus", ["p4.s1", "p4.s2"], "Kami sudah menyiapkan tenda. Bantuan akan tiba besok",
         "We have prepared tents. Aid will arrive tomorrow"),
        (None, ["p6.s2"], "Tunggu saja hasilnya", "Just wait for the results"),  # the spokesman has no name
    ]
    assert all(q.origin == "rules" for q in quotes)


def test_quoted_term_without_attribution_is_no_quote():
    sentences = [Sentence(id="p1.s1", text='Warga menamai kampung itu "Kampung Baru" sejak lama.')]
    assert extract_facts(sentences, None).quotes == []
    assert [s.text for s in quoted_spans(sentences)] == ["Kampung Baru"]


def test_quote_without_translation_has_empty_english():
    sentences = [Sentence(id="p1.s1", text="“Kami siap membantu,” kata Presiden Joko Widodo.")]
    (quote,) = extract_facts(sentences, None).quotes
    assert (quote.speaker, quote.text_en) == ("Joko Widodo", "")


def test_mixed_quote_marks_pair_up():
    sentences = [Sentence(id="p1.s1", text='“Tujuan kami adalah membantu," sambung Stoltenberg.')]
    (quote,) = extract_facts(sentences, None).quotes
    assert (quote.speaker, quote.text_id) == ("Stoltenberg", "Tujuan kami adalah membantu")


def test_personal_name_drops_titles_places_and_acronyms():
    assert personal_name("Menteri Luar Negeri Rusia Sergei Lavrov") == "Sergei Lavrov"
    assert personal_name("Sekretaris Jenderal NATO Jens Stoltenberg") == "Jens Stoltenberg"
    assert personal_name("Ketua NATO") is None


def test_numbers_with_units():
    numbers = extract_facts(SENTENCES, "2023-06-14").numbers
    assert [(n.value, n.unit, n.sources) for n in numbers] == [
        (1200, "soldiers", ["p1.s1"]),
        (300, "people", ["p2.s2"]),
        (12000, "residents", ["p5.s1"]),  # "ribuan" in the same sentence is no number
        (2.5e9, "IDR", ["p7.s1"]),
        (15, "percent", ["p7.s1"]),
    ]  # the year 1998 is a date, not a quantity


def test_same_number_and_unit_in_two_sentences_is_one_fact():
    sentences = [Sentence(id="p1.s1", text="Sebanyak 34 negara hadir."),
                 Sentence(id="p2.s1", text="Ke-34 negara itu sepakat, kata 34 negara itu.")]
    (number,) = extract_facts(sentences, None).numbers
    assert (number.value, number.unit, number.sources) == (34, "countries", ["p1.s1", "p2.s1"])


def test_explicit_dates_prefer_the_english_text():
    dates = extract_facts(SENTENCES, "2023-06-14").dates
    assert [(d.text, d.iso, d.sources) for d in dates] == [
        ("Monday (12/6/2023)", "2023-06-12", ["p1.s2"]),
        ("June 3, 2023", "2023-06-03", ["p2.s2"]),
        ("May 2023", "2023-05", ["p7.s1"]),
    ]  # "besok" is relative, not explicit


def test_dates_without_translation_keep_indonesian_text():
    sentences = [Sentence(id="p1.s1", text="Pertemuan digelar 11 Februari.")]
    (date,) = extract_facts(sentences, "2026-01-20").dates
    assert (date.text, date.iso) == ("11 Februari", "2026-02-11")


def test_fill_from_rules_adds_only_what_is_missing():
    summary = Summary(
        headline="h", one_line="o", summary="s",
        numbers=[NumberFact(value=1200, unit="troops", sources=["p1.s1"])],
        dates=[DateFact(text="12 June 2023", iso="2023-06-12", sources=["p1.s2"])],
        quotes=[Quote(text_en="We will not retreat", text_id="kami tidak akan mundur", sources=["p1.s2"])],
    )
    merged = fill_from_rules(summary, extract_facts(SENTENCES, "2023-06-14"))
    assert [(n.value, n.origin) for n in merged.numbers] == [
        (1200, "llm"), (300, "rules"), (12000, "rules"), (2.5e9, "rules"), (15, "rules")]
    assert [(d.iso, d.origin) for d in merged.dates] == [
        ("2023-06-12", "llm"), ("2023-06-03", "rules"), ("2023-05", "rules")]
    assert [q.origin for q in merged.quotes] == ["llm", "rules", "rules", "rules"]
    assert fill_from_rules(summary, RuleFacts()) == summary


# --------------------------------------------------------------------------- people, organisations, places

NEWS = [
    Sentence(id="p1.s1", text="Menteri Keuangan Sri Mulyani mengatakan pemerintah menambah subsidi energi di "
                              "Jakarta, Selasa.",
             en="Finance Minister Sri Mulyani said the government is adding energy subsidies in Jakarta on Tuesday."),
    Sentence(id="p1.s2", text="Tambahan itu disetujui Dewan Perwakilan Rakyat (DPR) dan dikawal Tentara Nasional "
                              "Indonesia (TNI).",
             en="The addition was approved by the House of Representatives (DPR) and guarded by the Indonesian "
                "National Armed Forces (TNI)."),
    Sentence(id="p2.s1", text="“Kami siap,” kata juru bicara Kementerian Keuangan Budi Santoso.",
             en='"We are ready," said Finance Ministry spokesman Budi Santoso.'),
    Sentence(id="p2.s2", text="Sekretaris Jenderal NATO Jens Stoltenberg berbicara di Brussel, sementara Rusia "
                              "menolak.", en=None),
    Sentence(id="p3.s1", text="Menurut Mulyani, DPR akan rapat lagi.", en="According to Mulyani, the DPR will meet again."),
]


def test_people_with_roles_merge_surname_mentions():
    people = extract_facts(NEWS, None).people
    assert [(p.name, p.role, p.affiliation, p.sources) for p in people] == [
        ("Sri Mulyani", "Finance Minister", None, ["p1.s1", "p3.s1"]),  # role from the translation
        ("Budi Santoso", "Finance Ministry spokesman", None, ["p2.s1"]),
        ("Jens Stoltenberg", "Secretary General", "NATO", ["p2.s2"]),  # no translation: the title table
    ]
    assert all(p.origin == "rules" for p in people)


def test_role_from_the_title_table_is_the_general_title_in_title_case():
    """Regression: "Menteri Luar Negeri" came out as the US "Secretary Of State"."""
    sentence = Sentence(id="p1.s1", text="Menteri Luar Negeri Rusia Sergei Lavrov menolak tuduhan itu.", en=None)
    people = extract_facts([sentence], None).people
    assert [(p.name, p.role) for p in people] == [("Sergei Lavrov", "Foreign Minister")]


def test_organizations_with_acronym_expansions():
    organizations = extract_facts(NEWS, None).organizations
    assert [(o.name, o.sources) for o in organizations] == [
        ("DPR (House of Representatives)", ["p1.s2", "p3.s1"]),
        ("TNI (Indonesian National Armed Forces)", ["p1.s2"]),  # not again as "Tentara Nasional Indonesia"
        ("Kementerian Keuangan", ["p2.s1"]),  # the spokesman's name is not part of it
        ("NATO", ["p2.s2"]),
    ]
    only_indonesian = [s.model_copy(update={"en": None}) for s in NEWS[1:2]]
    assert [o.name for o in extract_facts(only_indonesian, None).organizations] == [
        "DPR (Dewan Perwakilan Rakyat)", "TNI (Tentara Nasional Indonesia)"]


def test_acronyms_of_common_nouns_are_no_organizations():
    sentences = [Sentence(id="p1.s1", text="Putin tiba di KTT NATO, sementara DPR membahas RUU APBN dan harga BBM.",
                          en="Putin arrived at the NATO summit, while the DPR discussed the budget bill and fuel "
                             "prices.")]
    assert [o.name for o in extract_facts(sentences, None).organizations] == ["NATO", "DPR"]


def test_locations_in_english_where_the_name_differs():
    locations = extract_facts(NEWS, None).locations
    assert [(loc.name, loc.sources) for loc in locations] == [
        ("Jakarta", ["p1.s1"]), ("Brussels", ["p2.s2"]), ("Russia", ["p2.s2"])]


def test_rule_entities_fill_what_the_llm_left_out_and_pass_grounding():
    from summarizer.grounding import check_summary
    from summarizer.schema import Organization, Person

    summary = Summary(headline="Energy subsidies rise", one_line="The government adds energy subsidies.",
                      summary="Finance Minister Sri Mulyani said the government is adding energy subsidies.",
                      people=[Person(name="Sri Mulyani")], organizations=[Organization(name="DPR", sources=["p1.s2"])])
    merged = fill_from_rules(summary, extract_facts(NEWS, None))
    assert [(p.name, p.role, p.origin) for p in merged.people] == [
        ("Sri Mulyani", "Finance Minister", "llm"), ("Budi Santoso", "Finance Ministry spokesman", "rules"),
        ("Jens Stoltenberg", "Secretary General", "rules")]
    assert merged.people[0].sources == ["p1.s1", "p3.s1"]  # the LLM cited nothing: it gets the rules' citations
    assert [o.name for o in merged.organizations] == [
        "DPR", "TNI (Indonesian National Armed Forces)", "Kementerian Keuangan", "NATO"]
    checked, issues = check_summary(merged, NEWS, strict=True)
    assert issues == [] and checked.grounding.dropped == []
