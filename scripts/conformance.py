"""WebSocket conformance: the Autobahn|Testsuite fuzzing server against each of
zaqarkit's WebSocket client backends, and against websockets' own sync client
as the yardstick.

Usage (``nox -s conformance`` runs it in a session with the ``websockets`` extra)::

    python scripts/conformance.py                    # every backend, the default cases
    python scripts/conformance.py --backends sync --cases '1.*,2.*'

Each backend is an echo client: it connects to the fuzzing server once per
case and sends back every message it receives, as it came (text or binary),
until the server closes. The server then judges each case: OK, NON-STRICT,
INFORMATIONAL, UNIMPLEMENTED or FAILED. The run fails when a backend of ours
FAILED a case or has more NON-STRICT cases than websockets' client.

The fuzzing server (the ``autobahntestsuite`` package) runs on Python 2.7
only: it is installed on first use into ``~/.cache/zaqarkit/conformance``
(``$ZAQARKIT_CACHE_DIR/../conformance`` when that is set) with a Python 2.7
from ``$ZAQARKIT_PYTHON27``, ``python2.7`` on PATH or pyenv's
``versions/2.7.*``. Reports land in ``--out`` (default: a temporary folder).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import trio
import websockets.sync.client
from websockets.exceptions import ConnectionClosed

from zaqarkit.testing import cache_root
from zaqarkit.testing._provision import python_candidates
from zaqarkit.transports._aiows import AsyncioWebSocket
from zaqarkit.transports._sockets import AsyncWebSocketStream, ConnectionEnded
from zaqarkit.transports._syncws import SyncWebSocket
from zaqarkit.transports._triows import TrioWebSocket

#: The client cases the issue asks for: framing (1-7), large messages (9.1,
#: 9.2: text and binary up to 16 MiB) and auto-fragmentation (10).
DEFAULT_CASES = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.1.*", "9.2.*", "10.*"]
AUTOBAHN = "autobahntestsuite==25.10.1"
#: The longest a case may run before its client gives up (9.x sends 16 MiB
#: messages a hundred times over).
CASE_TIMEOUT = 120.0
REFERENCE = "websockets-sync"
BEHAVIOURS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")


# -- the echo clients -------------------------------------------------------------------


def echo_sync(url: str) -> None:
    """zaqarkit's blocking socket backend."""
    ws = SyncWebSocket.connect(url, open_timeout=10, max_size=None)
    deadline = time.monotonic() + CASE_TIMEOUT
    try:
        while time.monotonic() < deadline:
            for message in ws.read(timeout=1.0) or ():
                ws.send(message, deadline=deadline)
    except (ConnectionEnded, ConnectionError):
        return  # the server closed (perhaps while we echoed): the case decides
    finally:
        ws.abort()


def echo_asyncio(url: str) -> None:
    """zaqarkit's asyncio Protocol backend."""

    async def run() -> None:
        ws = await AsyncioWebSocket.connect(url, open_timeout=10, max_size=None)
        async with asyncio.timeout(CASE_TIMEOUT):
            await _echo_async(ws)

    asyncio.run(run())


def echo_trio(url: str) -> None:
    """zaqarkit's trio stream backend."""

    async def run() -> None:
        ws = await TrioWebSocket.connect(url, open_timeout=10, max_size=None)
        with trio.fail_after(CASE_TIMEOUT):
            await _echo_async(ws)

    trio.run(run)


async def _echo_async(ws: AsyncWebSocketStream) -> None:
    """The echo loop over the async socket interface (asyncio and trio alike)."""

    def echo(messages: list[str | bytes]) -> None:
        for message in messages:
            with contextlib.suppress(ConnectionError):  # the server closed while we echoed
                ws.send(message)

    try:
        await ws.serve(echo)  # returns once the server closed: the case decides
    finally:
        ws.abort()


def echo_websockets(url: str) -> None:
    """websockets' own sync client: the yardstick."""
    with websockets.sync.client.connect(
        url, max_size=None, compression=None, open_timeout=10
    ) as ws:
        try:
            while True:
                ws.send(ws.recv(timeout=CASE_TIMEOUT))
        except (ConnectionClosed, TimeoutError):
            return


BACKENDS: dict[str, Callable[[str], None]] = {
    "sync": echo_sync,
    "asyncio": echo_asyncio,
    "trio": echo_trio,
}


# -- the fuzzing server -----------------------------------------------------------------


def _python27() -> str:
    candidates = [os.environ.get("ZAQARKIT_PYTHON27"), *python_candidates("2.7")]
    for candidate in filter(None, candidates):
        check = "import sys; assert sys.version_info[:2] == (2, 7)"
        done = subprocess.run([candidate, "-c", check], capture_output=True, check=False)
        if done.returncode == 0:
            return candidate
    raise SystemExit(
        "the Autobahn fuzzing server needs Python 2.7: none found (set "
        "ZAQARKIT_PYTHON27, put python2.7 on PATH or install it with pyenv)"
    )


