"""`summarizer eval`: reading test sets, scoring through sacrebleu, fidelity rates, the report and the
command's options. The tiny random Marian model makes scores ~0, so the tests check plumbing and that our
numbers are exactly sacrebleu's, never translation quality."""

from __future__ import annotations

import json

import pytest
import sacrebleu
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.config import Config
from summarizer.errors import UsageError
from summarizer.eval_sets import EvalDocument, EvalSet, read_documents, read_line_pairs
from summarizer.evaluate import evaluate, fidelity

SOURCES = [
    "Hujan deras turun sejak pagi.",
    "Pasar itu memiliki 150 kios baru.",
    "Warga menunggu di halte.",
]
REFERENCES = [
    "Heavy rain has fallen since the morning.",
    "The market has 150 new stalls.",
    "Residents waited at the bus stop.",
]


def run_eval(*args: str):
    return CliRunner().invoke(app, ["eval", *args])


@pytest.fixture
def line_files(tmp_path):
    src, ref = tmp_path / "src.id", tmp_path / "ref.en"
    src.write_text("\n".join(SOURCES) + "\n", encoding="utf-8")
    ref.write_text("\n".join(REFERENCES) + "\n", encoding="utf-8")
    return src, ref


@pytest.fixture
def docs_file(tmp_path):
    path = tmp_path / "docs.jsonl"
    documents = [
        {"doc_id": "first", "ind_sentences": SOURCES[:2], "eng_sentences": REFERENCES[:2]},
        {"doc_id": "second", "ind_sentences": SOURCES[2:], "eng_sentences": REFERENCES[2:]},
    ]
    path.write_text("".join(json.dumps(d) + "\n" for d in documents), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- reading test sets (no model)


def test_misaligned_line_files_are_a_usage_error(tmp_path, line_files):
    src, _ = line_files
    short = tmp_path / "short.en"
    short.write_text("Only one line.\n", encoding="utf-8")
    with pytest.raises(UsageError, match="has 3 lines but --ref .* has 1"):
        read_line_pairs(src, short)
    result = run_eval("--src", str(src), "--ref", str(short))
    assert result.exit_code == 2
    assert "line-aligned" in result.output


def test_limit_keeps_the_first_lines_or_documents(line_files, docs_file):
    src, ref = line_files
    lines = read_line_pairs(src, ref, limit=2)
    assert [d.sources for d in lines.documents] == [[SOURCES[0]], [SOURCES[1]]]
    documents = read_documents(docs_file, limit=1)
    assert [d.doc_id for d in documents.documents] == ["first"]
    assert documents.sentence_count == 2 and documents.description["documents_in_file"] == 2


@pytest.mark.parametrize("line", [
    "not json",
    json.dumps({"ind_sentences": ["a"]}),
    json.dumps({"ind_sentences": ["a", "b"], "eng_sentences": ["a"]}),
    json.dumps({"ind_sentences": "a", "eng_sentences": "b"}),
])
def test_bad_document_records_are_usage_errors(tmp_path, line):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match="line 1"):
        read_documents(path)


def test_test_set_options_must_be_one_set(line_files, docs_file):
    src, ref = line_files
    assert run_eval("--src", str(src)).exit_code == 2
    combined = run_eval("--src", str(src), "--ref", str(ref), "--docs", str(docs_file))
    assert combined.exit_code == 2 and "cannot be combined" in combined.output
    missing = run_eval("--src", str(src), "--ref", str(src.with_name("absent.en")))
    assert missing.exit_code == 2 and "cannot read --ref" in missing.output


def test_fidelity_counts_warning_codes_and_preserved_numbers():
    sources = ["Sebanyak 1.200 orang hadir di acara itu.", "Harga beras naik 5 persen minggu ini.",
               "Hujan deras turun sejak pagi hari ini."]
    hypotheses = ["As many as 1,200 people attended the event.", "The price of rice rose this week.",
                  "Heavy rain has fallen since this morning."]
    dataset = EvalSet("lines", [EvalDocument(f"line{n}", [s], ["-"]) for n, s in enumerate(sources, 1)])
    report = fidelity(dataset, [[h] for h in hypotheses], [[[]], [["degenerate:loop"]], [[]]])
    assert report["sentences"] == 3
    assert report["sentences_with_numbers"] == 2
    assert report["numbers_preserved_rate"] == pytest.approx(0.5)
    assert report["issue_counts"]["number-missing"] == 1
    assert report["issue_rates"]["number-missing"] == pytest.approx(1 / 3)
    assert report["issue_counts"]["degenerate-output"] == 1  # engine flags count like the product's warnings


# --------------------------------------------------------------------------- with the tiny Marian model


