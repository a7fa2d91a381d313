"""The `summarizer` command line: parse options, build a Config, run the pipeline, render.

Kept thin and light: nothing heavy (torch, transformers, the pipeline itself) is imported at module
level, so `summarizer --help` starts fast. Known failures become one stderr line and an exit code
(0 all good, 1 some articles failed, 2 usage/setup error); SUMMARIZER_DEBUG=1 shows tracebacks.
"""

from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer

from summarizer import __version__
from summarizer.defaults import DEFAULT_LLM_GGUF, DEFAULT_LLM_TRANSFORMERS, DEFAULT_MT_MODEL
from summarizer.errors import SummarizerError, UsageError

# Plain help (rich_markup_mode=None): rich markup would eat every [bracketed] text such as [env ...] and
# [@rev], and loading rich's help renderer costs a third of `--help`'s start-up.
app = typer.Typer(
    name="summarizer",
    help="Indonesian news -> faithful English translations and source-grounded key-fact summaries, "
    "on local models. Missing models are downloaded on first use (HF_HUB_OFFLINE=1 or --offline forbids it).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
cache_app = typer.Typer(help="Inspect and maintain the on-disk result cache.", no_args_is_help=True,
                        rich_markup_mode=None)
app.add_typer(cache_app, name="cache")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"summarizer {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Options that apply before any command (the help text is the app's)."""


def _register_subcommands() -> None:
    """Command groups that live in their own modules (each as light to import as this one)."""
    from summarizer.cli_eval import eval_command
    from summarizer.cli_models import app as models_app

    app.add_typer(models_app, name="models", help="List, inspect and download models.")
    app.command("eval")(eval_command)


_register_subcommands()

# ----------------------------------------------------------------------------- shared options

Paths = Annotated[Optional[list[str]], typer.Argument(help="Files, directories (recursive: .txt .md .html .htm) or '-' for stdin.", show_default=False)]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="Output format: jsonl, json, md or text (any case).")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Write one file per article plus index.jsonl into DIR instead of stdout.")]
MtModelOpt = Annotated[Optional[str], typer.Option("--mt-model", help=f"Translation model: preset, hub id[@rev], local dir or .gguf [env SUMMARIZER_MT_MODEL; default {DEFAULT_MT_MODEL}].", show_default=False)]
LlmOpt = Annotated[Optional[str], typer.Option("--llm", help=f"Summary model: preset, hub id[@rev], local dir or .gguf [env SUMMARIZER_LLM; default {DEFAULT_LLM_GGUF} when llama-cpp-python is installed, else {DEFAULT_LLM_TRANSFORMERS}].", show_default=False)]
CacheDirOpt = Annotated[Optional[Path], typer.Option("--cache-dir", help="Cache directory [env SUMMARIZER_CACHE_DIR; default ./cache].", show_default=False)]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache.")]
RefreshOpt = Annotated[bool, typer.Option("--refresh", help="Recompute everything and overwrite cached results.")]
ThreadsOpt = Annotated[Optional[int], typer.Option("--threads", min=1, help="CPU threads for the models.", show_default=False)]
BeamsOpt = Annotated[int, typer.Option("--beams", min=1, max=16, help="Beam size (1 = greedy).")]
QuantizeOpt = Annotated[str, typer.Option("--quantize", help="none, or int8 (dynamic int8 Linear layers on CPU).")]
DtypeOpt = Annotated[str, typer.Option("--dtype", help="auto, float32 or bfloat16.")]
BackendOpt = Annotated[str, typer.Option("--backend", help="LLM runtime: auto (llama.cpp for .gguf when installed), transformers or llama.cpp.")]
PickleOpt = Annotated[bool, typer.Option("--allow-pickle", help="Allow pickled (.bin) weights. Only for models you trust.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, per-article messages or final line on stderr (setup errors and download notices still show).")]
OfflineOpt = Annotated[bool, typer.Option("--offline", help="Never touch the network: a missing model is an error [env HF_HUB_OFFLINE=1].")]
ProgressOpt = Annotated[bool, typer.Option("--progress", help="Show a progress bar even when stderr is not a terminal.")]
EngineOpt = Annotated[str, typer.Option("--engine", help="Where models run: local (this process) or ray (a Ray cluster; needs the \\[ray] extra).", rich_help_panel="Scale out")]
RayAddressOpt = Annotated[Optional[str], typer.Option("--ray-address", help="Ray cluster address \\[env RAY_ADDRESS; default: start a local Ray instance].", show_default=False, rich_help_panel="Scale out")]
RayActorsOpt = Annotated[Optional[int], typer.Option("--ray-actors", min=1, help="Workers, each holding the models \\[default: as many as the cluster's CPUs (or GPUs) fit].", show_default=False, rich_help_panel="Scale out")]
RayCpusOpt = Annotated[Optional[float], typer.Option("--ray-cpus-per-actor", min=0.01, help="CPUs (and model threads) per worker \\[default: up to 4].", show_default=False, rich_help_panel="Scale out")]
RayGpusOpt = Annotated[float, typer.Option("--ray-gpus-per-actor", min=0.0, help="GPUs per worker (0 = CPU only).", rich_help_panel="Scale out")]
RayShipOpt = Annotated[bool, typer.Option("--ray-ship-models", help="Send a local model directory or .gguf to the workers through Ray's object store.", rich_help_panel="Scale out")]
MaxCharsOpt = Annotated[Optional[int], typer.Option("--max-chars", min=1, help="Longest article text accepted, in characters (default 100000); longer ones get an error record.", show_default=False)]
TimeoutOpt = Annotated[Optional[float], typer.Option("--article-timeout", min=0, help="Seconds one article may take, model loading excluded (default 900; 0 = no limit); then it gets an error record.", show_default=False)]

