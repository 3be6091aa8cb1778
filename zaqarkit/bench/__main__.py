"""``python -m zaqarkit.bench``: the benchmark without the click CLI.

Takes the same options as ``zaqarkit bench`` for the run itself; the
connection is ``--url``/``--ws-url`` plus ``--project-id`` (no-auth servers)
or python-zaqarclient's ``--conf FILE`` (a JSON ``conf`` dict, e.g. with
Keystone ``auth_opts``). Exit status 0 when the run had no error, 1 when any
operation failed, 2 on bad options.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zaqarkit.bench._config import TRANSPORTS, BenchConfig
from zaqarkit.bench._engine import run, transports_of
from zaqarkit.errors import ValidationError, ZaqarError


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The run options (not the connection ones)."""
    a = parser.add_argument
    a("--transport", default="http",
      help=f"one of {', '.join(TRANSPORTS)}, a comma list to compare (interleaved), or all")
    a("--producers", type=int, default=1, help="producer workers per process (default 1)")
    a("--consumers", type=int, default=0, help="consumer workers per process (default 0)")
    a("--observers", type=int, default=0, help="observer workers per process (default 0)")
    a("-p", "--processes", type=int, default=1, help="processes per role (default 1)")
    a("-t", "--time", type=float, default=None,
      help="measured seconds per transport (default 10 unless --messages)")
    a("-m", "--messages", type=int, default=None,
      help="post this many messages per transport, then stop when they are consumed")
    a("--queues", type=int, default=4, help="queues to spread the load over (default 4)")
    a("--queue-prefix", default=None,
      help="queue name prefix (default: zaqarkit-bench-<random>, fresh queues)")
    a("--message-file", default=None, help="weighted message docs, zaqar-bench's JSON format")
    a("--message-size", type=int, default=None, help="bytes per message document")
    a("--claim-batch", type=int, default=5, help="messages per claim (default 5)")
    a("--list-page", type=int, default=5, help="messages per listed page (default 5)")
    a("--rounds", type=int, default=1,
      help="split each transport's time into this many interleaved turns")
    a("--warmup", type=float, default=0.0, help="discarded seconds before measuring")
    a("--skip-queue-reset", action="store_true",
      help="use existing queues as they are (not purged, not deleted)")
    a("--keep-queues", action="store_true", help="do not delete the queues created")
    a("--seed", type=int, default=None)
    a("--server-pid", type=int, action="append", default=[],
      help="pid of a local server process, to report whether it saturated (repeat)")
    a("--json", dest="json_path", default=None, help="write the report as JSON here")
    a("--plot", dest="plot_dir", default=None, help="write PNG charts here (needs matplotlib)")
    a("--no-progress", action="store_true", help="no live display")


def config_from(args: argparse.Namespace, *, url: str | None, ws_url: str | None,
                api_version: str, client_options: dict[str, Any]) -> BenchConfig:
    time_ = args.time if args.time is not None else (None if args.messages else 10.0)
    return BenchConfig(
        url=url, ws_url=ws_url, transports=transports_of(args.transport),
        producers=args.producers, consumers=args.consumers, observers=args.observers,
        processes=args.processes, time=time_, messages=args.messages, queues=args.queues,
        queue_prefix=args.queue_prefix, message_file=args.message_file,
        message_size=args.message_size, claim_batch=args.claim_batch,
        list_page=args.list_page, api_version=api_version,
        skip_queue_reset=args.skip_queue_reset, keep_queues=args.keep_queues,
        rounds=args.rounds, warmup=args.warmup, seed=args.seed,
        client_options=client_options, server_pids=tuple(args.server_pid),
        progress=not args.no_progress,
    )


def execute(config: BenchConfig, json_path: str | None, plot_dir: str | None) -> int:
    """Run, print the table, write JSON and plots; the exit status."""
    report = run(config)
    report.print()
    if json_path:
        print(f"wrote {report.write_json(json_path)}")
    if plot_dir:
        for p in report.plot(plot_dir):
            print(f"wrote {p}")
    return 1 if report.total_errors else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zaqarkit.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", "--os-url", dest="url", default=None,
                        help="Zaqar HTTP endpoint")
    parser.add_argument("--ws-url", default=None, help="Zaqar WebSocket endpoint")
    parser.add_argument("--project-id", default=None, help="X-Project-ID on no-auth servers")
    parser.add_argument("--api-version", default="2", help="1, 1.1 or 2 (HTTP only)")
    parser.add_argument("--conf", type=Path, default=None,
                        help="JSON file: python-zaqarclient's conf dict (auth_opts, ...)")
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    options: dict[str, Any] = {}
    if args.project_id:
        options["project_id"] = args.project_id
    if args.conf is not None:
        options["conf"] = json.loads(args.conf.read_text())
    try:
        config = config_from(args, url=args.url, ws_url=args.ws_url,
                             api_version=args.api_version, client_options=options)
        return execute(config, args.json_path, args.plot_dir)
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ZaqarError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
