"""Shared test setup: no network, no user cache, deterministic tiny models built locally."""

from __future__ import annotations

import pytest

from summarizer.models import tiny


@pytest.fixture(scope="session", autouse=True)
def _private_config_home(tmp_path_factory):
    """Never the user's ~/.config (the llama.cpp state key lives there), from the first fixture on: module
    fixtures load models before the per-test environment below is set."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config-home")))
        yield


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Every test gets its own cache dir and a Hugging Face hub that is offline and empty."""
    monkeypatch.setenv("SUMMARIZER_CACHE_DIR", str(tmp_path / "summarizer-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    for name in ("SUMMARIZER_MT_MODEL", "SUMMARIZER_LLM"):
        monkeypatch.delenv(name, raising=False)


# --------------------------------------------------------------------------- tiny models (session-scoped)
# Built once per test session into a temporary directory (a few seconds in all) by summarizer/models/tiny.py.
# Treat them as read-only: every test shares them.


@pytest.fixture(scope="session")
def _tiny_models_root(tmp_path_factory):
    return tmp_path_factory.mktemp("tiny-models")


def _build_offline(builder, *args):
    """Session fixtures run before the per-test autouse env; keep the hub offline while building too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        return builder(*args)


@pytest.fixture(scope="session")
def tiny_marian_dir(_tiny_models_root):
    return _build_offline(tiny.build_marian, _tiny_models_root / "marian")


@pytest.fixture(scope="session")
def tiny_nllb_dir(_tiny_models_root):
    return _build_offline(tiny.build_nllb, _tiny_models_root / "nllb")


@pytest.fixture(scope="session")
def tiny_m2m100_dir(_tiny_models_root):
    return _build_offline(tiny.build_m2m100, _tiny_models_root / "m2m100")


@pytest.fixture(scope="session")
def tiny_qwen2_dir(_tiny_models_root):
    return _build_offline(tiny.build_qwen2, _tiny_models_root / "qwen2")


@pytest.fixture(scope="session")
def tiny_qwen2_long_dir(_tiny_models_root):
    """The tiny Qwen2 with Qwen2.5's 32k context, so the summary prompt fits without patching."""
    return _build_offline(tiny.build_qwen2, _tiny_models_root / "qwen2-long", 32768)


@pytest.fixture(scope="session")
def tiny_gguf_long_path(_tiny_models_root, tiny_qwen2_long_dir):
    return _build_offline(tiny.build_gguf, _tiny_models_root / "gguf-long", tiny_qwen2_long_dir)


@pytest.fixture(scope="session")
def tiny_gguf_path(_tiny_models_root, tiny_qwen2_dir):
    return _build_offline(tiny.build_gguf, _tiny_models_root / "gguf", tiny_qwen2_dir)


@pytest.fixture(scope="session")
def tiny_pickle_only_dir(_tiny_models_root, tiny_qwen2_dir):
    return _build_offline(tiny.build_pickle_only, _tiny_models_root / "pickle-only", tiny_qwen2_dir)


@pytest.fixture(scope="session")
def translated_run(tmp_path_factory, tiny_marian_dir):
    """One cold `summarizer translate` of test_cli.py's two articles with the tiny Marian, per session:
    {"articles": folder, "cache": its cache, "stdout": the records}. Treat it as read-only."""
    from typer.testing import CliRunner

    from summarizer.cli import app
    from test_cli import write_articles

    root = tmp_path_factory.mktemp("translated")
    write_articles(root / "in")
    with pytest.MonkeyPatch.context() as patch:  # session fixtures run before the per-test offline env
        patch.setenv("HF_HUB_OFFLINE", "1")
        result = CliRunner().invoke(app, ["translate", str(root / "in"), "--mt-model", str(tiny_marian_dir),
                                          "--cache-dir", str(root / "cache"), "-q"])
    assert result.exit_code == 0, result.output
    return {"articles": root / "in", "cache": root / "cache", "stdout": result.stdout}


@pytest.fixture
def translated_cache(translated_run, tmp_path, monkeypatch):
    """This test's own copy of that run's cache, as its default cache (results are keyed by the article text,
    not its path): CLI tests about output, files and exit codes rather than translating stay fast."""
    import shutil

    cache = shutil.copytree(translated_run["cache"], tmp_path / "translated-cache")
    monkeypatch.setenv("SUMMARIZER_CACHE_DIR", str(cache))
    return cache
