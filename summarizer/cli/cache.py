"""`summarizer cache stats|clear|prune`: inspect and maintain the on-disk result cache (cache.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from summarizer.cli.options import CacheDirOpt, JsonOpt
from summarizer.errors import UsageError

app = typer.Typer(help="Inspect and maintain the on-disk result cache.", no_args_is_help=True,
                  rich_markup_mode=None)


def _open_cache(cache_dir: Path | None):
    """The result cache, or None when its directory does not exist (inspecting must not create it)."""
    from summarizer.cache import ResultCache
    from summarizer.config import default_cache_dir

    directory = cache_dir or default_cache_dir()
    if not os.path.lexists(directory):
        return None
    return ResultCache(directory, maintenance=True)  # inspects only: creates, repairs and moves nothing


@app.command("stats")
def cache_stats(
    cache_dir: CacheDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Entries per stage, size on disk and the last run's hits and misses."""
    import json

    from summarizer.config import default_cache_dir

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


@app.command("clear")
def cache_clear(cache_dir: CacheDirOpt = None) -> None:
    """Remove every cached result."""
    cache = _open_cache(cache_dir)
    removed = cache.clear() if cache else 0
    if cache:
        cache.close()
    typer.echo(f"removed {removed} entries")


@app.command("prune")
def cache_prune(
    older_than: Annotated[str, typer.Option("--older-than", help="Age such as 30d, 12h or 90m.")],
    cache_dir: CacheDirOpt = None,
) -> None:
    """Remove results stored longer ago than --older-than."""
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
