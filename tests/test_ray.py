"""`--engine ray` against a real local Ray instance (2 CPUs, started once for the module): the same records
as the local engine, nothing lost when a worker process is killed, finished work kept across an interruption,
reruns served by the driver's cache, and error records (not crashes) for bad articles and bad workers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.batch import run_batch
from summarizer.cli import app
from summarizer.config import Config
from summarizer.sources import discover
from summarizer.pipeline import process_articles
from summarizer.runtime import Runtime

# Places and people spelled only with characters the tiny models' tokenizers know (see below), one set per
# article, so no two articles share a sentence: each article's translation is then independent of the others.
PLACES = ["Bandung", "Medan", "Padang", "Malang", "Bekasi", "Jambi", "Kediri", "Ambon"]
PEOPLE = ["Budi", "Sari", "Agus", "Dewi", "Rina", "Hadi", "Tari", "Joko"]


def article(i: int) -> str:
    place, person = PLACES[i], PEOPLE[i]
    return (f"Banjir di {place}\n\n"
            f"Banjir merendam rumah warga di kota {place} sejak pagi hari.\n\n"
            f"Kepala desa {person} meminta warga {place} pindah ke sekolah.\n")


def write_articles(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        paths.append(folder / f"artikel_{i}.txt")
        paths[-1].write_text(article(i), encoding="utf-8")
    return paths


def stable(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "timings"}


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def ray_engine(**settings):
    from summarizer.ray_engine import RayEngine
    from summarizer.ray_pool import RaySettings

    return RayEngine(RaySettings(**{"actors": 2, "cpus_per_actor": 1, **settings}))


def run(config: Config, paths: list[Path], engine=None,
        runtime: Runtime | None = None) -> tuple[list[dict], int, object]:
    """A batch through run_batch, returning the records as the CLI would print them (`runtime`: the
    driver's, when the test has to reach into it)."""
    docs = discover([str(p) for p in paths])
    records: list[dict] = []
    runtime = runtime or Runtime(config)
    process = engine.start(docs, config, runtime) if engine else (lambda group: process_articles(group, config, runtime))
    failed = 0
    try:
        for doc in docs:
            [record] = process([doc])
            records.append(json.loads(record.model_dump_json()))
            failed += bool(record.error)
    finally:
        if engine:
            engine.close()
        runtime.close()
    return records, failed, engine


# ----------------------------------------------------------------------------- fast: no Ray needed


def test_help_and_the_engine_module_do_not_import_ray():
    code = ("import sys; from summarizer.cli import app; import summarizer.ray_engine; "
            "print('ray' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_engine_ray_without_ray_installed_is_one_line_and_exit_2(tmp_path):
    write_articles(tmp_path / "in", 1)
    code = ("import sys; sys.modules['ray'] = None; from summarizer.cli import main; "
            f"sys.argv = ['summarizer', 'translate', {str(tmp_path / 'in')!r}, '--engine', 'ray']; main()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "pip install -e '.[ray]'" in done.stderr
    assert done.stdout == ""


def test_ray_options_need_the_ray_engine(tmp_path):
    write_articles(tmp_path / "in", 1)
    result = CliRunner().invoke(app, ["translate", str(tmp_path / "in"), "--ray-actors", "2"])
    assert result.exit_code == 2
    assert "--ray-actors only applies with --engine ray" in result.output


# ----------------------------------------------------------------------------- forced lengths (bench/ray_bench.py)


def recorded_new_tokens(runtime: Runtime) -> list[int]:
    """Wraps the runtime's Marian model: the returned list gets, for every row it decodes, the tokens it
    generated up to its first end token."""
    model = runtime.engine().translator.model
    ends = {model.generation_config.pad_token_id, model.generation_config.eos_token_id}
    rows: list[int] = []
    generate = model.generate

    def recording(**kwargs):
        output = generate(**kwargs)
        rows.extend(next((i + 1 for i, token in enumerate(row) if token in ends), len(row))
                    for row in output[:, 1:].tolist())  # after the decoder start token
        return output

    model.generate = recording
    return rows


def segments(records: list[dict]) -> int:
    """Texts the engine translated for these records: every sentence, and the title."""
    return sum(len(r["sentences"]) + bool(r["title"]) for r in records)


def test_forced_lengths_reach_the_runtimes_engine_under_a_cache_key_of_their_own(tmp_path, tiny_marian_dir):
    paths = write_articles(tmp_path / "in", 1)
    natural = Config(mt_model=str(tiny_marian_dir), cache_dir=tmp_path / "cache")
    forced = natural.model_copy(update={"forced_new_tokens": 6})
    natural_key, forced_key = Runtime(natural).mt_key, Runtime(forced).mt_key
    assert forced_key == [*natural_key, ("forced_new_tokens", 6)]
    assert "forced" not in json.dumps(natural_key)  # unset, the key (and every existing cache) is as before

    runtime = Runtime(forced)
    rows = recorded_new_tokens(runtime)
    forced_records, _, _ = run(forced, paths, runtime=runtime)
    assert rows == [6] * segments(forced_records)  # each segment decoded once, exactly 6 tokens: no retry, no repair

    natural_records, _, _ = run(natural, paths)  # same cache dir: the forced outputs are not served
    assert [r["cache"] for r in natural_records] == [{"translation": "miss"}]
    assert [s["en"] for s in natural_records[0]["sentences"]] != [s["en"] for s in forced_records[0]["sentences"]]


# ----------------------------------------------------------------------------- against a local Ray instance


@pytest.mark.slow
def test_ray_and_local_give_identical_records_and_out_files(tmp_path, tiny_marian_dir, ray_instance):
    paths = write_articles(tmp_path / "in", 5)
    (tmp_path / "in" / "kosong.txt").write_text("", encoding="utf-8")  # an input error: finished on the driver
    common = ["translate", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir)]
    runner = CliRunner()
    local = runner.invoke(app, [*common, "--cache-dir", str(tmp_path / "local-cache")])
    ray_out = tmp_path / "ray-out"
    remote = runner.invoke(app, [*common, "--cache-dir", str(tmp_path / "ray-cache"), "--engine", "ray",
                                 "--ray-actors", "2", "--ray-cpus-per-actor", "1", "--out", str(ray_out)])
    assert local.exit_code == remote.exit_code == 1  # the empty file fails alike
    local_records = [json.loads(line) for line in local.stdout.splitlines()]
    index = [json.loads(line) for line in (ray_out / "index.jsonl").read_text().splitlines()]
    assert [entry["source"] for entry in index] == [r["source"] for r in local_records]
    assert len(local_records) == len(paths) + 1
    for entry, expected in zip(index, local_records):
        written = json.loads((ray_out / entry["file"]).read_text())
        assert stable(written) == stable(expected)
    assert not list(ray_out.glob(".*.tmp"))  # atomic writes left no temp files


@pytest.mark.slow
def test_forced_lengths_reach_the_workers_engines(tmp_path, tiny_marian_dir, ray_instance):
    """bench/ray_bench.py's forced lengths travel in the Config the workers get: their records are the
    local engine's, every segment of which decoded exactly the forced number of tokens."""
    paths = write_articles(tmp_path / "in", 4)
    local_config = Config(mt_model=str(tiny_marian_dir), cache_dir=tmp_path / "local-cache", forced_new_tokens=5)
    runtime = Runtime(local_config)
    rows = recorded_new_tokens(runtime)
    local, _, _ = run(local_config, paths, runtime=runtime)
    assert rows == [5] * segments(local)

    remote, failed, engine = run(local_config.model_copy(update={"cache_dir": tmp_path / "cache"}), paths, ray_engine())
    assert failed == 0 and engine.stats.sent == len(paths)
    assert [stable(r) for r in remote] == [stable(r) for r in local]


@pytest.mark.slow
def test_killed_worker_loses_nothing_and_rerun_hits_the_cache(tmp_path, tiny_marian_dir, ray_instance):
    paths = write_articles(tmp_path / "in", 8)
    config = Config(mt_model=str(tiny_marian_dir), cache_dir=tmp_path / "cache")
    reference, _, _ = run(Config(mt_model=str(tiny_marian_dir), cache_dir=tmp_path / "local-cache"), paths)

    engine = ray_engine()
    docs = discover([str(p) for p in paths])
    runtime = Runtime(config)
    engine.start(docs, config, runtime)
    records = [json.loads(engine.record_for(docs[0]).model_dump_json())]
    busy = {batch.actor for batch in engine._inflight.values()}
    assert busy, "the other articles should be queued on the actors when one is killed"
    pids = engine.actor_pids()
    victim = pids[min(busy)]
    os.kill(victim, signal.SIGKILL)
    records += [json.loads(engine.record_for(doc).model_dump_json()) for doc in docs[1:]]
    assert victim not in engine.actor_pids()  # Ray restarted the actor...
    engine.close()
    runtime.close()
    assert engine.stats.worker_deaths == 0 and engine.stats.sent == len(paths)  # ...and retried its articles
    assert [stable(r) for r in records] == [stable(r) for r in reference]  # nothing lost, nothing twice

    rerun, failed, again = run(config, paths, ray_engine())
    assert failed == 0
    assert again.stats.sent == 0 and again.stats.actors == 0  # no worker, no model: the driver's cache
    assert all(r["cache"] == {"translation": "hit"} for r in rerun)
    assert [{**stable(r), "cache": None} for r in rerun] == [{**stable(r), "cache": None} for r in reference]


@pytest.mark.slow
def test_interrupted_run_keeps_finished_work_and_rerun_computes_only_the_rest(tmp_path, tiny_marian_dir, ray_instance):
    paths = write_articles(tmp_path / "in", 6)
    config = Config(mt_model=str(tiny_marian_dir), cache_dir=tmp_path / "cache")
    engine = ray_engine()
    docs = discover([str(p) for p in paths])
    runtime = Runtime(config)
    process = engine.start(docs, config, runtime)
    try:
        process(docs[:2])
        raise KeyboardInterrupt  # what Ctrl-C does between two records
    except KeyboardInterrupt:
        pass
    finally:
        engine.close()  # run_batch's cleanup
        runtime.close()

    resumed, failed, second = run(config, paths, ray_engine())
    assert failed == 0
    assert second.stats.local >= 2  # at least the emitted ones, plus whatever finished in flight
    assert second.stats.sent == len(paths) - second.stats.local
    assert [r["cache"]["translation"] for r in resumed].count("hit") == second.stats.local


@pytest.mark.slow
def test_article_that_breaks_the_model_gets_an_error_record_and_the_worker_goes_on(tmp_path, tiny_marian_dir,
                                                                                  ray_instance):
    # A vocabulary whose <unk> id lies outside the embedding: any character the tokenizer does not know
    # (here 'z') makes the model fail on that article only, inside the worker.
    broken = tmp_path / "broken-marian"
    shutil.copytree(tiny_marian_dir, broken)
    vocab = json.loads((broken / "vocab.json").read_text())
    vocab["<unk>"] = json.loads((broken / "config.json").read_text())["vocab_size"] + 1000
    (broken / "vocab.json").write_text(json.dumps(vocab))
    folder = tmp_path / "in"
    paths = [folder / "aneh.txt", *write_articles(folder, 3)]
    paths[0].write_text("Berita Aneh\n\nWarga melihat zebra di kota pada malam hari.\n", encoding="utf-8")

    local, local_failed, _ = run(Config(mt_model=str(broken), cache_dir=tmp_path / "local-cache"), paths)
    remote, failed, engine = run(Config(mt_model=str(broken), cache_dir=tmp_path / "cache"), paths,
                                 ray_engine(actors=1))  # one actor: it must survive to do the rest
    assert failed == local_failed == 1
    assert remote[0]["error"]["message"].startswith("unexpected failure")
    assert all(r["error"] is None and r["translation"] for r in remote[1:])
    assert [stable(r) for r in remote] == [stable(r) for r in local]
    assert engine.stats.worker_deaths == 0


@pytest.mark.slow
def test_worker_without_the_drivers_model_answers_with_error_records(tmp_path, tiny_marian_dir, ray_instance):
    model = tmp_path / "marian"
    shutil.copytree(tiny_marian_dir, model)
    paths = write_articles(tmp_path / "in", 2)
    config = Config(mt_model=str(model), cache_dir=tmp_path / "cache")
    docs = discover([str(p) for p in paths])

    # Changed weights between the driver's resolution and the workers' start: a different fingerprint.
    engine, runtime = ray_engine(actors=1), Runtime(config)
    process = engine.start(docs, config, runtime)
    (model / "generation_config.json").write_text(
        json.dumps({**json.loads((model / "generation_config.json").read_text()), "note": "edited"}))
    records = process(docs)
    engine.close()
    runtime.close()
    assert all(r.error and r.error.type == "WorkerSetupError" and "differs from the driver's" in r.error.message
               for r in records)

    # Missing weights on the worker.
    engine, runtime = ray_engine(actors=1), Runtime(config)
    process = engine.start(docs, config, runtime)
    shutil.rmtree(model)
    records = process(docs)
    engine.close()
    runtime.close()
    assert all(r.error and "no such model directory" in r.error.message for r in records)
    assert not list((tmp_path / "cache").glob("*.corrupt-*"))


@pytest.mark.slow
def test_shipped_model_reaches_workers_through_the_object_store(tmp_path, tiny_marian_dir, ray_instance):
    paths = write_articles(tmp_path / "in", 2)
    config = Config(mt_model=str(tiny_marian_dir), cache_dir=tmp_path / "cache")
    reference, _, _ = run(Config(mt_model=str(tiny_marian_dir), cache_dir=tmp_path / "local-cache"), paths)
    records, failed, engine = run(config, paths, ray_engine(actors=1, ship_models=True))
    assert failed == 0
    assert [stable(r) for r in records] == [stable(r) for r in reference]  # model named as the driver knows it
    fingerprint = Runtime(config).resolved_mt.fingerprint
    from summarizer.ray_worker import SHIPPED_MODELS_DIR

    copies = list(Path(__import__("tempfile").gettempdir(), SHIPPED_MODELS_DIR).glob("*/.complete"))
    assert fingerprint in [copy.read_text() for copy in copies]


@pytest.mark.slow
def test_run_batch_with_the_ray_engine_counts_failures_like_local(tmp_path, tiny_marian_dir, ray_instance, capsys):
    paths = write_articles(tmp_path / "in", 2)
    missing = tmp_path / "in" / "hilang.txt"
    docs = discover([str(p) for p in paths]) + discover([str(missing)])
    config = Config(mt_model=str(tiny_marian_dir), cache_dir=tmp_path / "cache")
    failed = run_batch(docs, config, engine=ray_engine())
    out = capsys.readouterr()
    records = [json.loads(line) for line in out.out.splitlines()]
    assert failed == 1 and [r["source"] for r in records] == [d.source for d in docs]
    assert "hilang.txt: no such file" in "".join(out.err.split("\n"))  # rich wraps long lines


@pytest.mark.slow
def test_summaries_through_ray_match_local(tmp_path, tiny_marian_dir, tiny_qwen2_long_dir, ray_instance):
    write_articles(tmp_path / "in", 2)
    common = ["summarize", str(tmp_path / "in"), "--mt-model", str(tiny_marian_dir), "--llm", str(tiny_qwen2_long_dir),
              "--backend", "transformers"]
    runner = CliRunner()
    local = runner.invoke(app, [*common, "--cache-dir", str(tmp_path / "local-cache")])
    remote = runner.invoke(app, [*common, "--cache-dir", str(tmp_path / "ray-cache"), "--engine", "ray",
                                 "--ray-actors", "1", "--ray-cpus-per-actor", "1"])
    assert local.exit_code == remote.exit_code == 0, remote.output
    local_records = [json.loads(line) for line in local.stdout.splitlines()]
    remote_records = [json.loads(line) for line in remote.stdout.splitlines()]
    assert all(r["summary"] and r["cache"] == {"translation": "miss", "summary": "miss"} for r in remote_records)
    assert [stable(r) for r in remote_records] == [stable(r) for r in local_records]


# ----------------------------------------------------------------------------- `summarizer eval --engine ray`

# Sentences for eval, written from the tiny tokenizers' vocabulary like the articles above.
EVAL_SOURCES = [f"Banjir merendam rumah warga di kota {place} sejak pagi hari." for place in PLACES] + \
               [f"Kepala desa {person} meminta warga pindah ke sekolah." for person in PEOPLE]
EVAL_REFERENCES = [f"Floods submerged homes in {place} since the morning." for place in PLACES] + \
                  [f"Village head {person} asked residents to move to the school." for person in PEOPLE]


def eval_files(folder: Path, count: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "src.id").write_text("\n".join(EVAL_SOURCES[:count]) + "\n", encoding="utf-8")
    (folder / "ref.en").write_text("\n".join(EVAL_REFERENCES[:count]) + "\n", encoding="utf-8")
    return ["--src", str(folder / "src.id"), "--ref", str(folder / "ref.en")]


@pytest.mark.slow
def test_eval_on_ray_matches_local_and_a_rerun_is_served_by_the_drivers_cache(tmp_path, tiny_marian_dir, ray_instance):
    from summarizer.evaluate import RAY_NAIVE_DOCUMENTS, RAY_TRANSLATE_CHUNK

    # Fewer sentences than one chunk, so the engine batches them alike on both sides; more lines than one
    # naive group, so both workers get baseline work (naive translations are one sentence per call anyway).
    count = len(EVAL_SOURCES)
    assert RAY_NAIVE_DOCUMENTS < count <= RAY_TRANSLATE_CHUNK
    common = ["eval", *eval_files(tmp_path, count), "--mt-model", str(tiny_marian_dir), "--threads", "1",
              "--baseline", "--format", "json"]
    runner = CliRunner()
    local = runner.invoke(app, [*common, "--cache-dir", str(tmp_path / "local-cache"),
                                "--translations", str(tmp_path / "local.en")])
    remote = runner.invoke(app, [*common, "--cache-dir", str(tmp_path / "ray-cache"), "--engine", "ray",
                                 "--ray-actors", "2", "--ray-cpus-per-actor", "1",
                                 "--translations", str(tmp_path / "ray.en")])
    assert local.exit_code == remote.exit_code == 0, remote.output
    local_report, ray_report = json.loads(local.stdout), json.loads(remote.stdout)
    assert (tmp_path / "ray.en").read_text() == (tmp_path / "local.en").read_text()
    for part in ("scores", "fidelity", "hygiene", "baseline"):
        assert ray_report[part] == local_report[part], part
    speed = ray_report["speed"]
    assert (speed["engine"], speed["workers"], speed["translated_sentences"]) == ("ray", 2, count)

    # The workers' translations went into the driver's cache: a rerun starts no worker and loads no model.
    from summarizer.eval_sets import read_line_pairs
    from summarizer.evaluate import evaluate
    from summarizer.ray_engine import RayEngine
    from summarizer.ray_pool import RaySettings

    engine = RayEngine(RaySettings(actors=2, cpus_per_actor=1))
    rerun = evaluate(read_line_pairs(tmp_path / "src.id", tmp_path / "ref.en"),
                     Config(mt_model=str(tiny_marian_dir), threads=1, cache_dir=tmp_path / "ray-cache"), engine=engine)
    assert rerun.report["scores"] == ray_report["scores"]
    assert rerun.report["speed"]["cached_sentences"] == count and engine.stats.sent == 0 and not engine.pool.actors


@pytest.mark.slow
def test_eval_chunks_on_workers_without_the_model_are_a_setup_error(tmp_path, tiny_marian_dir, ray_instance):
    from summarizer.errors import SetupError

    model = tmp_path / "marian"
    shutil.copytree(tiny_marian_dir, model)
    runtime = Runtime(Config(mt_model=str(model), cache_dir=tmp_path / "cache"))
    assert runtime.mt_key  # resolved and fingerprinted on the driver, then the weights vanish
    shutil.rmtree(model)
    engine = ray_engine(actors=1)
    try:
        with pytest.raises(SetupError, match="no such model directory"):
            engine.translate_chunks([([EVAL_SOURCES[0]], None)], runtime)
    finally:
        engine.close()
        runtime.close()
