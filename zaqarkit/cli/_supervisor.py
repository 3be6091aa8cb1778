"""The background process behind ``zaqarkit server up``.

``python -m zaqarkit.cli._supervisor STATE_FILE [--pooled] [--no-websocket]
[--release NAME]`` starts a :class:`zaqarkit.testing.ZaqarServer`, writes
its URLs and pids to STATE_FILE, and stops it on SIGTERM, SIGINT or SIGHUP,
removing STATE_FILE. Only the standard library and zaqarkit.testing are used.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any


def _write(path: Path, state: dict[str, Any]) -> None:
    # Atomically: `zaqarkit server up` polls this file while it is written.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".server-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(state, f)
    os.replace(tmp, path)


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def run(argv: list[str] | None = None) -> int:
    """Run the supervisor until a stop signal; returns its exit code."""
    parser = argparse.ArgumentParser(prog="zaqarkit-server-supervisor")
    parser.add_argument("state_file", type=Path)
    parser.add_argument("--pooled", action="store_true")
    parser.add_argument("--no-websocket", action="store_true")
    parser.add_argument("--release", default="current")
    args = parser.parse_args(argv)

    from zaqarkit.testing import ZaqarServer

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _raise_stop)
    state: dict[str, Any] = {"supervisor": os.getpid(), "status": "starting"}
    _write(args.state_file, state)
    srv = ZaqarServer(
        release=args.release, pooled=args.pooled, websocket=False if args.no_websocket else None
    )
    try:
        try:
            srv.start()
        except _Stop:
            raise
        except Exception as exc:
            _write(
                args.state_file,
                {**state, "status": "failed", "error": " ".join(str(exc).split())[:2000]},
            )
            return 1
        state.update(
            status="ready",
            url=srv.url,
            ws_url=srv.ws_url if srv.websocket else None,
            pooled=args.pooled,
            release=srv.release.name,
            pids=srv.pids(),
            workdir=str(srv.workdir),
            started=time.time(),
        )
        _write(args.state_file, state)
        print(f"zaqarkit server ready: {srv.url}", flush=True)
        while True:
            time.sleep(3600)
    except _Stop:
        return 0
    finally:
        # Ignore further signals while the server's processes are stopped.
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        srv.stop()
        current = json.loads(args.state_file.read_text()) if args.state_file.exists() else {}
        if current.get("supervisor") == os.getpid() and current.get("status") != "failed":
            args.state_file.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(run())
