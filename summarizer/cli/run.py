"""`summarizer translate` and `summarizer summarize` (the main job), and `summarizer schema`: options ->
Config -> batch.run_batch. Nothing heavy is imported until a command runs."""

from __future__ import annotations

import inspect
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from summarizer.cli.options import (BackendOpt, BeamsOpt, CacheDirOpt, DtypeOpt, EngineOpt, FormatOpt, LlmOpt,
                                    MaxCharsOpt, MtModelOpt, NoCacheOpt, OfflineOpt, OutOpt, Paths, PickleOpt,
                                    ProgressOpt, QuantizeOpt, QuietOpt, RayActorsOpt, RayAddressOpt, RayCpusOpt,
                                    RayGpusOpt, RayShipOpt, RefreshOpt, StrictOpt, ThreadsOpt, TimeoutOpt,
                                    make_config, make_engine)
from summarizer.errors import UsageError

FORMATS = ("jsonl", "json", "md", "text")


def _without(signature: inspect.Signature, *names: str) -> inspect.Signature:
    return signature.replace(parameters=[p for name, p in signature.parameters.items() if name not in names])


def _run(task: str, paths: list[str] | None, format: str, out: Path | None, quiet: bool, progress: bool,
         no_cache: bool, engine: str, ray_address: str | None, ray_actors: int | None,
         ray_cpus_per_actor: float | None, ray_gpus_per_actor: float, ray_ship_models: bool,
         **settings: object) -> None:
    """One `translate` or `summarize` run: options -> Config -> batch.run_batch."""
    runner = make_engine(engine, ray_address=ray_address, ray_actors=ray_actors, ray_cpus_per_actor=ray_cpus_per_actor,
                         ray_gpus_per_actor=ray_gpus_per_actor, ray_ship_models=ray_ship_models)
    fmt = format.lower()
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format {fmt!r}", hint=f"use one of: {', '.join(FORMATS)}")
    if settings.get("offline"):
        os.environ["HF_HUB_OFFLINE"] = "1"  # transformers and huggingface_hub must not try either
    else:
        settings["offline"] = None  # the default: offline only when HF_HUB_OFFLINE says so
    show_progress = not quiet and (progress or sys.stderr.isatty())
    if not show_progress:
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # huggingface_hub's download bars
    config = make_config(task=task, use_cache=not no_cache, **settings)

    from summarizer.batch import run_batch
    from summarizer.sources import discover, read_limit

    if not paths:
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("no input given", hint="pass files or directories, or pipe an article into stdin")
        paths = ["-"]
    stdin = sys.stdin.buffer if "-" in paths else None
    skipped: Counter[str] = Counter()
    docs = discover(paths, stdin=stdin, max_bytes=read_limit(config.max_chars), skipped=skipped)
    if skipped and not quiet:
        reasons = ", ".join(f"{count} {reason}" for reason, count in skipped.most_common())
        typer.echo(f"summarizer: skipped {sum(skipped.values())} file(s) in the folders given: {reasons}", err=True)
    if not docs:
        raise UsageError(f"no articles found in {' '.join(paths)}", hint="inputs are .txt, .md, .html or .htm files")
    failed = run_batch(docs, config, fmt=fmt, out=out, quiet=quiet, show_progress=show_progress, engine=runner)
    if failed:
        raise typer.Exit(1)


def summarize(
    paths: Paths = None, format: FormatOpt = "jsonl", out: OutOpt = None, mt_model: MtModelOpt = None,
    llm: LlmOpt = None,
    strict: StrictOpt = True,
    cache_dir: CacheDirOpt = None, no_cache: NoCacheOpt = False, refresh: RefreshOpt = False,
    threads: ThreadsOpt = None, beams: BeamsOpt = 1, quantize: QuantizeOpt = "none", dtype: DtypeOpt = "auto",
    backend: BackendOpt = "auto", allow_pickle: PickleOpt = False, offline: OfflineOpt = False, quiet: QuietOpt = False,
    progress: ProgressOpt = False, max_chars: MaxCharsOpt = None, article_timeout: TimeoutOpt = None,
    engine: EngineOpt = "local", ray_address: RayAddressOpt = None, ray_actors: RayActorsOpt = None,
    ray_cpus_per_actor: RayCpusOpt = None, ray_gpus_per_actor: RayGpusOpt = 0.0, ray_ship_models: RayShipOpt = False,
) -> None:
    """Translate and summarise articles into structured, source-cited key facts (the main job)."""
    _run("summarize", **locals())


def translate(**options: object) -> None:
    """Translate Indonesian articles into English (one JSON record per article)."""
    _run("translate", **options)


# `translate` takes all of summarize's options except the summary's own (--llm, --strict/--lenient): the two
# commands share one declaration, and Typer reads translate's options from this signature.
translate.__signature__ = _without(inspect.signature(summarize, eval_str=True), "llm", "strict")


def schema(
    record: Annotated[bool, typer.Option("--record", help="The schema of a whole output record instead of the summary.")] = False,
) -> None:
    """Print the JSON Schema of the summary (or of a whole record)."""
    import json

    from summarizer.schema import Record, Summary

    typer.echo(json.dumps((Record if record else Summary).model_json_schema(), indent=2, ensure_ascii=False))
