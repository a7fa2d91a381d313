"""The CLI's one error handler. Every command runs inside `Group.invoke`, which turns known failures into
one line on stderr and an exit code (0 all good, 1 some articles failed, 2 usage/setup error, 130
interrupted, 141 stdout closed); SUMMARIZER_DEBUG=1 lets tracebacks through. Handling it at the group,
not in each command, also covers Ctrl-C, which Typer would otherwise turn into a silent exit 130."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

try:  # the click that Typer runs on: recent Typer releases ship their own copy
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - Typer releases that use the click package
    from click.exceptions import NoArgsIsHelpError, UsageError

from summarizer.errors import SummarizerError

# Exit codes of the 128 + signal convention shells use, so scripts see what they see from other tools.
EXIT_INTERRUPTED = 130  # SIGINT (Ctrl-C) or SIGTERM
EXIT_BROKEN_PIPE = 141  # SIGPIPE: the reader of stdout went away, as `yes | head` reports
INTERRUPTED = "summarizer: interrupted; finished articles are kept and cached, rerun to resume"


def error_line(message: str) -> str:
    return f"summarizer: error: {' '.join(message.split())}"


class OneLineUsageError(UsageError):
    """A click usage error (unknown option, bad value) shown as one stderr line, exit code 2."""

    def show(self, file: Any = None) -> None:
        where = f" (see '{self.ctx.command_path} --help')" if self.ctx else ""
        typer.echo(error_line(self.format_message() + where), err=True)


class Group(TyperGroup):
    """The app's command group: parsing errors become one line, and every command runs in `_handled`."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _one_line_usage():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _one_line_usage():
            return _handled(super().invoke, ctx)


class _one_line_usage:
    """Re-raise click's usage errors as OneLineUsageError; leave "no arguments: show help" alone."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: BaseException | None, traceback: Any) -> bool:
        if isinstance(error, UsageError) and not isinstance(error, (OneLineUsageError, NoArgsIsHelpError)):
            raise OneLineUsageError(error.format_message(), error.ctx) from None
        return False


def _handled(invoke: Any, ctx: Any) -> Any:
    try:
        return invoke(ctx)
    except SummarizerError as exc:
        if os.environ.get("SUMMARIZER_DEBUG"):
            raise
        typer.echo(error_line(exc.one_line()), err=True)
        raise typer.Exit(exc.exit_code) from None
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush cannot fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(EXIT_BROKEN_PIPE) from None
    except KeyboardInterrupt:
        typer.echo(INTERRUPTED, err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
