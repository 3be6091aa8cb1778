"""The root ``zaqarkit`` group: global options, lazy subcommands, errors as one line.

Exit codes: 0 success, 1 any other zaqarkit error, 2 usage errors and bad input
(a ValidationError, detected before anything is sent), 3 an error answer from
the server (ApiError), 4 no usable answer (connection refused, timeout: a
TransportError), 5 an operation the API version or transport does not offer
(UnsupportedOperation), 130 interrupted.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Any

import click

from zaqarkit.cli._options import connection_options
from zaqarkit.errors import (
    ApiError,
    TransportError,
    UnsupportedOperation,
    ValidationError,
    ZaqarError,
)

__all__ = [
    "EXIT_API",
    "EXIT_CONNECTION",
    "EXIT_UNSUPPORTED",
    "EXIT_USAGE",
    "SUBCOMMANDS",
    "cli",
    "main",
]

EXIT_USAGE = 2
EXIT_API = 3
EXIT_CONNECTION = 4
EXIT_UNSUPPORTED = 5
EXIT_INTERRUPTED = 130

#: Subcommand name -> "module:attribute" of its click command, imported when used.
#: To add a subcommand, add one line here.
SUBCOMMANDS: dict[str, str] = {
    "queue": "zaqarkit.cli.queues:queue",
    "message": "zaqarkit.cli.messages:message",
    "claim": "zaqarkit.cli.claims:claim",
    "subscription": "zaqarkit.cli.subscriptions:subscription",
    "pool": "zaqarkit.cli.admin:pool",
    "flavor": "zaqarkit.cli.admin:flavor",
    "ping": "zaqarkit.cli.service:ping",
    "health": "zaqarkit.cli.service:health",
    "homedoc": "zaqarkit.cli.service:homedoc",
    "tail": "zaqarkit.cli.tail:tail",
    "consume": "zaqarkit.cli.consume:consume",
    "server": "zaqarkit.cli.server:server",
    "bench": "zaqarkit.cli.bench:bench",
}


class CliError(click.ClickException):
    """A zaqarkit error shown as one line on stderr with its exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        click.echo(f"zaqarkit: {self.message}", file=file or sys.stderr)


def exit_code_for(error: BaseException) -> int:
    """The process exit code for a zaqarkit error.

    >>> exit_code_for(ValidationError("ttl", "must be at least 60"))
    2
    """
    if isinstance(error, ValidationError):
        return EXIT_USAGE
    if isinstance(error, ApiError):
        return EXIT_API
    if isinstance(error, TransportError):
        return EXIT_CONNECTION
    if isinstance(error, UnsupportedOperation):
        return EXIT_UNSUPPORTED
    return 1


def one_line(error: BaseException) -> str:
    """``Type: message`` on a single line.

    >>> one_line(ValidationError("ttl", "must be at least 60,\\ngot 5"))
    'ValidationError: ttl: must be at least 60, got 5'
    """
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class _RootGroup(click.Group):
    """Loads subcommands on first use and turns zaqarkit errors into one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*SUBCOMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ZaqarError as error:
            raise CliError(one_line(error), exit_code_for(error)) from None
        except KeyboardInterrupt:
            click.echo("zaqarkit: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


_debug_handler: logging.Handler | None = None


def _configure_logging(debug: bool) -> None:
    global _debug_handler
    root = logging.getLogger("zaqarkit")
    if _debug_handler is not None:
        # Invoked again in the same process (tests, embedding): one handler.
        root.removeHandler(_debug_handler)
        _debug_handler = None
    if not debug:
        return
    # Logging only: the transports' own loggers (zaqarkit.http, ...) decide
    # what a request looks like and redact its secrets.
    _debug_handler = logging.StreamHandler(sys.stderr)
    _debug_handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root.addHandler(_debug_handler)
    root.setLevel(logging.DEBUG)


@click.group(cls=_RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@connection_options
@click.option(
    "--debug",
    is_flag=True,
    envvar="ZAQARKIT_DEBUG",
    help="Log every request and response (secrets redacted) on stderr.",
)
@click.version_option(package_name="zaqarkit", prog_name="zaqarkit")
def cli(debug: bool) -> None:
    """A command line for OpenStack Zaqar: queues, messages, claims,
    subscriptions, pools, flavors, live tails and a local development server.

    Connection options come first (or from the OS_* environment):
    zaqarkit --os-url http://127.0.0.1:8888 --os-project-id demo queue list
    """
    _configure_logging(debug)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line and exit with its code.

    Example::

        main(["--os-url", "http://127.0.0.1:8888", "ping"])
    """
    cli.main(args=list(argv) if argv is not None else None, prog_name="zaqarkit")
