"""`summarizer cache stats|clear|prune` over every part of the cache directory: the result database, llama.cpp
prompt states and converted models (cache_parts.py). Real files in the real layout, no models needed."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.cache import TAG_NAME, TAG_TEXT, ResultCache
from summarizer.cache_parts import CONVERTED_DIR, STATES_DIR, STATES_INDEX, converted_model_dir, states_dir
from summarizer.cli import app
from summarizer.cli.cache import human_size

DAY = 86400
STATE_A, STATE_B = "a" * 64 + ".state", "b" * 64 + ".state"


def cache_with_parts(root: Path) -> Path:
    """A cache holding two results, 3 state files of two models and two converted models (plus a stopped
    conversion), with exact sizes; and things the commands must neither count nor touch."""
    cache = root / "cache"
    results = ResultCache(cache)
    results.set("translation:x", "one")
    results.set("summary:y", "two")
    results.close()
    for model, names in (("sha256_1111", (STATE_A, STATE_B)), ("org_repo_abc_file.gguf", (STATE_A,))):
        directory = states_dir(cache, model)
        directory.mkdir(parents=True)
        for name in names:
            (directory / name).write_bytes(b"s" * 3000)
        (directory / STATES_INDEX).write_text(json.dumps({"0" * 32: 2}))
    float32 = converted_model_dir(cache, "org_repo_abc_file.gguf", "float32")
    float32.mkdir(parents=True)
    (float32 / "model.safetensors").write_bytes(b"w" * 50_000)
    (float32 / "config.json").write_text("{}")  # 2 bytes
    staging = converted_model_dir(cache, "org_repo_abc_file.gguf", ".bfloat16-k2j3h4")
    staging.mkdir()
    (staging / "model.safetensors").write_bytes(b"w" * 1000)
    outside = root / "outside"
    outside.mkdir()
    (outside / "precious.bin").write_bytes(b"p" * 100_000)
    (float32 / "escape").symlink_to(outside)  # a link inside a part: removed as a link, never followed
    (float32 / "escape-file").symlink_to(outside / "precious.bin")
    (states_dir(cache, "sha256_1111") / ("c" * 64 + ".state")).symlink_to(outside / "precious.bin")
    (cache / STATES_DIR / "sha256_1111" / "notes.txt").write_text("not ours")
    (cache / CONVERTED_DIR / "README").write_text("not ours")
    return cache


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def stats_of(cache: Path) -> dict:
    result = invoke("cache", "stats", "--json", "--cache-dir", str(cache))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_stats_reports_every_part_per_model_with_sizes_not_following_links(tmp_path):
    cache = cache_with_parts(tmp_path)
    stats = stats_of(cache)
    assert stats["entries"] == 2 and stats["entries_per_stage"] == {"summary": 1, "translation": 1}
    index_bytes = len(json.dumps({"0" * 32: 2}))
    assert stats["states"]["files"] == 3 and stats["states"]["bytes"] == 9000 + 2 * index_bytes
    per_model = {m["model"]: (m["files"], m["bytes"]) for m in stats["states"]["models"]}
    assert per_model == {"sha256_1111": (2, 6000 + index_bytes), "org_repo_abc_file.gguf": (1, 3000 + index_bytes)}
    converted = {(m["model"], m["dtype"], m["complete"]): m["bytes"] for m in stats["models"]["models"]}
    assert converted == {("org_repo_abc_file.gguf", "float32", True): 50_002,
                         ("org_repo_abc_file.gguf", "bfloat16", False): 1000}
    assert stats["models"]["bytes"] == 51_002 and stats["models"]["directories"] == 2
    assert stats["total_bytes"] == stats["size_bytes"] + stats["states"]["bytes"] + 51_002

    table = invoke("cache", "stats", "--cache-dir", str(cache)).stdout.splitlines()
    assert [line.split()[0] for line in table if not line.startswith(" ")] == \
        ["directory", "results", "states", "models", "total"]
    assert "2 entries (summary 1, translation 1)" in table[1]
    assert table[2].startswith("states     3 files, 8.9 KiB")
    assert any(line.startswith("  sha256_1111  2 files, 5.9 KiB, last used ") for line in table)
    assert table[5].startswith("models     1 converted + 1 unfinished, 49.8 KiB")
    assert any("org_repo_abc_file.gguf/bfloat16  1000 B" in line and "unfinished" in line for line in table)


def test_clear_removes_every_part_says_what_and_leaves_everything_else(tmp_path):
    from summarizer.models.llama_cpp_states import user_key

    assert user_key() is not None  # the HMAC key, under the tests' own XDG_CONFIG_HOME
    key_file = Path(os.environ["XDG_CONFIG_HOME"]) / "summarizer" / "state.key"
    key = key_file.read_bytes()
    cache = cache_with_parts(tmp_path)
    result = invoke("cache", "clear", "--cache-dir", str(cache))
    assert result.exit_code == 0, result.output
    assert result.stdout == "removed 2 results, 3 prompt states (8.9 KiB), 2 converted models (49.8 KiB)\n"
    assert (tmp_path / "outside" / "precious.bin").read_bytes() == b"p" * 100_000
    assert key_file.read_bytes() == key
    left = sorted(str(path.relative_to(cache)) for part in (STATES_DIR, CONVERTED_DIR) for path in (cache / part).rglob("*"))
    assert left == [f"{STATES_DIR}/sha256_1111", f"{STATES_DIR}/sha256_1111/notes.txt", f"{CONVERTED_DIR}/README"]
    stats = stats_of(cache)
    assert (stats["entries"], stats["states"]["files"], stats["models"]["directories"]) == (0, 0, 0)
    assert invoke("cache", "clear", "--cache-dir", str(cache)).stdout == \
        "removed 0 results, 0 prompt states, 0 converted models\n"


@pytest.mark.parametrize("only, kept", [(["states"], ("results", "models")), (["models"], ("results", "states")),
                                        (["results"], ("states", "models")),
                                        (["STATES,models"], ("results",)), (["results", "models"], ("states",))])
def test_clear_only_some_parts(tmp_path, only, kept):
    cache = cache_with_parts(tmp_path)
    result = invoke("cache", "clear", "--cache-dir", str(cache), *[arg for value in only for arg in ("--only", value)])
    assert result.exit_code == 0, result.output
    said = result.stdout.removeprefix("removed ")
    assert ("result" in said) != ("results" in kept) and ("prompt state" in said) != ("states" in kept)
    assert ("converted model" in said) != ("models" in kept)
    stats = stats_of(cache)
    counts = {"results": stats["entries"], "states": stats["states"]["files"], "models": stats["models"]["directories"]}
    assert {part for part, count in counts.items() if count} == set(kept)


def test_an_unknown_part_is_a_one_line_usage_error(tmp_path):
    cache = cache_with_parts(tmp_path)
    result = invoke("cache", "clear", "--only", "states,weights", "--cache-dir", str(cache))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "summarizer: error: unknown --only part 'weights' (use results, states or models)\n"
    assert stats_of(cache)["states"]["files"] == 3


def test_prune_removes_parts_unused_for_longer_than_the_age(tmp_path, monkeypatch):
    cache = cache_with_parts(tmp_path)
    old = time.time() - 40 * DAY
    os.utime(states_dir(cache, "sha256_1111") / STATE_A, (old, old))
    for name in (STATE_A, STATES_INDEX):  # this model was not run for 40 days: its index goes with its state
        os.utime(states_dir(cache, "org_repo_abc_file.gguf") / name, (old, old))
    os.utime(converted_model_dir(cache, "org_repo_abc_file.gguf", ".bfloat16-k2j3h4"), (old, old))
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 10 * DAY)  # the results are 10 days old now

    result = invoke("cache", "prune", "--older-than", "30d", "--cache-dir", str(cache))
    assert result.exit_code == 0, result.output
    assert result.stdout == "removed 0 results, 2 prompt states (5.9 KiB), 1 converted model (1000 B) older than 30d\n"
    assert sorted(p.name for p in states_dir(cache, "sha256_1111").iterdir()) == \
        [STATE_B, "c" * 64 + ".state", STATES_INDEX, "notes.txt"]
    assert not states_dir(cache, "org_repo_abc_file.gguf").exists()
    assert [p.name for p in (cache / CONVERTED_DIR / "org_repo_abc_file.gguf").iterdir()] == ["float32"]

    result = invoke("cache", "prune", "--older-than", "5d", "--only", "results", "--cache-dir", str(cache))
    assert result.stdout == "removed 2 results older than 5d\n"
    assert stats_of(cache)["states"]["files"] == 1


def test_loading_a_state_or_converted_model_keeps_it_from_being_pruned(tmp_path):
    """Last use is the mtime, which the readers set (StateStore.load, the converted-model loader's
    mark_used); atime is no guide: relatime updates it at most daily and noatime never."""
    from summarizer.models.llama_cpp_states import StateStore

    cache = tmp_path / "cache"
    ResultCache(cache).close()
    store = StateStore(states_dir(cache, "m"), b"k" * 32, {"model": "m"})
    store.save(b"\x01" * 32, 10, b"state bytes")
    path = states_dir(cache, "m") / ("01" * 32 + ".state")
    os.utime(path, (time.time() - 40 * DAY,) * 2)
    assert StateStore(states_dir(cache, "m"), b"k" * 32, {"model": "m"}).load(b"\x01" * 32, 10) == b"state bytes"
    assert invoke("cache", "prune", "--older-than", "30d", "--cache-dir", str(cache)).stdout.startswith(
        "removed 0 results, 0 prompt states")
    assert path.exists()


def test_pruned_states_leave_a_valid_index_and_a_working_store(tmp_path):
    """The index holds prefix counts, not file names: a state file pruned away is a miss, recomputed and
    saved again; the counts that decide what is worth saving survive."""
    from summarizer.models.llama_cpp_prompts import PromptPlan
    from summarizer.models.llama_cpp_states import StateStore

    cache = tmp_path / "cache"
    ResultCache(cache).close()
    directory, secret, identity = states_dir(cache, "m"), b"k" * 32, {"model": "m"}
    store = StateStore(directory, secret, identity)
    plan = PromptPlan.from_pieces([(list(range(100, 400)), True)])
    store.recurring(plan)
    old_key, new_key = plan.key(plan.starts[-2]), plan.key(plan.starts[-1])
    store.save(old_key, 10, b"old state")
    store.save(new_key, 12, b"new state")
    index = json.loads((directory / STATES_INDEX).read_text())
    pruned = directory / f"{old_key.hex()}.state"
    os.utime(pruned, (time.time() - 40 * DAY,) * 2)
    size = pruned.stat().st_size

    assert invoke("cache", "prune", "--older-than", "30d", "--only", "states", "--cache-dir", str(cache)).stdout == \
        f"removed 1 prompt state ({size} B) older than 30d\n"
    reopened = StateStore(directory, secret, identity)
    assert json.loads((directory / STATES_INDEX).read_text()) == index and reopened._index == index
    assert reopened.load(old_key, 10) is None and reopened.load(new_key, 12) == b"new state"
    assert reopened.recurring(plan) == store.recurring(plan) > 0  # the counts still find the recurring prefix
    reopened.save(old_key, 10, b"old state")
    assert StateStore(directory, secret, identity).load(old_key, 10) == b"old state"


def test_a_part_folder_that_is_a_link_is_never_followed_or_removed(tmp_path):
    cache = tmp_path / "cache"
    ResultCache(cache).close()
    elsewhere = tmp_path / "big-disk"
    (elsewhere / "org_model" / "float32").mkdir(parents=True)
    (elsewhere / "org_model" / "float32" / "model.safetensors").write_bytes(b"w" * 5000)
    (cache / CONVERTED_DIR).symlink_to(elsewhere)
    assert stats_of(cache)["models"] == {"directories": 0, "bytes": 0, "models": []}
    assert invoke("cache", "clear", "--cache-dir", str(cache)).exit_code == 0
    assert (cache / CONVERTED_DIR).is_symlink()
    assert (elsewhere / "org_model" / "float32" / "model.safetensors").stat().st_size == 5000


def test_a_missing_cache_dir_is_zero_everywhere_and_never_created(tmp_path):
    absent = tmp_path / "absent" / "cache"
    stats = stats_of(absent)
    assert not stats["exists"] and stats["total_bytes"] == 0
    assert stats["states"] == {"files": 0, "bytes": 0, "models": []} and stats["models"]["directories"] == 0
    for args in (["clear"], ["clear", "--only", "models"], ["prune", "--older-than", "1d"]):
        result = invoke("cache", *args, "--cache-dir", str(absent))
        assert result.exit_code == 0 and result.stdout.startswith("removed 0 ")
    assert not (tmp_path / "absent").exists()


def test_a_directory_that_is_not_a_summarizer_cache_is_left_alone(tmp_path):
    """`--cache-dir ~` must not empty someone's ~/models: without our database or tag, nothing is touched."""
    home = tmp_path / "home"
    (home / "models" / "mine" / "float32").mkdir(parents=True)
    (home / "llama-states" / "x").mkdir(parents=True)
    (home / "llama-states" / "x" / STATE_A).write_bytes(b"mine")
    for args in (["clear"], ["prune", "--older-than", "0s"], ["stats"]):
        result = invoke("cache", *args, "--cache-dir", str(home))
        assert result.exit_code == 2 and "holds no summarizer cache" in result.stderr, result.output
    assert (home / "llama-states" / "x" / STATE_A).read_bytes() == b"mine" and (home / "models" / "mine" / "float32").is_dir()


