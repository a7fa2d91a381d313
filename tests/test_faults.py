"""Faults, from real subprocesses: kill -9 at seeded points of an --out batch, two writers, `cache clear`
during a run, unwritable / full / misplaced outputs and caches, a closed stdout and Ctrl-C.

What each fault must do to the user is in docs/reliability.md. The mount-based cases (a full or read-only
filesystem) use a small tmpfs when the test runs as root and can mount one; otherwise ENOSPC is simulated in
process.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from test_cli import cli_env, run_cli, stable, write_articles

pytestmark = pytest.mark.slow

SUMMARIZER = [sys.executable, "-m", "summarizer"]


def env_for(cache: Path) -> dict[str, str]:
    """The CLI's environment with one torch thread: on a shared, loaded machine two spinning OpenMP threads
    make the tiny models ~10x slower."""
    return cli_env(cache, OMP_NUM_THREADS="1")


FINAL_LINE = re.compile(r"summarizer: \d[\d,]* articles?, ")  # the run's closing tally, printed on every run


def one_line_error(stderr: str) -> str:
    """The stderr of a failed run: exactly one line besides the closing tally, no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip() and not FINAL_LINE.match(line)]
    assert len(lines) == 1, stderr
    return lines[0]


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    """A small tmpfs at `path`, or a skip when this process cannot mount one."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                                           capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root); ENOSPC is covered by the simulated test")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(mount: Path, leave: int = 1024) -> None:
    """Fill a filesystem so that only about `leave` bytes stay free."""
    stats = os.statvfs(mount)
    with open(mount / "filler", "wb") as out:
        with contextlib.suppress(OSError):
            out.write(b"\0" * max(0, stats.f_bavail * stats.f_frsize - leave))
    with contextlib.suppress(OSError):
        (mount / "filler-2").write_bytes(b"\0" * 65536)


def read_out(out: Path) -> tuple[list[dict], dict[str, bytes]]:
    """index.jsonl and every final-named file of an --out directory (none yet when a kill came first)."""
    if not out.exists():
        return [], {}
    index_path = out / "index.jsonl"
    index = [json.loads(line) for line in index_path.read_text().splitlines()] if index_path.exists() else []
    files = {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".") and p.name != "index.jsonl"}
    return index, files


# ----------------------------------------------------------------------------- kill -9


def test_kill_9_at_seeded_points_then_rerun_gives_the_uninterrupted_output(tmp_path, tiny_marian_dir):
    """At least 15 kill points: after each, the index names only complete files, with no duplicate line;
    a rerun resumes, and the final --out directory equals an uninterrupted run's, byte for byte."""
    write_articles(tmp_path / "in", 6)
    args = ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir), "--format", "md", "--quiet"]
    started = time.monotonic()
    reference = run_cli([*args, "--out", str(tmp_path / "ref")], env_for(tmp_path / "ref-cache"))
    duration = time.monotonic() - started
    assert reference.returncode == 0, reference.stderr
    expected = read_out(tmp_path / "ref")
    assert len(expected[0]) == 6

    rng = random.Random(1515)
    landed, trial = 0, 0
    while landed < 15:
        trial += 1
        out, cache = tmp_path / f"out{trial}", tmp_path / f"cache{trial}"
        for _ in range(3):  # three kills in a row on one --out and cache, then a rerun to the end
            process = subprocess.Popen([*SUMMARIZER, *args, "--out", str(out)], env=env_for(cache),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.2, duration))
            if process.poll() is not None:
                break  # finished before its kill point: not counted
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
            landed += 1
            index, files = read_out(out)
            assert len({entry["file"] for entry in index}) == len(index)  # no duplicate line
            for entry in index:  # the index only names complete files
                assert files[entry["file"]] == expected[1][entry["file"]]
            assert set(files) <= set(expected[1])  # nothing half-written under a final name
        resumed = run_cli([*args, "--out", str(out)], env_for(cache))
        assert resumed.returncode == 0, resumed.stderr
        assert read_out(out) == expected
    print(f"kill points survived: {landed} in {trial} trials")


# ----------------------------------------------------------------------------- concurrency


