"""The result cache: key derivation, hits and misses, refresh, maintenance, corruption recovery."""

from __future__ import annotations

import json
import time

from summarizer.cache import ResultCache, cache_key


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


def test_corrupt_cache_is_moved_aside_with_a_warning(tmp_path):
    directory = tmp_path / "c"
    directory.mkdir()
    (directory / "cache.db").write_bytes(b"this is not a sqlite database" * 100)
    warnings: list[str] = []
    cache = ResultCache(directory, warn=warnings.append)
    assert warnings and "unreadable" in warnings[0]
    cache.set("translation:k", "v")
    assert cache.get("translation:k") == "v"
    cache.close()
    assert list(tmp_path.glob("c.corrupt-*"))


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