def test_our_tagged_directory_without_results_still_has_its_other_parts(tmp_path):
    cache = cache_with_parts(tmp_path)
    assert (cache / TAG_NAME).read_text() == TAG_TEXT  # created by a run: tagged
    for name in os.listdir(cache):
        if name.startswith("cache.db"):
            os.remove(cache / name)
    stats = stats_of(cache)
    assert stats["entries"] == 0 and stats["states"]["files"] == 3
    assert invoke("cache", "clear", "--cache-dir", str(cache)).stdout.startswith("removed 0 results, 3 prompt states")


@contextlib.contextmanager
def unremovable(path: Path):
    """Make `path` impossible to delete for real: immutable for root (chattr), a read-only folder otherwise."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
            pytest.skip("cannot make a file immutable here")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        path.parent.chmod(0o555)
        try:
            yield
        finally:
            path.parent.chmod(0o755)


@pytest.mark.parametrize("part", ["states", "models"])
def test_a_file_that_cannot_be_removed_is_one_line_and_exit_2(tmp_path, part):
    cache = cache_with_parts(tmp_path)
    stuck = (states_dir(cache, "sha256_1111") / STATE_A if part == "states"
             else converted_model_dir(cache, "org_repo_abc_file.gguf", "float32") / "model.safetensors")
    with unremovable(stuck):
        result = invoke("cache", "clear", "--only", part, "--cache-dir", str(cache))
    assert result.exit_code == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"summarizer: error: cannot remove {stuck}: Operation not permitted"
                           if os.geteuid() == 0 else f"summarizer: error: cannot remove {stuck}: Permission denied")


def test_a_folder_that_cannot_be_read_is_one_line_and_exit_2(tmp_path, monkeypatch):
    cache = cache_with_parts(tmp_path)
    unreadable = states_dir(cache, "sha256_1111")
    real_scandir = os.scandir

    def scandir(path):  # root reads any folder, so the refusal is simulated here
        if isinstance(path, (str, os.PathLike)) and Path(path) == unreadable:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    for args in (["stats"], ["clear"]):
        result = invoke("cache", *args, "--cache-dir", str(cache))
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr == f"summarizer: error: cannot read {unreadable}: Permission denied (check its permissions)\n"


def test_cache_commands_do_not_import_model_libraries(tmp_path):
    cache = cache_with_parts(tmp_path)
    code = ("import sys\nfrom summarizer.cli import app\n"
            f"for args in (['stats'], ['stats', '--json'], ['prune', '--older-than', '30d'], ['clear']):\n"
            f"    try:\n        app(['cache', *args, '--cache-dir', {str(cache)!r}])\n"
            "    except SystemExit as done:\n        assert not done.code, done.code\n"
            "print(sorted(m for m in ('torch', 'transformers', 'llama_cpp', 'numpy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    assert "removed 2 results, 3 prompt states" in done.stdout


def test_a_converted_model_in_use_survives_prune_and_an_unused_one_goes(tmp_path, tiny_gguf_path):
    from summarizer.config import Config
    from summarizer.models import load_chat_model, resolve_model

    cache = tmp_path / "cache"
    ResultCache(cache).close()  # as a run opens it before loading a model
    config = Config(dtype="float32", backend="transformers", cache_dir=cache)
    resolved = resolve_model(str(tiny_gguf_path), "summary", config)
    load_chat_model(resolved, config)  # converts, and keeps the conversion in the cache
    converted = converted_model_dir(cache, resolved.directory_name, "float32")
    [entry] = stats_of(cache)["models"]["models"]
    assert (entry["model"], entry["dtype"], entry["complete"]) == (resolved.directory_name, "float32", True)
    assert entry["bytes"] > 10_000

    month_ago = time.time() - 40 * DAY
    os.utime(converted, (month_ago, month_ago))
    load_chat_model(resolved, config)  # from the conversion: marks it used
    assert invoke("cache", "prune", "--older-than", "30d", "--cache-dir", str(cache)).stdout.endswith(
        ", 0 converted models older than 30d\n")
    os.utime(converted, (month_ago, month_ago))
    assert invoke("cache", "prune", "--older-than", "30d", "--cache-dir", str(cache)).stdout.endswith(
        f", 1 converted model ({human_size(entry['bytes'])}) older than 30d\n")
    assert not (cache / CONVERTED_DIR).exists()
