"""The result cache: key derivation, hits and misses, refresh, maintenance, corruption recovery."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from summarizer.cache import TAG_NAME, TAG_TEXT, ResultCache, cache_key
from summarizer.errors import CacheError


def test_key_is_stable_and_every_ingredient_matters():
    base = ("sentence", "engine1", ["model@abc", "seq2seq", "float32"], "Kalimat sumber.")
    assert cache_key(*base) == cache_key(*base)
    variants = [
        ("summary", *base[1:]),
        ("sentence", "engine2", *base[2:]),
        ("sentence", "engine1", ["model@abd", "seq2seq", "float32"], base[3]),
        ("sentence", "engine1", ["model@abc", "seq2seq", "bfloat16"], base[3]),
        ("sentence", "engine1", base[2], "Kalimat sumber!"),
    ]
    keys = {cache_key(*v) for v in variants}
    assert len(keys) == len(variants) and cache_key(*base) not in keys


def test_key_ignores_dict_ordering():
    assert cache_key("s", {"a": 1, "b": 2}) == cache_key("s", {"b": 2, "a": 1})


def test_get_set_and_counts(tmp_path):
    cache = ResultCache(tmp_path / "c")
    key = cache_key("translation", "x")
    assert cache.get(key) is None
    cache.set(key, {"en": "text"})
    assert cache.get(key) == {"en": "text"}
    assert cache.hits["translation"] == 1 and cache.misses["translation"] == 1
    cache.close()
    reopened = ResultCache(tmp_path / "c")
    stats = reopened.stats()
    assert stats["entries"] == 1 and stats["entries_per_stage"] == {"translation": 1}
    assert stats["last_run"]["hits"] == {"translation": 1}
    reopened.close()


def test_values_are_stored_as_json_not_pickles(tmp_path):
    import diskcache

    cache = ResultCache(tmp_path / "c")
    cache.set(cache_key("translation", "x"), {"en": "text"})
    cache.close()
    raw = diskcache.Cache(str(tmp_path / "c"))
    [key] = [k for k in raw.iterkeys()]
    assert isinstance(raw.get(key), str) and json.loads(raw.get(key))["v"] == {"en": "text"}
    raw.close()


def test_disabled_cache_neither_reads_nor_writes(tmp_path):
    cache = ResultCache(tmp_path / "c", enabled=False)
    cache.set("translation:k", 1)
    assert cache.get("translation:k") is None
    assert not (tmp_path / "c").exists()


def test_refresh_recomputes_but_writes(tmp_path):
    first = ResultCache(tmp_path / "c")
    first.set("translation:k", "old")
    first.close()
    refreshing = ResultCache(tmp_path / "c", refresh=True)
    assert refreshing.get("translation:k") is None
    refreshing.set("translation:k", "new")
    refreshing.close()
    after = ResultCache(tmp_path / "c")
    assert after.get("translation:k") == "new"
    after.close()


def test_prune_and_clear(tmp_path, monkeypatch):
    cache = ResultCache(tmp_path / "c")
    cache.set("translation:old", 1)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 40 * 86400)
    cache.set("translation:new", 2)
    assert cache.prune(30 * 86400) == 1
    assert cache.get("translation:new") == 2 and cache.get("translation:old") is None
    assert cache.clear() >= 1
    cache.close()


def test_clear_counts_entries_as_stats_does(tmp_path):
    cache = ResultCache(tmp_path / "c")
    cache.set("translation:a", 1)
    cache.set("summary:b", 2)
    assert cache.get("translation:a") == 1
    cache.close()  # keeps this run's hit and miss counts beside the entries
    maintained = ResultCache(tmp_path / "c", maintenance=True)
    assert maintained.stats()["last_run"]["hits"] == {"translation": 1}
    assert maintained.stats()["entries"] == 2 == maintained.clear()
    maintained.close()


def test_our_corrupt_cache_is_moved_aside_with_a_warning(tmp_path):
    directory = tmp_path / "c"
    ResultCache(directory).close()  # created by us: tagged
    assert (directory / TAG_NAME).read_text() == TAG_TEXT
    (directory / "cache.db").write_bytes(b"this is not a sqlite database" * 100)
    warnings: list[str] = []
    cache = ResultCache(directory, warn=warnings.append)
    assert len(warnings) == 1 and "corrupt" in warnings[0]
    cache.set("translation:k", "v")
    assert cache.get("translation:k") == "v"
    cache.close()
    [aside] = tmp_path.glob("c.corrupt-*")
    assert (aside / "cache.db").read_bytes().startswith(b"this is not")


def test_a_corrupt_cache_we_did_not_create_is_never_moved(tmp_path):
    directory = tmp_path / "c"
    directory.mkdir()
    (directory / "cache.db").write_bytes(b"this is not a sqlite database" * 100)
    warnings: list[str] = []
    cache = ResultCache(directory, warn=warnings.append)
    assert len(warnings) == 1 and "not using the cache" in warnings[0]
    cache.set("translation:k", "v")
    assert cache.get("translation:k") is None  # runs without a cache
    cache.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]
    assert (directory / "cache.db").read_bytes().startswith(b"this is not")


@pytest.mark.parametrize("kind", ["file", "dev-null", "fifo", "symlink-to-file"])
def test_a_cache_dir_that_is_not_a_directory_is_left_alone(tmp_path, kind):
    target = tmp_path / "thing"
    if kind == "file":
        target.write_text("user data")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink-to-file":
        (tmp_path / "real").write_text("user data")
        target.symlink_to(tmp_path / "real")
    else:
        target = Path(os.devnull)
    before = sorted(p.name for p in tmp_path.iterdir())
    warnings: list[str] = []
    cache = ResultCache(target, warn=warnings.append)
    cache.set("translation:k", "v")
    assert cache.get("translation:k") is None
    cache.close()
    assert len(warnings) == 1 and "is not a directory" in warnings[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert os.path.exists(os.devnull) and not os.path.isdir(os.devnull)
    with pytest.raises(CacheError, match="not a directory"):
        ResultCache(target, maintenance=True)


def test_maintenance_never_creates_a_directory(tmp_path):
    cache = ResultCache(tmp_path / "missing" / "c", maintenance=True)
    assert cache.stats()["entries"] == 0 and cache.clear() == 0 and cache.prune(0) == 0
    cache.close()
    assert not (tmp_path / "missing").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(CacheError, match="holds no summarizer cache"):
        ResultCache(tmp_path / "empty", maintenance=True)
    assert list((tmp_path / "empty").iterdir()) == []


def test_wrong_shape_values_are_misses(tmp_path):
    from summarizer.translate import valid_result

    cache = ResultCache(tmp_path / "c", warn=lambda message: None)
    for value in ([1, 2], {"en": 3, "flags": []}, {"en": "x"}, {"en": "x", "flags": [1]}, "text", 7):
        cache.set("sentence:k", value)
        assert cache.get("sentence:k", valid=valid_result) is None
    cache.set("sentence:k", {"en": "x", "flags": []})
    assert cache.get("sentence:k", valid=valid_result) == {"en": "x", "flags": []}
    cache.close()


def test_a_failing_write_warns_once_and_stops_writing(tmp_path):
    import sqlite3

    warnings: list[str] = []
    cache = ResultCache(tmp_path / "c", warn=warnings.append)

    class Full:
        def set(self, key, value):
            raise sqlite3.OperationalError("database or disk is full")

        def close(self):
            pass

    cache._store = Full()  # the real ENOSPC path runs in test_faults.py on a full tmpfs
    cache.set("sentence:a", 1)
    cache.set("sentence:b", 2)
    cache.close()
    assert len(warnings) == 1 and "disk is full" in warnings[0]


def test_unreadable_entry_is_a_miss_not_a_crash(tmp_path):
    import diskcache

    raw = diskcache.Cache(str(tmp_path / "c"))
    raw.set("translation:k", "{not json")
    raw.close()
    warnings: list[str] = []
    cache = ResultCache(tmp_path / "c", warn=warnings.append)
    assert cache.get("translation:k") is None
    assert warnings
    cache.close()
