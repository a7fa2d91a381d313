"""First run on a connected machine: models arrive on first use from a hub endpoint, and only then.

A real HTTP server on 127.0.0.1 (tests/hub_server.py) serves the tiny test models in the hub's layout;
HF_ENDPOINT points the product at it, so huggingface_hub's real download path runs end to end. The server
records every request, which is how "does not touch the network" is checked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hub_server import HubServer, Repo, repo_from_dir
from test_cli import stable
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.defaults import DEFAULT_LLM_TRANSFORMERS, DEFAULT_MT_MODEL
from summarizer.models import PRESETS

ARTICLE = """Banjir Merendam Ratusan Rumah

Banjir merendam ratusan rumah di Kabupaten Bandung pada Senin. Ketinggian air mencapai 1,5 meter.
"""
MT_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def hub_repos(marian: Path, qwen2: Path) -> dict[str, Repo]:
    """The default translation and summary presets, as a hub would serve them (tiny weights inside)."""
    mt, llm = PRESETS[DEFAULT_MT_MODEL], PRESETS[DEFAULT_LLM_TRANSFORMERS]
    return {
        mt.repo_id: repo_from_dir(marian, MT_COMMIT, refs={mt.revision: MT_COMMIT}),
        llm.repo_id: repo_from_dir(qwen2, llm.revision),
    }


def online_env(tmp_path: Path, endpoint: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SUMMARIZER_", "HF_")) and k != "TRANSFORMERS_OFFLINE"}
    env.update(SUMMARIZER_CACHE_DIR=str(tmp_path / "cache"), HF_HOME=str(tmp_path / "hf"),
               HF_ENDPOINT=endpoint, SUMMARIZER_LLM=DEFAULT_LLM_TRANSFORMERS, **extra)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "summarizer", *args], input=ARTICLE, capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=timeout)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_first_run_downloads_with_a_notice_then_later_runs_stay_offline(tmp_path, tiny_marian_dir, tiny_qwen2_dir):
    """`summarize` fetches both default models, then works offline. A whole summary from the random tiny
    LLM takes minutes on a busy machine (412 s measured), so the summarising run gets an empty article:
    the models are resolved, downloaded and checked before any article is read, and the translation
    path runs end to end on a real one."""
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "kosong.txt").write_text("")
    with HubServer(hub_repos(tiny_marian_dir, tiny_qwen2_dir)) as hub:
        env = online_env(tmp_path, hub.url)
        first = run(["summarize", "articles"], env, tmp_path)
        assert first.returncode == 1, first.stderr  # models ready; the empty article is an item error
        notices = [line for line in first.stderr.splitlines() if "downloading" in line]
        assert len(notices) == 2, first.stderr
        assert "opus-mt-id-en" in notices[0] and "Apache-2.0" in notices[0] and "KB" in notices[0]
        assert DEFAULT_LLM_TRANSFORMERS in notices[1] and str(tmp_path / "hf") in notices[1]
        assert any(path.endswith("model.safetensors") for _, path in hub.requests)
        assert not any(path.endswith((".bin", "README.md")) for _, path in hub.requests)

        hub.requests.clear()
        translated = run(["translate", "-q"], env, tmp_path)
        assert translated.returncode == 0, translated.stderr
        assert json.loads(translated.stdout)["translation"]["text"]
        reloaded = run(["translate", "-q", "--refresh"], env, tmp_path)  # loads the model again, from disk
        assert reloaded.returncode == 0
        assert stable(json.loads(reloaded.stdout)) == stable(json.loads(translated.stdout))
        assert "downloading" not in translated.stderr + reloaded.stderr
        assert hub.requests == []


@pytest.mark.slow
def test_offline_flag_never_touches_the_network(tmp_path, tiny_marian_dir, tiny_qwen2_dir):
    with HubServer(hub_repos(tiny_marian_dir, tiny_qwen2_dir)) as hub:
        done = run(["translate", "--offline"], online_env(tmp_path, hub.url), tmp_path)
        assert hub.requests == []
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert "offline" in line and "summarizer models pull opus-mt-id-en" in line


def test_hf_hub_offline_with_an_empty_hub_cache_exits_2_with_one_line(tmp_path):
    done = run(["summarize"], online_env(tmp_path, f"http://127.0.0.1:{closed_port()}", HF_HUB_OFFLINE="1"),
               tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert "models pull" in line and "Traceback" not in done.stderr


def test_refused_connection_exits_2_with_one_line_within_15_s(tmp_path):
    start = time.monotonic()
    done = run(["translate"], online_env(tmp_path, f"http://127.0.0.1:{closed_port()}"), tmp_path, timeout=60)
    assert time.monotonic() - start < 15
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert "unreachable" in line and "refused" in line.lower()


@pytest.mark.slow
def test_a_hub_that_never_answers_exits_2_with_one_line_within_15_s(tmp_path):
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        start = time.monotonic()
        done = run(["translate"], online_env(tmp_path, f"http://127.0.0.1:{silent.getsockname()[1]}"), tmp_path,
                   timeout=60)
        assert time.monotonic() - start < 15
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "unreachable" in line and "timed out" in line.lower()


def test_unknown_hub_repo_exits_2_with_one_line(tmp_path):
    with HubServer({}) as hub:
        done = run(["translate", "--mt-model", "acme/no-such-model"], online_env(tmp_path, hub.url), tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "acme/no-such-model" in line and "not found" in line


# ----------------------------------------------------------------------------- models pull of a GGUF preset


@pytest.fixture
def gguf_hub(tmp_path, monkeypatch, tiny_gguf_path):
    """A GGUF preset whose published file is the tiny GGUF, served by a local hub; network allowed."""
    import huggingface_hub.constants

    data = tiny_gguf_path.read_bytes()
    original = PRESETS["qwen2.5-coder-0.5b-instruct-q4"]
    preset = dataclasses.replace(original, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    monkeypatch.setitem(PRESETS, preset.name, preset)
    repo = Repo(commit=preset.revision, files={preset.gguf_file: data, "README.md": b"card"})
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # frozen at its import
    with HubServer({preset.repo_id: repo}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        yield hub, preset, repo


def test_pull_of_a_gguf_preset_fetches_one_file_and_checks_its_sha256(gguf_hub):
    from summarizer.config import Config
    from summarizer.models.resolve import resolve_spec

    hub, preset, _ = gguf_hub
    result = CliRunner().invoke(app, ["models", "pull", preset.name])
    assert result.exit_code == 0, result.output
    assert "SHA-256 verified" in result.stdout
    fetched = {path.split("?")[0].rsplit("/", 1)[-1] for method, path in hub.requests if method == "GET"}
    assert preset.gguf_file in fetched and "README.md" not in fetched
    resolved = resolve_spec(preset.name, Config())
    assert resolved.kind == "gguf" and resolved.gguf_file == preset.gguf_file and resolved.revision == preset.revision
    assert (Path(resolved.location) / preset.gguf_file).is_file()
    assert resolved.display == preset.name

    hub.requests.clear()  # pulling again only re-checks the file on disk
    again = CliRunner().invoke(app, ["models", "pull", preset.name])
    assert again.exit_code == 0 and hub.requests == []


def test_pull_refuses_and_deletes_a_gguf_whose_sha256_differs(gguf_hub):
    from summarizer.models.resolve import find_hub_snapshot

    _, preset, repo = gguf_hub
    repo.files[preset.gguf_file] = repo.files[preset.gguf_file][:-1] + b"\x00"  # corrupted in transit
    result = CliRunner().invoke(app, ["models", "pull", preset.name])
    error = result.stderr.splitlines()[-1]  # after the download notice
    assert result.exit_code == 2 and error.startswith("summarizer: error: ")
    assert "SHA-256" in error and "deleted" in error
    assert find_hub_snapshot(preset.repo_id, preset.revision, preset.gguf_file) is None