def autobahn_home() -> tuple[str, Path]:
    """A Python 2.7 and a folder holding autobahntestsuite, installed on first use."""
    python = _python27()
    home = cache_root().parent / "conformance" / AUTOBAHN.replace("==", "-")
    marker = home / "installed"
    if not marker.exists():
        shutil.rmtree(home, ignore_errors=True)
        print(f"installing {AUTOBAHN} for {python} into {home} (first run)", flush=True)
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--target",
                str(home),
                AUTOBAHN,
            ],
            check=True,
        )
        marker.write_text(AUTOBAHN)
    return python, home


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_fuzzing_server(out: Path, cases: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    python, home = autobahn_home()
    port = _free_port()
    url = f"ws://127.0.0.1:{port}"
    spec = out / "fuzzingserver.json"
    spec.write_text(
        json.dumps(
            {
                "url": url,
                "outdir": str(out / "reports"),
                "cases": cases,
                "exclude-cases": [],
                "exclude-agent-cases": {},
            }
        )
    )
    # --target installs skip .pth files, and zope.interface (Twisted's) is a
    # namespace package that needs them: addsitedir processes them.
    boot = (
        f"import site, sys; site.addsitedir({str(home)!r}); "
        "sys.argv = ['wstest', '-m', 'fuzzingserver', '-s', sys.argv[1]]; "
        "from autobahntestsuite.wstest import run; run()"
    )
    log = open(out / "fuzzingserver.log", "wb")  # noqa: SIM115 (lives as long as the server)
    server = subprocess.Popen(
        [python, "-c", boot, str(spec)], cwd=out, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the fuzzing server exited: see {out / 'fuzzingserver.log'}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, url
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the fuzzing server did not listen within 60 s")


def _control(url: str) -> str:
    """The fuzzing server's answer on one of its control URLs ("" for none)."""
    with websockets.sync.client.connect(url, open_timeout=10) as ws:
        try:
            return str(ws.recv(timeout=60))
        except (ConnectionClosed, TimeoutError):
            return ""


def run_agent(url: str, agent: str, echo: Callable[[str], None]) -> None:
    count = int(_control(f"{url}/getCaseCount"))
    for case in range(1, count + 1):
        worker = threading.Thread(
            target=_run_case, args=(echo, f"{url}/runCase?case={case}&agent={agent}"), daemon=True
        )
        worker.start()
        worker.join(CASE_TIMEOUT + 30)
        if worker.is_alive():
            raise SystemExit(f"{agent}: case {case} hung")
    _control(f"{url}/updateReports?agent={agent}")  # the server writes the reports


def _run_case(echo: Callable[[str], None], url: str) -> None:
    try:
        echo(url)
    except Exception as exc:  # the server judges the case; a client error is its evidence
        print(f"  {url.rsplit('?', 1)[1]}: {type(exc).__name__}: {exc}", flush=True)


# -- judging ----------------------------------------------------------------------------


def tally(index: dict[str, dict[str, dict[str, str]]]) -> dict[str, collections.Counter[str]]:
    """Count each agent's case verdicts. A case's verdict is its ``behavior``,
    made worse by its closing handshake's: ``NON-STRICT`` stays so, and every
    close verdict but ``OK`` and ``INFORMATIONAL`` (``WRONG CODE``,
    ``UNCLEAN``, ``FAILED BY CLIENT``...) makes it ``FAILED``."""
    rank = {b: n for n, b in enumerate(BEHAVIOURS)}
    counts: dict[str, collections.Counter[str]] = {}
    for agent, cases in index.items():
        counter = counts[agent] = collections.Counter()
        for verdict in cases.values():
            close = verdict.get("behaviorClose", "OK")
            close = (
                "OK"
                if close in ("OK", "INFORMATIONAL")
                else (close if close == "NON-STRICT" else "FAILED")
            )
            counter[max(verdict["behavior"], close, key=lambda b: rank.get(b, 0))] += 1
    return counts


def judge(counts: dict[str, collections.Counter[str]], agents: list[str]) -> list[str]:
    """The reasons the run fails (empty: it passes)."""
    problems = []
    reference = counts[REFERENCE]["NON-STRICT"] + counts[REFERENCE]["FAILED"]
    for agent in agents:
        if counts[agent]["FAILED"]:
            problems.append(f"{agent} FAILED {counts[agent]['FAILED']} case(s)")
        if counts[agent]["NON-STRICT"] > reference:
            problems.append(
                f"{agent} has {counts[agent]['NON-STRICT']} NON-STRICT cases, "
                f"websockets' client {reference} non-OK"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backend(s) {unknown}; known: {sorted(BACKENDS)}")
    out = args.out or Path(tempfile.mkdtemp(prefix="zaqarkit-conformance-"))
    out.mkdir(parents=True, exist_ok=True)
    server, url = start_fuzzing_server(out, args.cases.split(","))
    agents = {f"zaqarkit-{b}": BACKENDS[b] for b in backends} | {REFERENCE: echo_websockets}
    try:
        for agent, echo in agents.items():
            started = time.monotonic()
            run_agent(url, agent, echo)
            print(f"{agent}: {time.monotonic() - started:.0f} s", flush=True)
    finally:
        server.terminate()
        server.wait(30)
    index = json.loads((out / "reports" / "index.json").read_text())
    counts = tally(index)
    print(f"\n{'agent':<20}" + "".join(f"{b:>15}" for b in BEHAVIOURS))
    for agent in agents:
        print(f"{agent:<20}" + "".join(f"{counts[agent][b]:>15}" for b in BEHAVIOURS))
    print(f"\nreports: {out / 'reports' / 'index.html'}")
    problems = judge(counts, [a for a in agents if a != REFERENCE])
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
