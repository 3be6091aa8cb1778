"""Generate the sync facade from the async one.

    python scripts/unasync.py          # rewrite zaqarkit/_sync/ from zaqarkit/_async/
    python scripts/unasync.py --check  # exit 1 if the files drifted or a rule is unused

The async code is the source of truth; nobody edits the generated files. Every
rename is listed in ``RENAMES`` (whole words only), and every rule must fire
at least once, so the table cannot rot. Two line markers handle what renaming
cannot express: a line ending in ``# async-only`` is dropped, and a line
``# sync-only: <code>`` becomes ``<code>`` with its indentation kept.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: (async source directory, generated sync directory)
PAIRS = (
    (ROOT / "zaqarkit" / "_async", ROOT / "zaqarkit" / "_sync"),
    (ROOT / "zaqarkit" / "bench" / "_async", ROOT / "zaqarkit" / "bench" / "_sync"),
    (ROOT / "zaqarkit" / "transports" / "_async", ROOT / "zaqarkit" / "transports" / "_sync"),
    (ROOT / "tests" / "integration" / "_async", ROOT / "tests" / "integration" / "_sync"),
)

HEADER = (
    "# This file is generated from {source} by scripts/unasync.py.\n"
    "# Do not edit it by hand: change the async source and run `nox -s generate`.\n"
)

#: Whole-word renames, applied in order. Longer names come first.
RENAMES: dict[str, str] = {
    "AsyncClient": "Client",
    "AsyncEngine": "Engine",
    "AsyncPushTransport": "PushTransport",
    "AsyncQueue": "Queue",
    "AsyncMessage": "Message",
    "AsyncClaim": "Claim",
    "AsyncSubscription": "Subscription",
    "AsyncPool": "Pool",
    "AsyncFlavor": "Flavor",
    "AsyncHttpxTransport": "HttpxTransport",
    "AsyncObserver": "Observer",
    "AsyncPushStream": "PushStream",
    "AsyncTransport": "Transport",
    "AsyncClosing": "Closing",
    "AsyncIterator": "Iterator",
    "AsyncGenerator": "Generator",
    "aclosing": "closing",
    "AsyncWebSocketTransport": "WebSocketTransport",
    "AsyncDeadlineStream": "DeadlineStream",
    "AsyncDeadlineBackend": "DeadlineBackend",
    "AsyncProducer": "Producer",
    "AsyncConsumer": "Consumer",
    "AsyncDelivery": "Delivery",
    "AsyncRole": "Role",
    "AsyncEvent": "Event",
    "AsyncShield": "Shield",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "StopAsyncIteration": "StopIteration",
    "AsyncSignal": "Signal",
    "AsyncLock": "Lock",
    "AsyncTaskGroup": "TaskGroup",
    "zaqarkit._async": "zaqarkit._sync",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "asynccontextmanager": "contextmanager",
    "handle_async_request": "handle_request",
    "async_headers": "headers",
    "async_credentials": "credentials",
    "aclose": "close",
    "async def": "def",
    "async for": "for",
    "async with": "with",
    "await ": "",
    "async iterators": "iterators",
}

_SYNC_ONLY = re.compile(r"^(\s*)# sync-only: ?(.*)$")
_FROM_IMPORT = re.compile(r"^(from [\w.]+ import )([\w, ]+)$", re.MULTILINE)


def _tidy_import(match: re.Match[str]) -> str:
    # Renaming can make two imported names equal (AsyncIterator -> Iterator).
    names = [name.strip() for name in match.group(2).split(",") if name.strip()]
    if len(set(names)) == len(names):
        return match.group(0)
    return match.group(1) + ", ".join(sorted(set(names)))


def _rule(old: str) -> re.Pattern[str]:
    start = r"\b" if old[0].isalnum() or old[0] == "_" else ""
    end = r"\b" if old[-1].isalnum() or old[-1] == "_" else ""
    return re.compile(start + re.escape(old) + end)


def transform(text: str, used: set[str]) -> str:
    lines: list[str] = []
    skip_blank = False
    for line in text.splitlines(keepends=True):
        if line.rstrip().endswith("# async-only"):
            # A dropped line between two blank lines (an import section of its
            # own) takes one of them along.
            skip_blank = bool(lines) and not lines[-1].strip()
            continue
        if skip_blank and not line.strip():
            skip_blank = False
            continue
        skip_blank = False
        match = _SYNC_ONLY.match(line.rstrip("\n"))
        if match:
            line = match.group(1) + match.group(2) + "\n"
        lines.append(line)
    result = "".join(lines)
    for old, new in RENAMES.items():
        result, count = _rule(old).subn(new, result)
        if count:
            used.add(old)
    # A dropped line may leave three blank lines where PEP 8 allows two.
    result = re.sub(r"\n{4,}", "\n\n\n", result)
    return _FROM_IMPORT.sub(_tidy_import, result)


def generate() -> dict[Path, str]:
    used: set[str] = set()
    outputs: dict[Path, str] = {}
    for source_dir, target_dir in PAIRS:
        for source in sorted(source_dir.glob("*.py")):
            body = transform(source.read_text(), used)
            header = HEADER.format(source=source.relative_to(ROOT).as_posix())
            outputs[target_dir / source.name] = header + body
    unused = sorted(set(RENAMES) - used)
    if unused:
        raise SystemExit(f"unasync: rename rules never used (remove them): {unused}")
    return outputs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail on drift instead of writing")
    args = parser.parse_args()
    outputs = generate()
    stale = [p for _, target in PAIRS for p in target.glob("*.py") if p not in outputs]
    drift = False
    for path, text in outputs.items():
        current = path.read_text() if path.exists() else ""
        if current == text:
            continue
        drift = True
        if args.check:
            diff = difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                str(path.relative_to(ROOT)),
                "generated",
            )
            sys.stdout.writelines(list(diff)[:40])
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        drift = True
        if not args.check:
            path.unlink()
    if args.check and drift:
        print("unasync: generated sync code is out of date; run `nox -s generate`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
