"""Shared test setup: no network, no user cache, deterministic tiny models built locally."""

from __future__ import annotations

import pytest


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