def test_two_writers_and_cache_clear_during_a_run(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in", 6)
    args = ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir), "--quiet"]
    reference = run_cli(args, env_for(tmp_path / "ref-cache"))
    env = env_for(tmp_path / "shared")
    writers = [subprocess.Popen([*SUMMARIZER, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    clears = 0
    while any(w.poll() is None for w in writers):
        cleared = run_cli(["cache", "clear"], env)
        assert cleared.returncode == 0 and "Traceback" not in cleared.stderr, cleared.stderr
        clears += 1
    results = [w.communicate() for w in writers]
    assert [w.returncode for w in writers] == [0, 0], [err for _, err in results]
    want = [stable(json.loads(line)) for line in reference.stdout.splitlines()]
    for out, _ in results:
        assert [stable(json.loads(line)) for line in out.splitlines()] == want
    assert clears >= 1


# ----------------------------------------------------------------------------- output faults


def test_out_that_is_an_existing_file_is_exit_2_and_the_work_stays_cached(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in", 2)
    (tmp_path / "out").write_text("a user's file")
    env = env_for(tmp_path / "cache")
    done = run_cli(["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir), "--out",
                    str(tmp_path / "out")], env)
    assert done.returncode == 2
    assert "exists and is not a directory" in one_line_error(done.stderr)
    assert (tmp_path / "out").read_text() == "a user's file"


def test_read_only_out_is_exit_2_with_one_line(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in", 2)
    with tmpfs(tmp_path / "ro", "1m") as mount:
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        done = run_cli(["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir), "--out",
                        str(mount / "out")], env_for(tmp_path / "cache"))
    assert done.returncode == 2 and done.stdout == ""
    assert "Read-only file system" in one_line_error(done.stderr)


def test_full_filesystem_under_out_is_exit_2_and_a_rerun_is_served_from_the_cache(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in", 4)
    env = env_for(tmp_path / "cache")
    args = ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir), "--format", "md"]
    with tmpfs(tmp_path / "full", "256k") as mount:
        (mount / "out").mkdir()
        fill(mount, leave=512)
        done = run_cli([*args, "--out", str(mount / "out")], env)
        assert not [p for p in (mount / "out").iterdir() if p.suffix == ".tmp" and not p.name.startswith(".")]
    assert done.returncode == 2
    assert "No space left on device" in one_line_error(done.stderr)
    rerun = run_cli([*args, "--out", str(tmp_path / "elsewhere"), "--format", "jsonl"], env)
    assert rerun.returncode == 0, rerun.stderr
    index, files = read_out(tmp_path / "elsewhere")
    records = [json.loads(files[entry["file"]]) for entry in index]
    assert records[0]["cache"]["translation"] == "hit"  # computed before the disk filled up: not lost


def test_simulated_enospc_on_out_is_exit_2(tmp_path, tiny_marian_dir, monkeypatch):
    """The same fault without a mount: the first article file hits ENOSPC."""
    import summarizer.render as render

    def full(path, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(render, "atomic_write", full)
    write_articles(tmp_path / "in", 2)
    result = CliRunner().invoke(app, ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "No space left on device" in one_line_error(result.stderr)


# ----------------------------------------------------------------------------- cache faults


def test_full_or_read_only_cache_warns_and_the_output_is_still_right(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in", 2)
    args = ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir)]
    want = [stable(json.loads(line)) for line in run_cli(args, env_for(tmp_path / "ref")).stdout.splitlines()]
    with tmpfs(tmp_path / "fs", "2m") as mount:
        assert run_cli(args, env_for(mount / "cache")).returncode == 0  # a healthy cache first
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        read_only = run_cli([*args, "--refresh"], env_for(mount / "cache"))
        stats = run_cli(["cache", "stats"], env_for(mount / "cache"))
        subprocess.run(["mount", "-o", "remount,rw", str(mount)], check=True)
        fill(mount, leave=0)
        full = run_cli([*args, "--refresh"], env_for(mount / "cache"))
        (mount / "filler").unlink()
        assert sorted(p.name for p in mount.iterdir()) == ["cache", "filler-2"]  # nothing moved aside
    for done in (read_only, full):
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr and "warning" in done.stderr
        one_line_error(done.stderr)  # warned once, not per entry
        assert [stable(json.loads(line)) for line in done.stdout.splitlines()] == want
    assert stats.returncode in (0, 2) and "Traceback" not in stats.stderr


@pytest.mark.parametrize("place", ["user-file", "dev-null", "unwritable-parent"])
def test_misplaced_cache_is_never_moved_and_the_run_goes_on(tmp_path, tiny_marian_dir, place):
    write_articles(tmp_path / "in", 1)
    if place == "user-file":
        cache = tmp_path / "notes.txt"
        cache.write_text("precious")
    elif place == "dev-null":
        cache = Path(os.devnull)
    else:
        cache = tmp_path / "file" / "cache"  # its parent is a file: it cannot be created
        (tmp_path / "file").write_text("precious")
    done = run_cli(["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir)], env_for(cache))
    assert done.returncode == 0, done.stderr
    assert "not using the cache" in one_line_error(done.stderr)
    assert json.loads(done.stdout)["error"] is None
    stats = run_cli(["cache", "stats"], env_for(cache))
    assert stats.returncode == (0 if place == "unwritable-parent" else 2), stats.stderr
    assert "Traceback" not in stats.stderr
    assert os.path.exists(os.devnull) and not os.path.isdir(os.devnull)
    if place != "dev-null":
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in", "file" if place != "user-file"
                                                                     else "notes.txt"])


def test_corrupt_cache_of_ours_is_moved_aside_and_rebuilt(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in", 1)
    args = ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir)]
    env = env_for(tmp_path / "cache")
    first = run_cli(args, env)
    (tmp_path / "cache" / "cache.db").write_bytes(b"garbage" * 1000)
    again = run_cli(args, env)
    assert again.returncode == 0 and "moved it to" in one_line_error(again.stderr)
    assert stable(json.loads(again.stdout)) == stable(json.loads(first.stdout))
    assert len(list(tmp_path.glob("cache.corrupt-*"))) == 1


# ----------------------------------------------------------------------------- pipes and signals


def test_closed_stdout_exits_quietly_with_141(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in", 8)
    process = subprocess.Popen([*SUMMARIZER, "translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir)],
                               env=env_for(tmp_path / "cache"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()  # `| head -1`
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert not [line for line in stderr.splitlines() if not FINAL_LINE.match(line)], stderr  # no error


def test_sigint_exits_130_with_one_line_and_keeps_finished_articles(tmp_path, tiny_marian_dir):
    write_articles(tmp_path / "in", 8)
    out = tmp_path / "out"
    process = subprocess.Popen([*SUMMARIZER, "translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir),
                                "--out", str(out)], env=env_for(tmp_path / "cache"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not ((out / "index.jsonl").exists() and (out / "index.jsonl").read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip("the batch finished before the signal arrived")
    assert process.returncode == 130
    assert "interrupted" in one_line_error(stderr)
    index, files = read_out(out)
    assert index and all(entry["file"] in files for entry in index)
