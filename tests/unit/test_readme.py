"""README.md stays a landing page: short, with links that lead somewhere.

Everything else lives in docs/, where tests/integration/test_docs_examples.py
runs the examples.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
LIMIT = 12_000
#: Inline links and images: [text](target) or [text](target "title").
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
SETUP_COMMANDS = [
    "python3 -m pip install 'nox>=2025.2.9' && nox -s demo",
    "python3 -m pip install 'nox>=2025.2.9' && nox -s lint typing docs tests",
]


def _text() -> str:
    return README.read_text(encoding="utf-8")


def _relative_links() -> list[str]:
    prose = FENCE.sub("", _text())  # code blocks may hold brackets that are not links
    return [
        target
        for target in LINK.findall(prose)
        if not re.match(r"[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")
    ]


def test_readme_fits_the_limit() -> None:
    length = len(_text())
    assert length <= LIMIT, (
        f"README.md has {length:,} characters, more than {LIMIT:,}: move detail to docs/"
    )


def test_readme_has_relative_links() -> None:
    # Guards the link test below against a regex that silently finds nothing.
    assert len(_relative_links()) >= 10


@pytest.mark.parametrize("target", sorted(set(_relative_links())))
def test_readme_relative_link_exists(target: str) -> None:
    path = (README.parent / target.split("#", 1)[0]).resolve()
    assert path.is_relative_to(ROOT), f"{target} points outside the repository"
    assert path.exists(), f"README.md links to {target}, which does not exist"


@pytest.mark.parametrize("command", SETUP_COMMANDS)
def test_readme_keeps_the_setup_commands(command: str) -> None:
    assert command in _text()