def test_line_eval_report_matches_a_direct_sacrebleu_call(tmp_path, line_files, tiny_marian_dir):
    src, ref = line_files
    report_path, hypotheses_path = tmp_path / "report.json", tmp_path / "hyp.en"
    result = run_eval("--src", str(src), "--ref", str(ref), "--mt-model", str(tiny_marian_dir),
                      "--cache-dir", str(tmp_path / "cache"), "--threads", "1",
                      "--json", str(report_path), "--translations", str(hypotheses_path))
    assert result.exit_code == 0, result.output
    assert "BLEU signature: nrefs:1" in result.stdout and "chrF signature" in result.stdout

    report = json.loads(report_path.read_text(encoding="utf-8"))
    hypotheses = hypotheses_path.read_text(encoding="utf-8").splitlines()
    assert len(hypotheses) == len(REFERENCES)
    scores = report["scores"]["sentence"]
    assert scores["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hypotheses, [REFERENCES]).score)
    assert scores["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hypotheses, [REFERENCES]).score)
    assert scores["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    assert report["scores"]["document"] is None
    assert report["dataset"] == {"mode": "lines", "src": str(src), "ref": str(ref), "lines_in_files": 3,
                                 "documents": 3, "sentences": 3}
    assert report["model"]["architecture"] == "seq2seq" and report["model"]["threads"] == 1
    assert report["model"]["fingerprint"].startswith("sha256:")
    assert report["fidelity"]["sentences"] == 3 and report["fidelity"]["sentences_with_numbers"] == 1
    speed = report["speed"]
    assert speed["translated_sentences"] == 3 and speed["cached_sentences"] == 0
    assert speed["source_tokens"] > 0 and speed["source_tokens_per_second"] > 0

    # A rerun is served by the same sentence cache the product uses: same translations, nothing timed.
    again = run_eval("--src", str(src), "--ref", str(ref), "--mt-model", str(tiny_marian_dir),
                     "--cache-dir", str(tmp_path / "cache"), "--threads", "1", "--format", "json")
    assert again.exit_code == 0, again.output
    cached = json.loads(again.stdout)
    assert cached["speed"]["cached_sentences"] == 3 and cached["speed"]["sentences_per_second"] is None
    assert cached["scores"] == report["scores"]


def test_document_eval_scores_sentences_and_documents_in_order(tiny_marian_dir, docs_file):
    dataset = read_documents(docs_file)
    result = evaluate(dataset, Config(mt_model=str(tiny_marian_dir), threads=1, use_cache=False))
    assert [len(doc) for doc in result.hypotheses] == [2, 1]
    joined = [" ".join(doc) for doc in result.hypotheses]
    document_scores = result.report["scores"]["document"]
    references = [" ".join(REFERENCES[:2]), REFERENCES[2]]
    assert document_scores["segments"] == 2
    assert document_scores["chrf"] == pytest.approx(sacrebleu.corpus_chrf(joined, [references]).score)
    flat = [h for doc in result.hypotheses for h in doc]
    assert result.report["scores"]["sentence"]["bleu"] == pytest.approx(sacrebleu.corpus_bleu(flat, [REFERENCES]).score)
    assert result.report["dataset"]["documents"] == 2 and result.report["dataset"]["sentences"] == 3


def test_baseline_translates_naively_with_the_same_model(tmp_path, line_files, tiny_marian_dir):
    src, ref = line_files
    report_path = tmp_path / "report.json"
    result = run_eval("--src", str(src), "--ref", str(ref), "--mt-model", str(tiny_marian_dir), "--no-cache",
                      "--threads", "1", "--baseline", "--json", str(report_path))
    assert result.exit_code == 0, result.output
    assert "pipeline vs naive same-model baseline" in result.stdout
    report = json.loads(report_path.read_text(encoding="utf-8"))
    baseline = report["baseline"]
    assert baseline["prompt"] is None  # a seq2seq model gets the sentence itself
    assert baseline["scores"]["sentence"]["segments"] == 3 and baseline["fidelity"]["sentences"] == 3
    assert set(baseline["hygiene"]) == set(report["hygiene"]) == {"with_line_break", "with_commentary"}


def test_hygiene_counts_line_breaks_and_commentary():
    from summarizer.evaluate import hygiene

    dataset = EvalSet("lines", [EvalDocument(f"line{n}", [s], ["-"]) for n, s in enumerate(SOURCES, 1)])
    outputs = [["Here is the translation:\n\nHeavy rain."], ["The market has 150 new stalls."],
               ["Residents waited.\nAt the stop."]]
    assert hygiene(dataset, outputs) == {"with_line_break": 2, "with_commentary": 1}


@pytest.mark.slow
def test_llm_baseline_uses_the_plain_request(tiny_qwen2_dir):
    dataset = EvalSet("lines", [EvalDocument("line1", SOURCES[:1], REFERENCES[:1])])
    result = evaluate(dataset, Config(mt_model=str(tiny_qwen2_dir), threads=1, use_cache=False), baseline=True)
    baseline = result.report["baseline"]
    assert baseline["prompt"].startswith("Translate the following Indonesian text into English")
    assert baseline["scores"]["sentence"]["segments"] == 1
    assert "\n" not in result.hypotheses[0][0]  # the pipeline's own output is one line
