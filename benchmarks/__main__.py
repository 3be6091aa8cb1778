"""``python -m benchmarks``: run the suite, profile a path, or serve as a memory child.

    python -m benchmarks [--quick] [--tier core|replay|real|all] [--scenario NAME ...]
                         [--output RESULTS.md | --update-results]

A run writes its markdown, ``results.json`` and plots to ``--output``'s folder,
or to a new folder ``benchmarks/runs/<UTC time>/``; only ``--update-results``
rewrites the committed ``benchmarks/RESULTS.md``, ``results.json`` and ``plots/``.
    python -m benchmarks profile [--scenario post1] [--ops 5000] [--top 30]
    python -m benchmarks memory-child KEY HTTP_URL WS_URL MESSAGES WINDOWS   (internal)
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path

from benchmarks.contenders import CONTENDERS, SCENARIOS
from benchmarks.model import HERE, TIERS, Config
from benchmarks.runner import memory_child, run

EXTRA_SCENARIOS = ("concurrency", "pubsub", "memory", "roles")


def _split(values: list[str] | None) -> list[str]:
    return [v for item in values or [] for v in item.split(",") if v]


def main_run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny budget (CI smoke, < 2 min)")
    parser.add_argument(
        "--tier", action="append", help="core, replay, real or all (repeat or comma-separate)"
    )
    parser.add_argument(
        "--scenario", action="append", help=f"any of {', '.join(SCENARIOS + EXTRA_SCENARIOS)}"
    )
    parser.add_argument(
        "--contender", action="append", help=f"any of {', '.join(c.key for c in CONTENDERS)}"
    )
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--duration", type=float, help="measured seconds per contender/round")
    parser.add_argument("--warmup", type=float, help="discarded seconds per contender/round")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--no-pin", action="store_true", help="do not pin client and server CPUs")
    parser.add_argument("--no-progress", action="store_true")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--output",
        type=Path,
        help="markdown path (results.json and plots/ go beside it); default: "
        "a new folder benchmarks/runs/<UTC time>/",
    )
    where.add_argument(
        "--update-results",
        action="store_true",
        help="rewrite the committed benchmarks/RESULTS.md, results.json, plots/",
    )
    parser.add_argument("--plots", type=Path, help="folder for the PNG plots")
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)

    tiers = _split(args.tier) or ["all"]
    tiers = list(TIERS) if "all" in tiers else tiers
    for t in tiers:
        if t not in TIERS:
            parser.error(f"unknown tier {t!r}")
    kw: dict[str, object] = {
        "tiers": tuple(tiers),
        "pin": not args.no_pin,
        "progress": not args.no_progress,
    }
    if args.scenario:
        scen = _split(args.scenario)
        for s in scen:
            if s not in SCENARIOS + EXTRA_SCENARIOS:
                parser.error(f"unknown scenario {s!r}")
        kw["scenarios"] = tuple(scen)
    if args.contender:
        keys = _split(args.contender)
        known = {c.key for c in CONTENDERS}
        for k in keys:
            if k not in known:
                parser.error(f"unknown contender {k!r}")
        kw["contenders"] = tuple(keys)
    for name in ("rounds", "duration", "warmup", "seed"):
        if getattr(args, name) is not None:
            kw[name] = getattr(args, name)
    cfg = Config.quick_mode(**kw) if args.quick else Config(**kw)  # type: ignore[arg-type]

    if args.update_results:
        if args.quick:
            parser.error(
                "--update-results with --quick: a smoke run must not replace the committed results"
            )
        md = HERE / "RESULTS.md"
    elif args.output is not None:
        md = args.output
    else:
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S")
        md = HERE / "runs" / f"{stamp}{'-quick' if args.quick else ''}" / "RESULTS.md"
    plot_dir = None if args.no_plots else (args.plots or md.parent / "plots")

    results = run(cfg)

    from benchmarks.report import targets, write_all

    written = write_all(results, md, plot_dir)
    print(f"\nwrote {md} ({results.elapsed:.0f} s)")
    for p in written:
        print(f"wrote {p}")
    for t in targets(results):
        ratio = "n/a" if t["ratio"] is None else f"{t['ratio']:.2f}x"
        print(
            f"{t['status']:4}  {t['target']}: {ratio} ({t['kind']} {t['limit']:g}x) "
            f"{t['detail'] if t['status'] == 'N/A' else ''}"
        )
    for key, reason in results.unavailable.items():
        print(f"not available: {key}: {reason}")
    return 0


def main_profile(argv: list[str]) -> int:
    """cProfile zaqarkit's sync HTTP client on the replay tier."""
    import cProfile
    import io
    import os
    import pstats

    from benchmarks.contenders import BY_KEY, Target
    from benchmarks.model import PROJECT
    from benchmarks.runner import replay_server

    parser = argparse.ArgumentParser(prog="python -m benchmarks profile")
    parser.add_argument("--scenario", default="post1", choices=SCENARIOS)
    parser.add_argument("--contender", default="zk-http")
    parser.add_argument("--ops", type=int, default=5000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--output", type=Path, help="also write the listing here")
    args = parser.parse_args(argv)

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    with replay_server(cpus[0] if len(cpus) > 1 else None) as (http_url, ws_url, _):
        if len(cpus) > 1:
            os.sched_setaffinity(0, {cpus[1]})
        driver = BY_KEY[args.contender].make(Target("replay", http_url, ws_url, PROJECT))
        op = getattr(driver, args.scenario)
        for _ in range(500):  # warm-up: connection, caches
            op()
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.ops):
            op()
        prof.disable()
        driver.close()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    text = f"# {args.contender} {args.scenario}, {args.ops} ops, sorted by {args.sort}\n"
    text += buf.getvalue()
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "profile":
        return main_profile(argv[1:])
    if argv and argv[0] == "memory-child":
        key, http_url, ws_url, messages, windows = argv[1:6]
        memory_child(key, http_url, ws_url, int(messages), int(windows))
        return 0
    return main_run(argv)


if __name__ == "__main__":
    sys.exit(main())
