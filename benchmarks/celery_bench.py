"""What Celery's layer costs: tasks per second through a Celery worker on
zaqarkit.kombu against zaqarkit's own ``consume()`` doing the same trivial
work, on one harness Zaqar, in one run.

Each contender drains a queue pre-filled with ``--tasks`` messages (posted
before it starts, so publishing is not measured), in a process of its own:

* ``celery-solo``: ``celery worker --pool solo`` (one task at a time);
* ``celery-prefork-2``: ``celery worker --pool prefork --concurrency 2``;
* ``consume-1`` and ``consume-2``: ``Queue.consume(handler, concurrency=1|2)``
  with the sync ``Client`` over HTTP.

Both sides acknowledge after the work (Celery with ``task_acks_late``), claim
with the same ttl, and do the same work per message: append the current
time to a file. The rate is ``(tasks - 1) / (last - first)`` over those
timestamps, so start-up is not counted. ``--rounds`` rounds run the
contenders in turn (each round in a rotated order, so none always goes
first); the table gives the median rate and the range.

    python -m benchmarks.celery_bench                  # 3 rounds of 1,000 tasks, ~2 min
    python -m benchmarks.celery_bench --tasks 300 --rounds 1   # quicker
    python -m benchmarks.celery_bench --update-results # also into benchmarks/RESULTS.md

``--update-results`` replaces the "Celery on zaqarkit.kombu" section at the
end of ``benchmarks/RESULTS.md`` (``python -m benchmarks --update-results``
rewrites the file without it: run this afterwards).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BEGIN = "<!-- celery-bench: begin -->"
END = "<!-- celery-bench: end -->"

CONTENDERS = {
    "celery-solo": ["--pool", "solo"],
    "celery-prefork-2": ["--pool", "prefork", "--concurrency", "2"],
    "consume-1": ["1"],
    "consume-2": ["2"],
}


def _record(path: str) -> None:
    with open(path, "a") as out:
        out.write(f"{time.time():.6f}\n")


# -- the worker side (imported by `celery -A benchmarks.celery_bench worker`) ----------


def _make_app() -> Any:
    if "ZK_BENCH_BROKER" not in os.environ:
        return None
    from celery import Celery

    import zaqarkit.kombu  # noqa: F401  (zaqar:// URLs)

    celery = Celery("zk_bench", set_as_current=False)
    celery.conf.update(
        broker_url=os.environ["ZK_BENCH_BROKER"],
        broker_transport_options={"project_id": os.environ["ZK_BENCH_PROJECT"]},
        broker_connection_retry_on_startup=True,
        task_default_queue=os.environ["ZK_BENCH_QUEUE"],
        task_acks_late=True,
        task_ignore_result=True,
        worker_hijack_root_logger=False,
    )
    log = os.environ["ZK_BENCH_LOG"]

    @celery.task(name="work", shared=False)
    def work(n: int) -> None:
        _record(log)

    return celery


app = _make_app()


def _consume_main(url: str, project: str, queue: str, log: str, concurrency: int) -> None:
    from zaqarkit import Client

    with Client(url, project_id=project) as client:
        client.queue(queue).consume(
            lambda delivery: _record(log), concurrency=concurrency, poll_max=1.0
        )


# -- the driver ------------------------------------------------------------------------


def _count(path: Path) -> int:
    return len(path.read_text().split()) if path.exists() else 0


def _run(name: str, server: Any, tasks: int, workdir: Path, round_: int) -> float:
    from celery import Celery

    from zaqarkit import Client

    project = "bench"
    queue = f"bench-{name}-{round_}"
    log = workdir / f"{name}-{round_}.log"
    broker = server.url.replace("http://", "zaqar://")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ZK_BENCH_BROKER": broker,
        "ZK_BENCH_PROJECT": project,
        "ZK_BENCH_QUEUE": queue,
        "ZK_BENCH_LOG": str(log),
    }
    if name.startswith("celery"):
        import zaqarkit.kombu  # noqa: F401

        producer = Celery("zk_bench_producer", set_as_current=False)
        producer.conf.update(
            broker_url=broker,
            task_default_queue=queue,
            broker_transport_options={"project_id": project},
            broker_connection_retry_on_startup=True,
        )
        for n in range(tasks):
            producer.send_task("work", (n,))
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "benchmarks.celery_bench",
            "worker",
            *CONTENDERS[name],
            "-Q",
            queue,
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ]
    else:
        with Client(server.url, project_id=project) as client:
            client.queue(queue).post_many({"body": {"n": n}, "ttl": 3600} for n in range(tasks))
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.celery_bench",
            "--consume",
            server.url,
            project,
            queue,
            str(log),
            *CONTENDERS[name],
        ]
    with (workdir / f"{name}.out").open("wb") as sink:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + max(120.0, tasks / 5)
        while _count(log) < tasks:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} stopped at {_count(log)}/{tasks}:\n"
                    + (workdir / f"{name}.out").read_text()[-3000:]
                )
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
    stamps = sorted(float(t) for t in log.read_text().split())
    if len(stamps) != tasks:
        raise RuntimeError(f"{name}: {len(stamps)} runs for {tasks} tasks")
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def _table(rates: dict[str, list[float]]) -> str:
    median = {name: statistics.median(values) for name, values in rates.items()}
    lines = [
        "| contender | tasks/s (median) | range | vs consume() at the same concurrency |",
        "|---|---:|---:|---:|",
    ]
    for name, values in rates.items():
        width = "1" if name == "celery-solo" else name.rsplit("-", 1)[-1]
        ratio = median[name] / median[f"consume-{width}"]
        lines.append(
            f"| {name} | {median[name]:,.0f} | {min(values):,.0f} - "
            f"{max(values):,.0f} | {ratio:.2f}x |"
        )
    return "\n".join(lines)


def _versions() -> str:
    import celery
    import kombu

    import zaqarkit

    return (
        f"zaqarkit {zaqarkit.__version__}, celery {celery.__version__}, "
        f"kombu {kombu.__version__}, CPython {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--update-results",
        action="store_true",
        help="replace the Celery section of benchmarks/RESULTS.md",
    )
    parser.add_argument("--consume", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.consume:  # a consume() child
        url, project, queue, log, concurrency = args.consume
        _consume_main(url, project, queue, log, int(concurrency))
        return 0

    from zaqarkit.testing import ZaqarServer

    started = time.monotonic()
    load = os.getloadavg()[0]  # other work on the machine skews single runs
    names = list(CONTENDERS)
    rates: dict[str, list[float]] = {name: [] for name in names}
    with ZaqarServer() as server, tempfile.TemporaryDirectory(prefix="celery-bench-") as tmp:
        for round_ in range(args.rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                rates[name].append(_run(name, server, args.tasks, Path(tmp), round_))
                print(f"round {round_ + 1}: {name}: {rates[name][-1]:,.0f} tasks/s", flush=True)
        release = getattr(server.release, "name", "zaqar")
    took = time.monotonic() - started
    section = "\n".join(
        [
            BEGIN,
            "## Celery on zaqarkit.kombu",
            "",
            f"Generated by `python -m benchmarks.celery_bench --tasks {args.tasks} "
            f"--rounds {args.rounds} --update-results` ({took / 60:.1f} min, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {_versions()}; "
            f"{release} via the harness, on this machine, {os.cpu_count()} cores, "
            f"load average {load:.1f} at the start). Each contender drains a queue "
            f"pre-filled with {args.tasks:,} tasks whose work is appending a timestamp to a "
            "file; acknowledged after the work; rate over the first to the last timestamp; "
            f"median and range of {args.rounds} rounds. Celery's prefetch is its default "
            "(4 per process), zaqarkit.kombu's options too.",
            "",
            _table(rates),
            END,
        ]
    )
    print(section)
    if args.update_results:
        results = HERE / "RESULTS.md"
        text = results.read_text()
        if BEGIN in text:
            text = text[: text.index(BEGIN)].rstrip("\n") + "\n"
        results.write_text(text.rstrip("\n") + "\n\n" + section + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
