"""The `summarizer` command line: this module only connects the Typer app to one module per command
group (run, cache, models, eval); options live in options.py, the one error handler in errors.py.

Kept light: nothing heavy (torch, transformers, the pipeline) is imported at module level, so
`summarizer --help` starts fast.
"""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from summarizer import __version__
from summarizer.cli import cache, eval, models, run
from summarizer.cli.errors import Group

# Plain help (rich_markup_mode=None): rich markup would eat every [bracketed] text such as [env ...] and
# [@rev], and loading rich's help renderer costs a third of `--help`'s start-up.
app = typer.Typer(
    name="summarizer",
    cls=Group,
    help="Indonesian news -> faithful English translations and source-grounded key-fact summaries, "
    "on local models. Missing models are downloaded on first use (HF_HUB_OFFLINE=1 or --offline forbids it).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


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


app.command()(run.translate)
app.command()(run.summarize)
app.command()(run.schema)
app.command("eval")(eval.eval_command)
app.add_typer(cache.app, name="cache")
app.add_typer(models.app, name="models", help="List, inspect and download models.")


def main() -> None:
    """Console-script entry point: SIGTERM ends a batch as cleanly as Ctrl-C does."""
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    app()
