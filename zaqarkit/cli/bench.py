"""``zaqarkit bench``: benchmark a Zaqar deployment (the engine is :mod:`zaqarkit.bench`).

The connection options are the CLI's own (``--os-url``/``--url``,
``--ws-url``, ``--os-project-id``, Keystone, ``--api-version``, ...), given
before ``bench`` or after it.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from zaqarkit.bench import TRANSPORTS, BenchConfig, run, transports_of
from zaqarkit.cli._options import ConnectionOptions, connection, connection_options
from zaqarkit.errors import ZaqarError

__all__ = ["bench", "config_for"]


def config_for(
    conn: ConnectionOptions, transports: tuple[str, ...], **run_options: Any
) -> BenchConfig:
    """A :class:`~zaqarkit.bench.BenchConfig` from the CLI's connection options.

    >>> conn = ConnectionOptions(url="http://h:8888", ws_url="ws://h:9000", project_id="p")
    >>> cfg = config_for(conn, ("http", "ws"))
    >>> cfg.url, cfg.ws_url, cfg.api_version, cfg.client_options["project_id"]
    ('http://h:8888', 'ws://h:9000', '2', 'p')
    """
    wires = {TRANSPORTS[t][2] for t in transports if t in TRANSPORTS}
    url = conn.endpoint(websocket=False) if "http" in wires else None
    ws_url = conn.endpoint(websocket=True) if "ws" in wires else None
    kwargs = conn.client_kwargs(websocket="http" not in wires)
    # The engine gives each transport its own endpoint; the HTTP fallback of a
    # WebSocket client would hide which wire an operation took.
    for key in ("url", "http_url", "version"):
        kwargs.pop(key, None)
    return BenchConfig(
        url=url,
        ws_url=ws_url,
        transports=transports,
        api_version=conn.api_version,
        client_options=kwargs,
        **run_options,
    )


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@connection_options
@click.option(
    "--transport",
    default="http",
    show_default=True,
    help=f"{'|'.join(TRANSPORTS)}, a comma list to compare (interleaved), or all.",
)
@click.option(
    "--producers", type=int, default=1, show_default=True, help="Producer workers per process."
)
@click.option(
    "--consumers",
    type=int,
    default=0,
    show_default=True,
    help="Consumer workers per process (claim, then delete each message).",
)
@click.option(
    "--observers",
    type=int,
    default=0,
    show_default=True,
    help="Observer workers per process (list pages following the marker).",
)
@click.option(
    "-p", "--processes", type=int, default=1, show_default=True, help="Client processes per role."
)
@click.option(
    "-t",
    "--time",
    "time_",
    type=float,
    default=None,
    help="Measured seconds per transport [default: 10 unless --messages].",
)
@click.option(
    "-m",
    "--messages",
    type=int,
    default=None,
    help="Post this many messages per transport, stop once they are consumed.",
)
@click.option(
    "--queues", type=int, default=4, show_default=True, help="Queues to spread the load over."
)
@click.option(
    "--queue-prefix",
    default=None,
    help="Queue name prefix [default: zaqarkit-bench-<random>: fresh queues].",
)
@click.option(
    "--message-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Weighted message documents, zaqar-bench's JSON format.",
)
@click.option("--message-size", type=int, default=None, help="Bytes per message document.")
@click.option("--claim-batch", type=int, default=5, show_default=True, help="Messages per claim.")
@click.option(
    "--list-page", type=int, default=5, show_default=True, help="Messages per listed page."
)
@click.option(
    "--rounds",
    type=int,
    default=1,
    show_default=True,
    help="Split each transport's time into this many interleaved turns.",
)
@click.option(
    "--warmup",
    type=float,
    default=0.0,
    show_default=True,
    help="Discarded seconds before measuring.",
)
@click.option(
    "--skip-queue-reset",
    is_flag=True,
    help="Use existing queues as they are: not refused, purged nor deleted.",
)
@click.option("--keep-queues", is_flag=True, help="Do not delete the queues the run created.")
@click.option("--seed", type=int, default=None, help="Seed for queue choice and turn order.")
@click.option(
    "--server-pid",
    type=int,
    multiple=True,
    help="Pid of a local server process: report whether it saturated (repeat).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the report as JSON to this file.",
)
@click.option(
    "--plot",
    "plot_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write PNG charts to this folder (needs zaqarkit[plot]).",
)
@click.option("--no-progress", is_flag=True, help="No live display while running.")
def bench(
    transport: str,
    json_path: str | None,
    plot_dir: str | None,
    no_progress: bool,
    time_: float | None,
    server_pid: tuple[int, ...],
    **options: Any,
) -> None:
    """Benchmark the deployment: producers post, consumers claim and delete,
    observers list; every transport given is run in interleaved turns, and the
    report shows per transport and role ops/s, messages/s, latency
    p50/p90/p99/max per operation, errors by type and client CPU per op.
    Exit status 1 when any operation failed.

    zaqarkit bench --url http://127.0.0.1:8888 --ws-url ws://127.0.0.1:9000
    --transport http,ws --producers 4 --consumers 4 --time 30
    """
    from zaqarkit.cli.main import CliError, exit_code_for, one_line

    if time_ is None and options["messages"] is None:
        time_ = 10.0
    try:
        cfg = config_for(
            connection(),
            transports_of(transport),
            time=time_,
            server_pids=server_pid,
            progress=not no_progress,
            **options,
        )
        report = run(cfg)
    except ZaqarError as error:
        raise CliError(one_line(error), exit_code_for(error)) from None
    report.print()
    if json_path:
        click.echo(f"wrote {report.write_json(json_path)}", err=True)
    if plot_dir:
        try:
            written = report.plot(plot_dir)
        except ZaqarError as error:
            raise CliError(one_line(error), exit_code_for(error)) from None
        for path in written:
            click.echo(f"wrote {path}", err=True)
    if report.total_errors:
        sys.exit(1)
