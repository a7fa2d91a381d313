"""What people and pipes see: headers, file modes, progress and the final line, one-line errors, help text,
`cache stats`, and the README's jq recipes run against real output that includes an error record."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import ARTICLE, SECOND, cli_env, run_cli, write_articles
from typer.testing import CliRunner

from summarizer import __version__
from summarizer.cli import app
from summarizer.config import Config
from summarizer.sources import discover
from summarizer.pipeline import process_article
from summarizer.runtime import Runtime

README = Path(__file__).parent.parent / "README.md"


def test_text_to_stdout_names_each_article_and_md_opens_with_source_and_title(tmp_path, tiny_marian_dir,
                                                                            translated_cache):
    write_articles(tmp_path / "in")
    for fmt, expected in (("TEXT", "==> {source} · {title} <=="), ("Md", "source: `{source}`")):
        result = CliRunner().invoke(app, ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir),
                                          "-f", fmt, "-q"])
        assert result.exit_code == 0, result.output
        for source, title in ((tmp_path / "in" / "artikel_00.txt", ARTICLE.splitlines()[0]),
                              (tmp_path / "in" / "artikel_01.txt", SECOND.splitlines()[0])):
            assert expected.format(source=source, title=title) in result.stdout


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_out_files_follow_the_umask(tmp_path, tiny_marian_dir, translated_cache, umask, mode):
    write_articles(tmp_path / "in", 1)
    previous = os.umask(umask)
    try:
        result = CliRunner().invoke(app, ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir),
                                          "--out", str(tmp_path / "out"), "-q"])
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert {path.stat().st_mode & 0o777 for path in (tmp_path / "out").iterdir()} == {mode}


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"summarizer {__version__}\n"


def test_help_keeps_brackets_and_names_defaults_and_env_vars():
    done = subprocess.run([sys.executable, "-m", "summarizer", "summarize", "--help"], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "200"})
    text = re.sub(r"-\s+", "-", " ".join(done.stdout.split()))  # click wraps at hyphens
    for phrase in ("hub id[@rev]", "[env SUMMARIZER_MT_MODEL; default opus-mt-id-en]", "[env SUMMARIZER_LLM; default",
                   "qwen2.5-1.5b-instruct-q4 when llama-cpp-python is installed, else qwen2.5-1.5b-instruct]",
                   "[env SUMMARIZER_CACHE_DIR; default ./cache]", "[env HF_HUB_OFFLINE=1]"):
        assert phrase in text
    pull = CliRunner().invoke(app, ["models", "pull", "--help"]).stdout
    assert "org/name[@revision]" in " ".join(pull.split())


def test_final_line_counts_articles_failures_and_warnings_and_quiet_silences_stderr(tmp_path, tiny_marian_dir,
                                                                                   translated_cache):
    folder = tmp_path / "in"
    write_articles(folder, 2)
    (folder / "kosong.txt").write_bytes(b"")
    args = ["translate", str(folder), "--mt-model", str(tiny_marian_dir)]
    env = cli_env(translated_cache)
    loud = run_cli(args, env)
    assert loud.returncode == 1
    records = [json.loads(line) for line in loud.stdout.splitlines()]
    warnings = sum(len(r["warnings"]) for r in records)
    final = loud.stderr.splitlines()[-1]
    assert re.fullmatch(rf"summarizer: 3 articles, 1 failed, {warnings} warnings? .*; output: stdout; \d+\.\d s", final)
    quiet = run_cli([*args, "--quiet"], env)
    assert quiet.returncode == 1 and quiet.stderr == ""
    assert [json.loads(line)["id"] for line in quiet.stdout.splitlines()] == [r["id"] for r in records]


def test_error_lines_name_the_file_once_and_are_never_wrapped(tmp_path, tiny_marian_dir):
    missing = tmp_path / ("a-rather-long-directory-name-" * 3) / "missing-article-with-a-long-name.txt"
    done = run_cli(["translate", str(missing), "--mt-model", str(tiny_marian_dir)], cli_env(tmp_path / "c"))
    assert done.returncode == 1
    [error, final] = done.stderr.splitlines()
    assert error.count(str(missing)) == 1 and "no such file" in error and len(error) > 120
    assert final.startswith("summarizer: 1 article, 1 failed")


def test_missing_inputs_are_reported_before_any_model_is_looked_for(tmp_path):
    """No model is resolved (or downloaded) for a run whose inputs do not exist: the user hears about the
    file, not about an unreachable hub."""
    missing = tmp_path / "tidak-ada.txt"
    env = {**cli_env(tmp_path / "c"), "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "0"}
    engines = [["--engine", "local"]] + ([["--engine", "ray"]] if importlib.util.find_spec("ray") else [])
    for engine in engines:  # the Ray engine would resolve the models too, to check its workers' keys
        done = run_cli(["translate", str(missing), "--mt-model", "Helsinki-NLP/opus-mt-id-en", *engine], env)
        assert done.returncode == 1, engine
        [error, final] = done.stderr.splitlines()
        assert "tidak-ada.txt: no such file" in error and "huggingface" not in done.stderr.lower()
        assert final.startswith("summarizer: 1 article, 1 failed")


def test_progress_callback_moves_within_one_article(tmp_path, tiny_marian_dir):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "banjir.txt").write_text(SECOND, encoding="utf-8")  # short: it translates cold
    config = Config(mt_model=str(tiny_marian_dir), cache_dir=tmp_path / "c")
    heard: list[tuple[str, str, int, int]] = []
    runtime = Runtime(config)
    doc = discover([str(tmp_path / "in")])[0]
    try:
        record = process_article(doc, config, runtime, progress=lambda *event: heard.append(event))
    finally:
        runtime.close()
    assert record.error is None and {source for source, *_ in heard} == {doc.source}
    stages = [stage for _, stage, _, _ in heard]
    assert stages[0] == "ingest" and "translate" in stages and stages[-1] == "check"
    sentences = [(done, total) for _, stage, done, total in heard if stage == "translate"]
    total = len(record.sentences) + 1  # and the title
    assert sentences[0] == (0, total) and sentences[-1] == (total, total)


def test_progress_bar_on_request_shows_articles_stage_and_sentences(tmp_path, tiny_marian_dir, translated_cache):
    write_articles(tmp_path / "in", 1)
    done = run_cli(["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir), "--progress"],
                   cli_env(translated_cache))
    assert done.returncode == 0, done.stderr
    assert "1/1 articles" in done.stderr and "artikel_00.txt" in done.stderr and "ETA" in done.stderr
    assert json.loads(done.stdout)["error"] is None  # stdout stays pure data


def test_cached_rerun_does_not_rerun_the_translation_checks(tmp_path, tiny_marian_dir, translated_cache, monkeypatch):
    from summarizer import fidelity

    write_articles(tmp_path / "in")
    args = ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir), "-q"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0

    def refuse(*args, **kwargs):
        raise AssertionError("a cached rerun must reuse the cached check results")

    monkeypatch.setattr(fidelity, "check_translation", refuse)
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert [json.loads(line)["warnings"] for line in second.stdout.splitlines()] == \
        [json.loads(line)["warnings"] for line in first.stdout.splitlines()]


def test_cache_stats_is_a_table_with_json_and_never_creates_the_directory(tmp_path, tiny_marian_dir,
                                                                         translated_cache):
    absent = tmp_path / "absent" / "cache"
    for args in (["cache", "stats"], ["cache", "stats", "--json"], ["cache", "clear"],
                 ["cache", "prune", "--older-than", "1d"]):
        result = CliRunner().invoke(app, [*args, "--cache-dir", str(absent)])
        assert result.exit_code == 0, result.output
    assert not (tmp_path / "absent").exists()
    info = CliRunner().invoke(app, ["models", "info", str(tiny_marian_dir), "--cache-dir", str(absent)])
    assert info.exit_code == 0 and not (tmp_path / "absent").exists()

    write_articles(tmp_path / "in", 1)
    CliRunner().invoke(app, ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir)])
    table = CliRunner().invoke(app, ["cache", "stats", "--cache-dir", str(translated_cache)]).stdout
    assert [line.split()[0] for line in table.splitlines()] == ["directory", "results", "last", "states", "models", "total"]
    assert "{" not in table and "translation 2" in table  # the two articles translated_cache holds
    stats = json.loads(CliRunner().invoke(app, ["cache", "stats", "--json", "--cache-dir", str(translated_cache)]).stdout)
    assert stats["exists"] and stats["entries_per_stage"]["translation"] == 2 and stats["last_run"]["hits"]


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_readme_jq_recipes_survive_error_records(tmp_path, tiny_marian_dir, translated_cache):
    recipes = [line.split("|", 1)[1].split("#")[0].strip() for line in README.read_text().splitlines()
               if line.startswith("summarizer translate articles/ | jq")]
    assert recipes, "the README's translate | jq recipes"
    summarize_recipes = [line for line in README.read_text().splitlines() if line.startswith("summarizer summarize") and "| jq" in line]
    assert summarize_recipes and all("select(.error == null)" in line for line in summarize_recipes)
    folder = tmp_path / "articles"
    write_articles(folder, 2)
    (folder / "kosong.txt").write_bytes(b"")
    output = run_cli(["translate", str(folder), "--mt-model", str(tiny_marian_dir)], cli_env(translated_cache)).stdout
    assert '"error":{"type":"InputError"' in output
    for recipe in recipes:
        done = subprocess.run(["sh", "-c", recipe], input=output, capture_output=True, text=True)
        assert done.returncode == 0, (recipe, done.stderr)
        assert "null" not in done.stdout.split(), recipe


def test_a_missing_gguf_path_is_blamed_before_any_default_model(tmp_path):
    write_articles(tmp_path / "in", 1)
    done = run_cli(["summarize", str(tmp_path / "in"), "--llm", "path/to/model.gguf"], cli_env(tmp_path / "c"))
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "path/to/model.gguf" in line and "opus-mt" not in line


@pytest.mark.parametrize("args", [["translate", "--bogus"], ["translate", "--beams", "x", "a.txt"], ["--bogus"],
                                  ["no-such-command"], ["cache", "prune"]])
def test_usage_errors_are_one_line_on_stderr_with_exit_2(args):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("summarizer: error: "), result.stderr
    assert "--help" in result.stderr


def test_ctrl_c_in_any_command_prints_the_interrupted_line_and_exits_130(monkeypatch):
    import summarizer.cli.cache

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(summarizer.cli.cache, "_open_cache", interrupted)
    result = CliRunner().invoke(app, ["cache", "stats"])
    assert result.exit_code == 130
    assert result.stderr == "summarizer: interrupted; finished articles are kept and cached, rerun to resume\n"


def test_same_named_articles_get_their_own_out_files(tmp_path, tiny_marian_dir, translated_cache):
    """a/x.txt and b/x.txt with the same text share stem and id; neither may overwrite the other, and
    two failing files named alike neither."""
    for folder in ("a", "b"):
        (tmp_path / "in" / folder).mkdir(parents=True)
        (tmp_path / "in" / folder / "x.txt").write_text(ARTICLE, encoding="utf-8")
        (tmp_path / "in" / folder / "bad.txt").write_bytes(b"")
    result = CliRunner().invoke(app, ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir),
                                      "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1
    index = [json.loads(line) for line in (tmp_path / "out" / "index.jsonl").read_text().splitlines()]
    files = [entry["file"] for entry in index]
    assert len(index) == 4 and len(set(files)) == 4
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted([*files, "index.jsonl"])
    for entry in index:
        written = json.loads((tmp_path / "out" / entry["file"]).read_text())
        assert written["source"] == entry["source"]


def test_a_record_is_one_line_whatever_line_breaks_the_article_holds():
    from summarizer.render import record_json
    from summarizer.schema import ErrorInfo, Record

    odd = "a\u2028b\x85c\u2029d"  # JSON keeps these raw; str.splitlines() and many tools break lines there
    record = Record(id=None, source=f"{odd}.txt", error=ErrorInfo(type="InputError", message=odd))
    line = record_json(record)
    assert line.splitlines() == [line]
    assert json.loads(line)["source"] == f"{odd}.txt" and json.loads(line)["error"]["message"] == odd
