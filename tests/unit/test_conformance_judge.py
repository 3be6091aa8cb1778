"""The verdicts of scripts/conformance.py (the Autobahn run itself is `nox -s conformance`)."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

CONFORMANCE: dict[str, Any] = runpy.run_path(
    str(Path(__file__).resolve().parents[2] / "scripts" / "conformance.py")
)


def _index(**agents: list[tuple[str, str]]) -> dict[str, dict[str, dict[str, str]]]:
    return {
        agent: {f"{n}.1": {"behavior": b, "behaviorClose": c} for n, (b, c) in enumerate(cases)}
        for agent, cases in agents.items()
    }


def test_a_case_counts_as_the_worse_of_its_data_and_close_verdicts() -> None:
    counts = CONFORMANCE["tally"](
        _index(
            a=[
                ("OK", "OK"),
                ("OK", "NON-STRICT"),
                ("NON-STRICT", "FAILED"),
                ("OK", "INFORMATIONAL"),
                ("INFORMATIONAL", "INFORMATIONAL"),
                ("OK", "WRONG CODE"),
                ("OK", "UNCLEAN"),
            ]
        )
    )
    assert counts["a"] == {"OK": 2, "NON-STRICT": 1, "INFORMATIONAL": 1, "FAILED": 3}


def test_a_backend_fails_on_a_failed_case_or_when_less_strict_than_websockets() -> None:
    reference = [("NON-STRICT", "OK"), ("FAILED", "OK"), ("OK", "OK")]
    counts = CONFORMANCE["tally"](
        _index(
            **{
                "websockets-sync": reference,
                "as-strict": [("NON-STRICT", "OK"), ("NON-STRICT", "OK"), ("OK", "OK")],
                "looser": [("NON-STRICT", "OK")] * 3,
                "failing": [("FAILED", "OK"), ("OK", "OK"), ("OK", "OK")],
            }
        )
    )
    assert CONFORMANCE["judge"](counts, ["as-strict"]) == []
    assert CONFORMANCE["judge"](counts, ["looser", "failing"]) == [
        "looser has 3 NON-STRICT cases, websockets' client 2 non-OK",
        "failing FAILED 1 case(s)",
    ]
