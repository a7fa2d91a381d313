"""The command line end to end, with tiny local models: records, exit codes, piping, --out, the cache,
interruption and concurrency. Real subprocesses where the behaviour is about processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.cli import app

ARTICLE = """Pasukan Perdamaian Tiba di Kota Pelabuhan

SURABAYA, Kabarbaru.id – Sebanyak 1.200 personel pasukan perdamaian tiba di pelabuhan pada Senin (12/5/2025). Komandan Budi Santoso mengatakan pasukan akan bertugas selama enam bulan.

Baca juga: Harga Beras Naik di Pasar Tradisional

“Kami siap menjaga keamanan warga,” kata Budi kepada wartawan.

Share
"""

SECOND = """Banjir Merendam Ratusan Rumah

Banjir merendam ratusan rumah di Kabupaten Bandung. Ketinggian air mencapai 1,5 meter di beberapa titik.
"""


def write_articles(folder: Path, count: int = 2) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    texts = [ARTICLE, SECOND]
    paths = []
    for i in range(count):
        path = folder / f"artikel_{i:02d}.txt"
        body = texts[i % 2] if i < 2 else texts[i % 2].replace("Bandung", f"Bandung {i}")
        path.write_text(body, encoding="utf-8")
        paths.append(path)
    return paths


def cli_env(cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUMMARIZER_")}
    env.update({"SUMMARIZER_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1", **extra})
    return env


def run_cli(args: list[str], env: dict[str, str], stdin: str | None = None, timeout: float = 300):
    return subprocess.run([sys.executable, "-m", "summarizer", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=timeout)


def stable(record: dict) -> dict:
    """A record without what legitimately differs between runs (timings, cache status)."""
    return {k: v for k, v in record.items() if k not in ("timings", "cache")}


# ----------------------------------------------------------------------------- in-process (CliRunner)


def test_translate_emits_one_valid_record_per_article(translated_run):
    """The cold run that translated_run made (CliRunner, tiny Marian, fresh cache)."""
    from summarizer.schema import Record

    records = [Record.model_validate_json(line) for line in translated_run["stdout"].splitlines()]
    assert [Path(r.source).name for r in records] == ["artikel_00.txt", "artikel_01.txt"]
    first = records[0]
    assert first.title == "Pasukan Perdamaian Tiba di Kota Pelabuhan"
    assert first.dateline and first.dateline.place == "SURABAYA"
    assert {r.reason for r in first.removed} >= {"cross-link", "share-buttons"}
    assert all(s.en is not None for s in first.sentences)
    assert first.translation and first.translation.text.count("\n\n") == len(first.paragraphs) - 1
    assert [sid for p in first.paragraphs for sid in p] == [s.id for s in first.sentences]
    assert first.error is None and first.models["mt"] and first.cache["translation"] == "miss"
    assert set(first.timings) >= {"ingest", "segment", "translate", "check"}


def test_bad_inputs_get_error_records_and_exit_1(tmp_path, tiny_marian_dir, translated_cache):
    folder = tmp_path / "in"
    write_articles(folder, 1)
    (folder / "kosong.txt").write_bytes(b"")
    (folder / "gambar.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    result = CliRunner().invoke(app, ["translate", str(folder), "--mt-model", str(tiny_marian_dir)])
    assert result.exit_code == 1
    records = {Path(r["source"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    assert records["artikel_00.txt"]["error"] is None
    assert records["kosong.txt"]["error"]["type"] == "InputError"
    assert records["gambar.txt"]["error"]["type"] == "InputError"
    assert "Traceback" not in result.stderr


def test_unknown_format_is_a_usage_error(tmp_path):
    write_articles(tmp_path / "in", 1)
    result = CliRunner().invoke(app, ["translate", str(tmp_path / "in"), "--format", "xml"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "--format" in result.stderr


def test_out_dir_gets_one_file_per_article_and_an_index(tmp_path, tiny_marian_dir, translated_cache):
    write_articles(tmp_path / "in")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir),
                                      "--format", "md", "--out", str(out)])
    assert result.exit_code == 0, result.output
    index = [json.loads(line) for line in (out / "index.jsonl").read_text().splitlines()]
    assert len(index) == 2 and all((out / entry["file"]).is_file() for entry in index)
    assert all(entry["file"].endswith(".md") for entry in index)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left behind
    assert (out / index[0]["file"]).read_text().startswith("# ")


@pytest.mark.parametrize("fmt", ["json", "md", "text"])
def test_other_formats_render(tmp_path, tiny_marian_dir, translated_cache, fmt):
    """Every format carries the content of the JSON Lines records."""
    write_articles(tmp_path / "in")
    args = ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir), "-q"]
    records = [json.loads(line) for line in CliRunner().invoke(app, args).stdout.splitlines()]
    result = CliRunner().invoke(app, [*args, "--format", fmt])
    assert result.exit_code == 0, result.output
    if fmt == "json":
        assert [stable(r) for r in json.loads(result.stdout)] == [stable(r) for r in records]
        return
    for record in records:
        translation = record["translation"]
        assert translation["title"] and translation["text"] in result.stdout
        if fmt == "md":
            assert f"# {translation['title']}\n\n" in result.stdout and f"source: `{record['source']}`" in result.stdout
        else:
            assert f"==> {record['source']} · {record['title']} <==\n\n{translation['title']}\n\n" in result.stdout


def test_cached_rerun_never_constructs_a_model(translated_run, translated_cache, tiny_marian_dir, monkeypatch):
    """A rerun of translated_run's cold run over a copy of its cache: no model, the same records."""
    import summarizer.models as models

    def refuse(*a, **k):
        raise AssertionError("a cached rerun must not load a model")

    monkeypatch.setattr(models, "load_translator", refuse)
    monkeypatch.setattr(models, "load_chat_model", refuse)
    rerun = CliRunner().invoke(app, ["translate", str(translated_run["articles"]), "--mt-model", str(tiny_marian_dir)])
    assert rerun.exit_code == 0, rerun.output
    records = [json.loads(line) for line in rerun.stdout.splitlines()]
    assert all(r["cache"]["translation"] == "hit" for r in records)
    assert [stable(r) for r in records] == [stable(json.loads(line)) for line in translated_run["stdout"].splitlines()]


