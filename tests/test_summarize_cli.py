"""`summarizer summarize`, the main job, end to end through the real CLI, on both LLM backends.

Tiny random-weight models stand in for real ones (summarizer/models/tiny.py): their words are gibberish, so
these tests check what the product guarantees whatever the model says: every record schema-valid,
every citation a real sentence id, every format rendered from the same records, reruns served from the
cache without loading a model, and the same input giving the same output.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from summarizer.schema import Record

# Our own fixture articles (not from any corpus): one with a quote and numbers, one short.
HARBOUR = """Kapal Bantuan Tiba di Pelabuhan Bitung

BITUNG, Warta Timur – Kapal pembawa 350 ton beras tiba di Pelabuhan Bitung pada Selasa (4/3/2025). Kepala Dinas Sosial Sulawesi Utara, Maria Lumentut, mengatakan bantuan akan dibagikan ke 12 desa.

"Kami mulai membagikan beras besok pagi," kata Maria kepada wartawan.

Baca juga: Cuaca Buruk Tunda Pelayaran

Warga berharap pembagian selesai sebelum akhir bulan.
"""

MARKET = """Pasar Terapung Dibuka Kembali

Pasar terapung di Banjarmasin dibuka kembali setelah renovasi selama 8 bulan. Pemerintah kota menghabiskan Rp 4,5 miliar untuk dermaga baru.
"""

LLAMA_CPP_MISSING = importlib.util.find_spec("llama_cpp") is None
# CI installs the [gguf] extra: there a missing llama_cpp is a failure, not a skip.
needs_llama_cpp = pytest.mark.skipif(LLAMA_CPP_MISSING and not os.environ.get("CI"),
                                     reason="llama-cpp-python not installed (pip install -e '.[gguf]')")


def write_articles(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    (folder / "market.md").write_text(MARKET, encoding="utf-8")
    return folder


def run_summarize(args: list[str], cache: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUMMARIZER_")}
    env.update({"SUMMARIZER_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    return subprocess.run([sys.executable, "-m", "summarizer", "summarize", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


def stable(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("timings", "cache")}


def assert_summary_records(stdout: str) -> list[dict]:
    records = [json.loads(line) for line in stdout.splitlines()]
    assert [Path(r["source"]).name for r in records] == ["harbour.txt", "market.md"]
    for raw in records:
        record = Record.model_validate(raw)  # the published record schema, summary included
        assert record.error is None, record.error
        assert record.models["llm"] and record.models["mt"]
        ids = {sentence.id for sentence in record.sentences}
        summary = record.summary
        assert summary is not None and summary.grounding is not None
        items = [*summary.key_points, *summary.people, *summary.organizations, *summary.locations,
                 *summary.numbers, *summary.dates, *summary.quotes]
        for item in items:
            assert item.sources and set(item.sources) <= ids
    return records


@pytest.fixture(scope="module")
def articles(tmp_path_factory):
    return write_articles(tmp_path_factory.mktemp("articles"))


BACKENDS = [
    pytest.param("transformers", "tiny_qwen2_long_dir", id="transformers"),
    pytest.param("llama.cpp", "tiny_gguf_long_path", id="llama.cpp", marks=needs_llama_cpp),
]


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "llm_fixture"), BACKENDS)
def test_summarize_end_to_end_in_every_format(backend, llm_fixture, articles, tiny_marian_dir, tmp_path, request):
    llm = str(request.getfixturevalue(llm_fixture))
    cache = tmp_path / "cache"
    common = [str(articles), "--mt-model", str(tiny_marian_dir), "--llm", llm, "--backend", backend]

    first = run_summarize(common, cache)
    assert first.returncode == 0, first.stderr
    records = assert_summary_records(first.stdout)
    assert all(r["cache"]["summary"] == "miss" for r in records)

    # Every other format renders the same (now cached) records.
    as_json = run_summarize([*common, "--format", "json"], cache)
    assert as_json.returncode == 0, as_json.stderr
    assert [stable(r) for r in json.loads(as_json.stdout)] == [stable(r) for r in records]
    assert all(r["cache"]["summary"] == "hit" for r in json.loads(as_json.stdout))

    brief = run_summarize([*common, "--format", "md"], cache)
    assert brief.returncode == 0, brief.stderr
    for record in records:
        summary = record["summary"]
        assert f"# {summary['headline'] or record['translation']['title']}" in brief.stdout
        assert f"> {summary['one_line']}" in brief.stdout
        assert f"*Grounding ({summary['grounding']['mode']}): {summary['grounding']['checked']} items checked" \
            in brief.stdout

    text = run_summarize([*common, "--format", "text"], cache)
    assert text.returncode == 0, text.stderr
    for record in records:
        summary = record["summary"]
        for part in (summary["headline"], summary["one_line"], summary["summary"]):
            if part:
                assert part in text.stdout
        for point in summary["key_points"]:
            assert f"- {point['text']}" in text.stdout

    out = tmp_path / "briefs"
    written = run_summarize([*common, "--format", "md", "--out", str(out)], cache)
    assert written.returncode == 0, written.stderr
    index = [json.loads(line) for line in (out / "index.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(entry["id"], entry["source"], entry["error"]) for entry in index] == \
        [(record["id"], record["source"], None) for record in records]
    for entry, record in zip(index, records):
        assert (out / entry["file"]).read_text(encoding="utf-8") in brief.stdout  # the same brief, one per file


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "llm_fixture"), BACKENDS)
def test_same_input_gives_the_same_records_twice(backend, llm_fixture, articles, tiny_marian_dir, tmp_path, request):
    llm = str(request.getfixturevalue(llm_fixture))
    args = [str(articles), "--mt-model", str(tiny_marian_dir), "--llm", llm, "--backend", backend, "--no-cache"]
    first, second = run_summarize(args, tmp_path / "c1"), run_summarize(args, tmp_path / "c2")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert [stable(json.loads(line)) for line in first.stdout.splitlines()] == \
        [stable(json.loads(line)) for line in second.stdout.splitlines()]


@pytest.mark.slow
def test_cached_summary_rerun_loads_no_model_library(articles, tiny_marian_dir, tiny_qwen2_long_dir, tmp_path):
    cache = tmp_path / "cache"
    args = [str(articles), "--mt-model", str(tiny_marian_dir), "--llm", str(tiny_qwen2_long_dir),
            "--backend", "transformers"]
    assert run_summarize(args, cache).returncode == 0
    probe = ("import sys, runpy; sys.argv = ['summarizer', 'summarize', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('summarizer', run_name='__main__')\n"
             "except SystemExit as e:\n    code = e.code\nelse:\n    code = 0\n"
             "loaded = [m for m in ('torch', 'transformers', 'xgrammar', 'llama_cpp') if m in sys.modules]\n"
             "sys.stderr.write('LOADED=%s\\n' % loaded); sys.exit(code)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUMMARIZER_")}
    env.update({"SUMMARIZER_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"})
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "LOADED=[]" in done.stderr


@needs_llama_cpp
def test_gguf_without_llama_cpp_runs_on_transformers_with_a_notice(tmp_path, tiny_gguf_long_path, monkeypatch):
    """auto falls back to transformers when the extra is missing, and says how to get native speed."""
    from summarizer.config import Config
    from summarizer.models import chat_backend, registry, resolve_model

    config = Config(task="summarize", cache_dir=tmp_path / "c", dtype="float32")
    resolved = resolve_model(str(tiny_gguf_long_path), "summary", config)
    assert chat_backend(resolved, config) == "llama.cpp"
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llama_cpp" else real_find_spec(name, *a))
    assert chat_backend(resolved, config) == "transformers"
    monkeypatch.setattr(registry, "_NOTICES_SHOWN", set())
    messages = []
    monkeypatch.setattr(registry, "_notice_once", messages.append)
    model = registry.load_chat_model(resolved, config)
    assert model.backend == "transformers"
    assert messages and "pip install -e '.[gguf]'" in messages[0]


def test_llama_cpp_backend_refuses_a_non_gguf_model(tmp_path, tiny_qwen2_dir):
    from summarizer.config import Config
    from summarizer.errors import UsageError
    from summarizer.models import chat_backend, resolve_model

    config = Config(task="summarize", cache_dir=tmp_path / "c", backend="llama.cpp")
    with pytest.raises(UsageError, match="runs .gguf files"):
        chat_backend(resolve_model(str(tiny_qwen2_dir), "summary", config), config)
