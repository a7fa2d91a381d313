"""`summarizer models list|info|pull` through Typer's CliRunner on the app."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.errors import ModelNotFoundError, SetupError, UsageError
from summarizer.models import PRESETS
from summarizer.models.resolve import hub_cache_dir
from summarizer.models.tiny import install_in_hub_cache

COMMIT = "fedcba9876543210fedcba9876543210fedcba98"


def run(*args: str):
    """`summarizer models ARGS`; SUMMARIZER_DEBUG lets the typed error through to `result.exception`."""
    return CliRunner().invoke(app, ["models", *args], env={"SUMMARIZER_DEBUG": "1"})


def test_list_shows_every_preset_and_whether_it_is_here(tiny_marian_dir):
    result = run("list", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert set(rows) == set(PRESETS)
    assert not any(row["local"] for row in rows.values())
    assert rows["nllb-200-distilled-600m"]["licence"] == "CC-BY-NC-4.0"
    assert rows["qwen2.5-1.5b-instruct"]["revision"] == PRESETS["qwen2.5-1.5b-instruct"].revision

    install_in_hub_cache(tiny_marian_dir, "Helsinki-NLP/opus-mt-id-en", COMMIT, hub_cache_dir(),
                         refs=(PRESETS["opus-mt-id-en"].revision,))
    rows = {row["name"]: row for row in json.loads(run("list", "--json").output)}
    assert rows["opus-mt-id-en"]["local"] and not rows["m2m100-418m"]["local"]


def test_list_table_fits_80_columns_and_shows_licences_and_sources():
    result = run("list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    for word in ("licence", "local", "opus-mt-id-en", "Qwen/Qwen2.5-3B-Instruct", "CC-BY-NC-4.0", "Qwen Research License",
                 "Qwen/Qwen2.5-1.5B-Instruct-GGUF@91cad51170 (GGUF)", "default for translation", "default for summary"):
        assert word in result.output
    assert all(name in result.output for name in PRESETS)


def test_info_on_a_missing_preset_says_how_to_get_it():
    result = run("info", "nllb-200-1.3b")
    assert result.exit_code == 0
    assert "facebook/nllb-200-1.3B" in result.output and "CC-BY-NC-4.0" in result.output
    assert "local: False" in result.output and "summarizer models pull nllb-200-1.3b" in result.output


def test_info_on_a_local_directory_and_a_gguf(tiny_nllb_dir, tiny_gguf_path):
    details = json.loads(run("info", str(tiny_nllb_dir), "--json").output)
    assert details["kind"] == "local" and details["architecture"] == "seq2seq"
    assert details["settings"] == {"src_lang": "ind_Latn", "tgt_lang": "eng_Latn"}
    assert details["fingerprint"].startswith("sha256:")
    assert {f["name"] for f in details["files"]} >= {"config.json", "model.safetensors", "tokenizer.json"}
    text = run("info", str(tiny_gguf_path)).output
    assert "kind: gguf" in text and "tiny-qwen2.gguf" in text


def test_info_on_an_installed_preset_shows_the_commit(tiny_qwen2_dir):
    revision = PRESETS["qwen2.5-0.5b-instruct"].revision
    install_in_hub_cache(tiny_qwen2_dir, "Qwen/Qwen2.5-0.5B-Instruct", revision, hub_cache_dir())
    details = json.loads(run("info", "qwen2.5-0.5b-instruct", "--json").output)
    assert details["local"] and details["revision"] == revision
    assert details["fingerprint"] == f"Qwen/Qwen2.5-0.5B-Instruct@{revision}"


def test_info_errors_are_typed():
    assert isinstance(run("info", "qwen-tiny").exception, UsageError)
    assert isinstance(run("info", "acme/not-downloaded").exception, ModelNotFoundError)


def test_pull_offline_fails_fast_with_exit_code_2():
    result = run("pull", "opus-mt-id-en")
    assert isinstance(result.exception, SetupError) and result.exception.exit_code == 2
    assert "HF_HUB_OFFLINE" in result.exception.one_line()


def test_pull_with_an_unreachable_hub_fails_fast(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # frozen at its import
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    result = run("pull", "acme/model@v1")
    assert isinstance(result.exception, SetupError) and result.exception.exit_code == 2
    assert "unreachable" in result.exception.one_line()


@pytest.mark.parametrize("spec", ["./some/dir", "not a model"])
def test_pull_takes_only_presets_and_hub_ids(spec):
    assert isinstance(run("pull", spec).exception, UsageError)
