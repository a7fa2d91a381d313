"""`summarizer cache stats|clear|prune`: inspect and maintain everything a run writes under the cache
directory: the result database (cache.py), llama.cpp prompt states and converted models (cache_parts.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from summarizer.cli.options import CacheDirOpt, CachePartsOpt, JsonOpt
from summarizer.errors import UsageError

app = typer.Typer(help="Inspect and maintain the cache. It holds results, llama.cpp prompt states and "
                       "GGUF weights converted for transformers.",
                  no_args_is_help=True, rich_markup_mode=None)

PARTS = ("results", "states", "models")


def _directory(cache_dir: Path | None) -> Path:
    from summarizer.config import default_cache_dir

    return cache_dir or default_cache_dir()


def _open_cache(directory: Path):
    """The result cache, or None when its directory does not exist (inspecting must not create it).
    Raises CacheError for a directory that is not a summarizer cache, before any part is looked at."""
    from summarizer.cache import ResultCache

    if not os.path.lexists(directory):
        return None
    return ResultCache(directory, maintenance=True)  # inspects only: creates, repairs and moves nothing


@app.command("stats")
def cache_stats(
    cache_dir: CacheDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Show what the cache holds. Results per stage, prompt states and converted models per model, with
    their sizes on disk (links not followed)."""
    import json

    from summarizer.cache_parts import models_stats, states_stats

    directory = _directory(cache_dir)
    cache = _open_cache(directory)
    if cache is None:
        stats = {"directory": str(directory), "exists": False, "entries": 0,
                 "entries_per_stage": {}, "size_bytes": 0, "last_run": None}
    else:
        try:
            stats = {"exists": True, **cache.stats()}
        finally:
            cache.close()
    stats["states"] = states_stats(directory)
    stats["models"] = models_stats(directory)
    stats["total_bytes"] = stats["size_bytes"] + stats["states"]["bytes"] + stats["models"]["bytes"]
    if json_output:
        typer.echo(json.dumps(stats, indent=2))
        return
    typer.echo("\n".join(stats_table(stats)))


def stats_table(stats: dict) -> list[str]:
    """`cache stats` for people: one labelled line per part, then one indented line per model."""
    import datetime

    def per_stage(counts: dict) -> str:
        return ", ".join(f"{stage} {count:,}" for stage, count in sorted(counts.items())) or "none"

    def when(timestamp: float) -> str:
        return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")

    lines = [f"directory  {stats['directory']}" + ("" if stats.get("exists", True) else "  (does not exist yet)")]
    lines.append(f"results    {stats['entries']:,} entries ({per_stage(stats['entries_per_stage'])}), "
                 f"{human_size(stats['size_bytes'])}")
    last = stats.get("last_run")
    if last:
        lines.append(f"last run   {when(last['finished'])}: hits {sum(last['hits'].values()):,} "
                     f"({per_stage(last['hits'])}), misses {sum(last['misses'].values()):,} ({per_stage(last['misses'])})")
    states = stats["states"]
    lines.append(f"states     {_count(states['files'], 'file')}, {human_size(states['bytes'])} (llama.cpp prompt states)")
    for model in states["models"]:
        used = f", last used {when(model['last_used'])}" if model["last_used"] else ""
        lines.append(f"  {model['model']}  {_count(model['files'], 'file')}, {human_size(model['bytes'])}{used}")
    models = stats["models"]
    unfinished = sum(1 for model in models["models"] if not model["complete"])
    lines.append(f"models     {models['directories'] - unfinished:,} converted"
                 + (f" + {unfinished:,} unfinished" if unfinished else "")
                 + f", {human_size(models['bytes'])} (GGUF weights dequantised for transformers)")
    for model in models["models"]:
        note = "" if model["complete"] else " (unfinished: a stopped conversion)"
        lines.append(f"  {model['model']}/{model['dtype']}  {human_size(model['bytes'])}, "
                     f"last used {when(model['last_used'])}{note}")
    lines.append(f"total      {human_size(stats['total_bytes'])}")
    return lines


@app.command("clear")
def cache_clear(cache_dir: CacheDirOpt = None, only: CachePartsOpt = None) -> None:
    """Remove every part of the cache, or --only some. Results, llama.cpp prompt states and converted models."""
    directory = _directory(cache_dir)
    typer.echo(f"removed {_remove(directory, chosen_parts(only), None)}")


@app.command("prune")
def cache_prune(
    older_than: Annotated[str, typer.Option("--older-than", help="Age such as 30d, 12h or 90m: results stored, and prompt states and converted models last used, longer ago than this.")],
    cache_dir: CacheDirOpt = None,
    only: CachePartsOpt = None,
) -> None:
    """Remove what is older than --older-than. Results by when they were stored, prompt states and converted
    models by when they were last used; all parts, or --only some."""
    seconds = parse_age(older_than)
    parts = chosen_parts(only)
    typer.echo(f"removed {_remove(_directory(cache_dir), parts, seconds)} older than {older_than}")


def _remove(directory: Path, parts: tuple[str, ...], older_than: float | None) -> str:
    """Clear `parts` of the cache in `directory` (with `older_than`, in seconds: prune them); says what went."""
    import time

    from summarizer.cache_parts import clear_models, clear_states

    unused_since = None if older_than is None else time.time() - older_than
    cache = _open_cache(directory)  # first: a directory that is not a summarizer cache is left alone
    said = []
    try:
        if "results" in parts:
            if cache is None:
                results = 0
            elif older_than is None:
                results = cache.clear()
            else:
                results = cache.prune(older_than)
            said.append(_count(results, "result"))
    finally:
        if cache is not None:
            cache.close()
    if "states" in parts:
        states = clear_states(directory, unused_since)
        said.append(_removed(states, "prompt state"))
    if "models" in parts:
        models = clear_models(directory, unused_since)
        said.append(_removed(models, "converted model"))
    return ", ".join(said)


def chosen_parts(only: list[str] | None) -> tuple[str, ...]:
    """The parts --only names (repeated or comma-separated, any case), in PARTS order; all by default."""
    if not only:
        return PARTS
    names = {name.strip().lower() for value in only for name in value.split(",")}
    names.discard("")
    unknown = sorted(names - set(PARTS))
    if unknown or not names:
        raise UsageError(f"unknown --only part {unknown[0] if unknown else ''!r}", hint="use results, states or models")
    return tuple(part for part in PARTS if part in names)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _removed(tally, noun: str) -> str:
    return _count(tally.count, noun) + (f" ({human_size(tally.bytes)})" if tally.count else "")


def human_size(size: float) -> str:
    """Binary units, as `du -h` shows them."""
    if size < 1024:
        return f"{size:.0f} B"
    for unit in ("KiB", "MiB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} GiB"


def parse_age(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    number, unit = text[:-1], text[-1:].lower()
    try:
        if unit in units and float(number) >= 0:
            return float(number) * units[unit]
    except ValueError:
        pass
    raise UsageError(f"cannot read the age {text!r}", hint="use a number and a unit, e.g. 30d, 12h, 90m")