FORMATS = ("jsonl", "json", "md", "text")


# Exit codes of the 128 + signal convention shells use, so scripts see what they see from other tools.
EXIT_INTERRUPTED = 130  # SIGINT (Ctrl-C) or SIGTERM
EXIT_BROKEN_PIPE = 141  # SIGPIPE: the reader of stdout went away, as `yes | head` reports



@contextmanager
def user_errors() -> Iterator[None]:
    """Known failures -> one line on stderr and their exit code; tracebacks only with SUMMARIZER_DEBUG.

    A closed stdout (`| head`) ends the run quietly with 141; Ctrl-C with one line and 130. Finished
    articles are already cached (and written, with --out) by then.
    """
    try:
        yield
    except SummarizerError as exc:
        if os.environ.get("SUMMARIZER_DEBUG"):
            raise
        typer.echo(f"summarizer: error: {exc.one_line()}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush cannot fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(EXIT_BROKEN_PIPE) from None
    except KeyboardInterrupt:
        typer.echo("summarizer: interrupted; finished articles are kept and cached, rerun to resume", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _config(task: str, **values: object):
    from pydantic import ValidationError

    from summarizer.config import Config

    given = {k: v for k, v in values.items() if v is not None}
    try:
        return Config(task=task, **given)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(p) for p in problem["loc"])
        raise UsageError(f"invalid --{field.replace('_', '-')}: {problem['msg']}") from None


def _engine(name: str, **ray_options: object):
    """None for the local engine; the Ray engine (checked to be installed) for `--engine ray`."""
    if name == "local":
        given = [f"--{option.replace('_', '-')}" for option, value in ray_options.items() if value not in (None, False, 0.0)]
        if given:
            raise UsageError(f"{given[0]} only applies with --engine ray")
        return None
    if name != "ray":
        raise UsageError(f"unknown --engine {name!r}", hint="use local or ray")
    from summarizer.ray_engine import RayEngine, RaySettings, require_ray

    require_ray()
    return RayEngine(RaySettings(address=ray_options["ray_address"], actors=ray_options["ray_actors"],
                                 cpus_per_actor=ray_options["ray_cpus_per_actor"],
                                 gpus_per_actor=ray_options["ray_gpus_per_actor"] or 0.0,
                                 ship_models=bool(ray_options["ray_ship_models"])))


def _run(task: str, paths: list[str] | None, fmt: str, out: Path | None, quiet: bool, progress: bool,
         engine: object = None, **settings: object) -> None:
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format {fmt!r}", hint=f"use one of: {', '.join(FORMATS)}")
    if settings.get("offline"):
        os.environ["HF_HUB_OFFLINE"] = "1"  # transformers and huggingface_hub must not try either
    else:
        settings["offline"] = None  # the default: offline only when HF_HUB_OFFLINE says so
    show_progress = not quiet and (progress or sys.stderr.isatty())
    if not show_progress:
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # huggingface_hub's download bars
    config = _config(task, **settings)

    from summarizer.batch import run_batch
    from collections import Counter

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
    failed = run_batch(docs, config, fmt=fmt, out=out, quiet=quiet, show_progress=show_progress, engine=engine)
    if failed:
        raise typer.Exit(1)


# ----------------------------------------------------------------------------- commands


@app.command()
def translate(
    paths: Paths = None, format: FormatOpt = "jsonl", out: OutOpt = None, mt_model: MtModelOpt = None,
    cache_dir: CacheDirOpt = None, no_cache: NoCacheOpt = False, refresh: RefreshOpt = False,
    threads: ThreadsOpt = None, beams: BeamsOpt = 1, quantize: QuantizeOpt = "none", dtype: DtypeOpt = "auto",
    backend: BackendOpt = "auto", allow_pickle: PickleOpt = False, offline: OfflineOpt = False, quiet: QuietOpt = False,
    progress: ProgressOpt = False, max_chars: MaxCharsOpt = None, article_timeout: TimeoutOpt = None,
    engine: EngineOpt = "local", ray_address: RayAddressOpt = None, ray_actors: RayActorsOpt = None,
    ray_cpus_per_actor: RayCpusOpt = None, ray_gpus_per_actor: RayGpusOpt = 0.0, ray_ship_models: RayShipOpt = False,
) -> None:
    """Translate Indonesian articles into English (one JSON record per article)."""
    with user_errors():
        runner = _engine(engine, ray_address=ray_address, ray_actors=ray_actors, ray_cpus_per_actor=ray_cpus_per_actor,
                         ray_gpus_per_actor=ray_gpus_per_actor, ray_ship_models=ray_ship_models)
        _run("translate", paths, format, out, quiet, progress, engine=runner, mt_model=mt_model, cache_dir=cache_dir,
             use_cache=not no_cache, refresh=refresh, threads=threads, beams=beams, quantize=quantize,
             dtype=dtype, backend=backend, allow_pickle=allow_pickle, offline=offline, max_chars=max_chars,
             article_timeout=article_timeout)


@app.command()
def summarize(
    paths: Paths = None, format: FormatOpt = "jsonl", out: OutOpt = None, mt_model: MtModelOpt = None,
    llm: LlmOpt = None,
    strict: Annotated[bool, typer.Option("--strict/--lenient", help="Drop unsupported summary items (strict) or keep them flagged (lenient).")] = True,
    cache_dir: CacheDirOpt = None, no_cache: NoCacheOpt = False, refresh: RefreshOpt = False,
    threads: ThreadsOpt = None, beams: BeamsOpt = 1, quantize: QuantizeOpt = "none", dtype: DtypeOpt = "auto",
    backend: BackendOpt = "auto", allow_pickle: PickleOpt = False, offline: OfflineOpt = False, quiet: QuietOpt = False,
    progress: ProgressOpt = False, max_chars: MaxCharsOpt = None, article_timeout: TimeoutOpt = None,
    engine: EngineOpt = "local", ray_address: RayAddressOpt = None, ray_actors: RayActorsOpt = None,
    ray_cpus_per_actor: RayCpusOpt = None, ray_gpus_per_actor: RayGpusOpt = 0.0, ray_ship_models: RayShipOpt = False,
) -> None:
    """Translate and summarise articles into structured, source-cited key facts (the main job)."""
    with user_errors():
        runner = _engine(engine, ray_address=ray_address, ray_actors=ray_actors, ray_cpus_per_actor=ray_cpus_per_actor,
                         ray_gpus_per_actor=ray_gpus_per_actor, ray_ship_models=ray_ship_models)
        _run("summarize", paths, format, out, quiet, progress, engine=runner, mt_model=mt_model, llm=llm, strict=strict,
             cache_dir=cache_dir, use_cache=not no_cache, refresh=refresh, threads=threads, beams=beams,
             quantize=quantize, dtype=dtype, backend=backend, allow_pickle=allow_pickle, offline=offline,
             max_chars=max_chars, article_timeout=article_timeout)


@app.command()
def schema(
    record: Annotated[bool, typer.Option("--record", help="The schema of a whole output record instead of the summary.")] = False,
) -> None:
    """Print the JSON Schema of the summary (or of a whole record)."""
    import json

    from summarizer.schema import Record, Summary

    typer.echo(json.dumps((Record if record else Summary).model_json_schema(), indent=2, ensure_ascii=False))


# ----------------------------------------------------------------------------- cache


def _open_cache(cache_dir: Path | None):
    """The result cache, or None when its directory does not exist (inspecting must not create it)."""
    from summarizer.cache import ResultCache
    from summarizer.config import default_cache_dir

    directory = cache_dir or default_cache_dir()
    if not os.path.lexists(directory):
        return None
    return ResultCache(directory, maintenance=True)  # inspects only: creates, repairs and moves nothing


@cache_app.command("stats")
def cache_stats(
    cache_dir: CacheDirOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")] = False,
) -> None:
    """Entries per stage, size on disk and the last run's hits and misses."""
    import json

    from summarizer.config import default_cache_dir

    with user_errors():
        cache = _open_cache(cache_dir)
    if cache is None:
        stats = {"directory": str(cache_dir or default_cache_dir()), "exists": False, "entries": 0,
                 "entries_per_stage": {}, "size_bytes": 0, "last_run": None}
    else:
        stats = {"exists": True, **cache.stats()}
        cache.close()
    if json_output:
        typer.echo(json.dumps(stats, indent=2))
        return
    typer.echo("\n".join(stats_table(stats)))


def stats_table(stats: dict) -> list[str]:
    """`cache stats` for people: one labelled line per fact, counts per stage in brackets."""
    import datetime

    def per_stage(counts: dict) -> str:
        return ", ".join(f"{stage} {count:,}" for stage, count in sorted(counts.items())) or "none"

    lines = [f"directory  {stats['directory']}" + ("" if stats.get("exists", True) else "  (does not exist yet)")]
    lines.append(f"entries    {stats.get('entries', 0):,}  ({per_stage(stats.get('entries_per_stage') or {})})")
    size = stats.get("size_bytes", 0)
    lines.append(f"size       {size / 2**20:.1f} MiB" if size >= 2**20 else f"size       {size / 2**10:.0f} KiB")
    last = stats.get("last_run")
    if last:
        when = datetime.datetime.fromtimestamp(last["finished"]).strftime("%Y-%m-%d %H:%M")
        lines.append(f"last run   {when}: hits {sum(last['hits'].values()):,} ({per_stage(last['hits'])}), "
                     f"misses {sum(last['misses'].values()):,} ({per_stage(last['misses'])})")
    return lines


@cache_app.command("clear")
def cache_clear(cache_dir: CacheDirOpt = None) -> None:
    """Remove every cached result."""
    with user_errors():
        cache = _open_cache(cache_dir)
        removed = cache.clear() if cache else 0
    if cache:
        cache.close()
    typer.echo(f"removed {removed} entries")


@cache_app.command("prune")
def cache_prune(
    older_than: Annotated[str, typer.Option("--older-than", help="Age such as 30d, 12h or 90m.")],
    cache_dir: CacheDirOpt = None,
) -> None:
    """Remove results stored longer ago than --older-than."""
    with user_errors():
        seconds = parse_age(older_than)
        cache = _open_cache(cache_dir)
        removed = cache.prune(seconds) if cache else 0
        if cache:
            cache.close()
        typer.echo(f"removed {removed} entries older than {older_than}")


def parse_age(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    number, unit = text[:-1], text[-1:].lower()
    try:
        if unit in units and float(number) >= 0:
            return float(number) * units[unit]
    except ValueError:
        pass
    raise UsageError(f"cannot read the age {text!r}", hint="use a number and a unit, e.g. 30d, 12h, 90m")


def main() -> None:
    """Console-script entry point: SIGTERM ends a batch as cleanly as Ctrl-C does."""
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        app()
    except SummarizerError as exc:  # raised by command groups that leave error mapping to the entry point
        if os.environ.get("SUMMARIZER_DEBUG"):
            raise
        typer.echo(f"summarizer: error: {exc.one_line()}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("summarizer: interrupted; finished articles are cached, rerun to resume", err=True)
        sys.exit(130)