@pytest.mark.slow
def test_no_cache_and_refresh(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in", 1)
    base = ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir)]
    CliRunner().invoke(app, base)
    no_cache = json.loads(CliRunner().invoke(app, [*base, "--no-cache"]).stdout)
    refresh = json.loads(CliRunner().invoke(app, [*base, "--refresh"]).stdout)
    assert no_cache["cache"]["translation"] == "miss" and refresh["cache"]["translation"] == "miss"


@pytest.mark.slow  # stats, clear and prune on the CLI: test_cli_output.py (fast); their logic: test_cache.py
def test_cache_commands(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in", 1)
    cache = tmp_path / "cache"
    CliRunner().invoke(app, ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir),
                             "--cache-dir", str(cache)])
    stats = json.loads(CliRunner().invoke(app, ["cache", "stats", "--json", "--cache-dir", str(cache)]).stdout)
    assert stats["entries"] > 0 and stats["last_run"]["misses"]
    pruned = CliRunner().invoke(app, ["cache", "prune", "--older-than", "30d", "--cache-dir", str(cache)])
    assert "removed 0" in pruned.stdout
    bad_age = CliRunner().invoke(app, ["cache", "prune", "--older-than", "soon", "--cache-dir", str(cache)])
    assert bad_age.exit_code == 2
    cleared = CliRunner().invoke(app, ["cache", "clear", "--cache-dir", str(cache)])
    assert cleared.exit_code == 0
    stats = json.loads(CliRunner().invoke(app, ["cache", "stats", "--json", "--cache-dir", str(cache)]).stdout)
    assert stats["entries"] == 0


def test_schema_command_prints_json_schema():
    result = CliRunner().invoke(app, ["schema"])
    schema = json.loads(result.stdout)
    assert {"headline", "one_line", "key_points", "quotes", "publication"} <= set(schema["properties"])


# ----------------------------------------------------------------------------- real subprocesses


def test_help_does_not_import_torch():
    code = "import sys; from summarizer.cli import app; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    assert subprocess.run([sys.executable, "-m", "summarizer", "--help"], capture_output=True).returncode == 0


@pytest.mark.slow
def test_stdin_to_stdout_pipe(tmp_path, tiny_marian_dir):
    done = run_cli(["translate", "--mt-model", str(tiny_marian_dir)], cli_env(tmp_path / "c"), stdin=SECOND)
    assert done.returncode == 0, done.stderr
    [record] = [json.loads(line) for line in done.stdout.splitlines()]
    assert record["source"] == "-" and record["title"] == "Banjir Merendam Ratusan Rumah"


def test_missing_model_offline_fails_fast_with_one_line(tmp_path):
    write_articles(tmp_path / "in", 1)
    done = run_cli(["translate", str(tmp_path / "in")], cli_env(tmp_path / "c", HF_HOME=str(tmp_path / "hf")))
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert "opus-mt-id-en" in line and "models pull" in line


@pytest.mark.slow
def test_cached_rerun_does_not_import_torch(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in")
    env = cli_env(tmp_path / "c")
    args = ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir)]
    assert run_cli(args, env).returncode == 0
    probe = ("import sys, runpy; sys.argv = ['summarizer', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('summarizer', run_name='__main__')\n"
             "except SystemExit as e:\n    code = e.code\nelse:\n    code = 0\n"
             "sys.stderr.write('TORCH=%s\\n' % ('torch' in sys.modules)); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "TORCH=False" in done.stderr


@pytest.mark.slow
def test_interrupted_batch_resumes_to_the_same_output(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in", 8)
    args = ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir)]
    reference = run_cli(args, cli_env(tmp_path / "reference-cache"))
    assert reference.returncode == 0, reference.stderr

    env = cli_env(tmp_path / "c")
    process = subprocess.Popen([sys.executable, "-m", "summarizer", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=env)
    assert process.stdout is not None
    process.stdout.readline()  # the first article is done (and cached): kill the batch mid-way
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)

    resumed = run_cli(args, env)
    assert resumed.returncode == 0, resumed.stderr
    resumed_records = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert resumed_records[0]["cache"]["translation"] == "hit"
    assert [stable(r) for r in resumed_records] == [stable(json.loads(line)) for line in reference.stdout.splitlines()]


@pytest.mark.slow
def test_two_processes_share_one_cache(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in", 6)
    args = ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir)]
    env = cli_env(tmp_path / "shared-cache")
    procs = [subprocess.Popen([sys.executable, "-m", "summarizer", *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    first, second = ([stable(json.loads(line)) for line in out.splitlines()] for out, _ in outputs)
    assert first == second and len(first) == 6


@pytest.mark.slow
def test_corrupt_cache_warns_and_still_gives_correct_output(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in", 1)
    args = ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir)]
    good = run_cli(args, cli_env(tmp_path / "good"))
    cache = tmp_path / "broken"
    cache.mkdir()
    (cache / "cache.db").write_bytes(b"garbage" * 1000)
    done = run_cli(args, cli_env(cache))
    assert done.returncode == 0
    assert "warning" in done.stderr and "Traceback" not in done.stderr
    assert stable(json.loads(done.stdout)) == stable(json.loads(good.stdout))
