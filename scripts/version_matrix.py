#!/usr/bin/env python3
"""Generate docs/version-matrix.md: which operation each Zaqar API version offers,
and which of those a real-server test exercises.

    python scripts/version_matrix.py          # rewrite docs/version-matrix.md
    python scripts/version_matrix.py --check  # exit 1 if it drifted or TESTED is wrong

"supported" comes from the route tables in ``zaqarkit/core/operations.py``: an
operation is supported in a version when its table has a route for it.
"tested" comes from :data:`TESTED` below, which names, per version and
operation, the integration test functions that drive that operation against a
real server. The script checks that every named function exists (read with
``ast``, nothing is imported from the tests) and that it only claims operations
the version supports; it cannot check what a test asserts, so keep the table
honest when tests change.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zaqarkit.core.operations import ROUTES, ApiVersion, Operation  # noqa: E402

OUTPUT = ROOT / "docs" / "version-matrix.md"
V2_TESTS = "tests/integration/_async/test_client.py"
LEGACY_TESTS = "tests/integration/_async/test_legacy.py"

Op = Operation

#: Tests shared by v1 and v1.1 (each is parametrized over both versions).
_LEGACY: dict[Operation, tuple[str, ...]] = {
    Op.PING: ("test_ping_and_health",),
    Op.HEALTH: ("test_ping_and_health",),
    Op.GET_HOME_DOC: ("test_ping_and_health",),
    Op.QUEUE_LIST: ("test_queue_lifecycle_and_exists",),
    Op.QUEUE_CREATE: ("test_queue_lifecycle_and_exists",),
    Op.QUEUE_DELETE: ("test_queue_lifecycle_and_exists",),
    Op.QUEUE_GET_STATS: ("test_queue_lifecycle_and_exists",),
    Op.MESSAGE_POST: ("test_messages", "test_message_ttl_required_on_v1"),
    Op.MESSAGE_LIST: ("test_messages",),
    Op.MESSAGE_GET: ("test_messages",),
    Op.MESSAGE_GET_MANY: ("test_messages",),
    Op.MESSAGE_DELETE: ("test_messages", "test_claims"),
    Op.MESSAGE_DELETE_MANY: ("test_messages",),
    Op.CLAIM_CREATE: ("test_claims",),
    Op.CLAIM_GET: ("test_claims",),
    Op.CLAIM_UPDATE: ("test_claims",),
    Op.CLAIM_DELETE: ("test_claims",),
    Op.POOL_LIST: ("test_pools",),
    Op.POOL_CREATE: ("test_pools",),
    Op.POOL_GET: ("test_pools",),
    Op.POOL_UPDATE: ("test_pools",),
    Op.POOL_DELETE: ("test_pools",),
}

#: version -> operation -> (test file, test function names).
TESTED: dict[ApiVersion, dict[Operation, tuple[str, tuple[str, ...]]]] = {
    ApiVersion.V1: {
        **{op: (LEGACY_TESTS, names) for op, names in _LEGACY.items()},
        Op.QUEUE_EXISTS: (LEGACY_TESTS, ("test_queue_lifecycle_and_exists",)),
        Op.QUEUE_GET_METADATA: (LEGACY_TESTS, ("test_metadata_v1",)),
        Op.QUEUE_SET_METADATA: (LEGACY_TESTS, ("test_metadata_v1",)),
    },
    ApiVersion.V1_1: {
        **{op: (LEGACY_TESTS, names) for op, names in _LEGACY.items()},
        Op.QUEUE_GET: (LEGACY_TESTS, ("test_metadata_v1_1",)),
        Op.MESSAGE_POP: (LEGACY_TESTS, ("test_pop",)),
        Op.FLAVOR_CREATE: (LEGACY_TESTS, ("test_flavors",)),
        Op.FLAVOR_GET: (LEGACY_TESTS, ("test_flavors",)),
        Op.FLAVOR_LIST: (LEGACY_TESTS, ("test_flavors",)),
        Op.FLAVOR_DELETE: (LEGACY_TESTS, ("test_flavors",)),
    },
    ApiVersion.V2: {
        op: (V2_TESTS, names)
        for op, names in {
            Op.PING: ("test_ping_health_homedoc",),
            Op.HEALTH: ("test_ping_health_homedoc",),
            Op.GET_HOME_DOC: ("test_ping_health_homedoc",),
            Op.QUEUE_LIST: ("test_lazy_queue_and_exists",),
            Op.QUEUE_CREATE: ("test_lazy_queue_and_exists",),
            Op.QUEUE_DELETE: ("test_lazy_queue_and_exists",),
            Op.QUEUE_GET: ("test_metadata_patch_purge_and_stats", "test_follow"),
            Op.QUEUE_UPDATE: ("test_metadata_patch_purge_and_stats",),
            Op.QUEUE_GET_STATS: ("test_metadata_patch_purge_and_stats",),
            Op.QUEUE_PURGE: ("test_metadata_patch_purge_and_stats",),
            Op.QUEUE_SHARE: ("test_signed_url",),
            Op.MESSAGE_POST: ("test_post_batch_and_read_back_in_order",),
            Op.MESSAGE_LIST: (
                "test_post_batch_and_read_back_in_order",
                "test_paging_45_messages_with_limit_10",
            ),
            Op.MESSAGE_GET: (
                "test_post_batch_and_read_back_in_order",
                "test_missing_message_is_not_found",
            ),
            Op.MESSAGE_GET_MANY: ("test_post_batch_and_read_back_in_order",),
            Op.MESSAGE_DELETE: ("test_claim_delete_release_reclaim",),
            Op.MESSAGE_DELETE_MANY: ("test_claim_delete_release_reclaim",),
            Op.MESSAGE_POP: ("test_pop",),
            Op.CLAIM_CREATE: ("test_claim_delete_release_reclaim",),
            Op.CLAIM_GET: ("test_claim_delete_release_reclaim",),
            Op.CLAIM_UPDATE: ("test_claim_delete_release_reclaim",),
            Op.CLAIM_DELETE: ("test_claim_delete_release_reclaim",),
            Op.SUBSCRIPTION_LIST: ("test_subscriptions",),
            Op.SUBSCRIPTION_CREATE: ("test_subscriptions",),
            Op.SUBSCRIPTION_GET: ("test_subscriptions",),
            Op.SUBSCRIPTION_UPDATE: ("test_subscriptions",),
            Op.SUBSCRIPTION_DELETE: ("test_subscriptions",),
            Op.SUBSCRIPTION_CONFIRM: ("test_subscriptions",),
            Op.POOL_LIST: ("test_pools_and_flavors",),
            Op.POOL_CREATE: ("test_pools_and_flavors",),
            Op.POOL_GET: ("test_pools_and_flavors",),
            Op.POOL_UPDATE: ("test_pools_and_flavors",),
            Op.POOL_DELETE: ("test_pools_and_flavors",),
            Op.FLAVOR_CREATE: ("test_pools_and_flavors",),
            Op.FLAVOR_GET: ("test_pools_and_flavors",),
            Op.FLAVOR_LIST: ("test_pools_and_flavors",),
            Op.FLAVOR_DELETE: ("test_pools_and_flavors",),
            Op.FLAVOR_UPDATE: ("test_pools_and_flavors",),
        }.items()
    },
}

#: Why a supported cell is not tested, or a caveat worth a footnote.
NOTES: dict[tuple[ApiVersion, Operation], str] = {
    (ApiVersion.V1_1, Op.FLAVOR_UPDATE): (
        "zaqar 19 answers 400 to every v1.1 flavor PATCH (its handler checks the "
        "characters of 'capabilities'); `test_flavors` asserts that error, so the "
        "success path is unverified"
    ),
    (ApiVersion.V1, Op.MESSAGE_POST): (
        "v1 does not create the queue on post, so `Queue.post` creates it first "
        "(`test_post_creates_queue_on_v1`)"
    ),
    (ApiVersion.V1, Op.PING): "sent as `GET /v1/health` (v1 has no /ping)",
    (ApiVersion.V1, Op.HEALTH): "public, 204/503 only: `Health({'storage_reachable': bool})`",
    (ApiVersion.V1, Op.QUEUE_GET): "v1's `GET /queues/{q}` is an existence check; "
    "metadata is `queue_get_metadata`",
}


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    return {
        node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def problems() -> list[str]:
    """Everything wrong with :data:`TESTED` (missing tests, unsupported claims)."""
    found: list[str] = []
    cache: dict[str, set[str]] = {}
    for version, table in TESTED.items():
        for op, (file, names) in table.items():
            if op not in ROUTES[version]:
                found.append(f"v{version.value} {op.value}: claimed tested but not supported")
            path = ROOT / file
            if file not in cache:
                cache[file] = _functions(path) if path.exists() else set()
            found.extend(
                f"v{version.value} {op.value}: {file}::{name} does not exist"
                for name in names
                if name not in cache[file]
            )
    return found


def render() -> str:
    versions = list(ROUTES)
    ordered = sorted(versions, key=lambda v: [int(x) for x in v.value.split(".")])
    lines = [
        "# Zaqar API versions: supported and tested operations",
        "",
        "Generated by `python scripts/version_matrix.py` from the route tables in",
        "`zaqarkit/core/operations.py` and the `TESTED` table of the script; do not",
        "edit by hand. **tested**: an integration test drives the operation against a",
        "real Zaqar (23.0.1 for v2, 19.0.0 for v1 and v1.1). **supported**: the",
        "builder exists but no real-server test covers it. **-**: the version lacks",
        "the operation; the builder raises `UnsupportedOperation` before sending.",
        "",
        "| operation | " + " | ".join(f"v{v.value}" for v in ordered) + " |",
        "|---|" + "---|" * len(ordered),
    ]
    footnotes: list[str] = []
    for op in Operation:
        cells = []
        for version in ordered:
            if op not in ROUTES[version]:
                cell = "-"
            elif op in TESTED.get(version, {}):
                cell = "tested"
            else:
                cell = "supported"
            note = NOTES.get((version, op))
            if note:
                footnotes.append(note)
                cell += f" [{len(footnotes)}]"
            cells.append(cell)
        if any(cell != "-" for cell in cells):
            lines.append(f"| `{op.value}` | " + " | ".join(cells) + " |")
    lines.append("")
    for index, note in enumerate(footnotes, 1):
        lines.append(f"{index}. {note}")
    lines += ["", "Tests per cell:", ""]
    for version in ordered:
        for op, (file, names) in TESTED.get(version, {}).items():
            joined = ", ".join(f"`{name}`" for name in names)
            lines.append(f"- v{version.value} `{op.value}`: `{file}` {joined}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail on drift instead of writing")
    args = parser.parse_args()
    wrong = problems()
    for line in wrong:
        print(f"version_matrix: {line}", file=sys.stderr)
    text = render()
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(
                "version_matrix: docs/version-matrix.md is out of date; run "
                "`python scripts/version_matrix.py`",
                file=sys.stderr,
            )
            return 1
        return 1 if wrong else 0
    if wrong:
        return 1
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
