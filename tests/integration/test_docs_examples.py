"""Every fenced ``python`` block of docs/**/*.md runs against the harness.

Blocks of one page run in order in one namespace, like a reader following
the page. The docs name the servers by placeholders, replaced here:
``http://127.0.0.1:8888`` and ``ws://127.0.0.1:9000`` by the local Zaqar,
``redis://127.0.0.1:6379`` by its redis. An HTML comment right before a block
picks another server: ``<!-- docs-test: pooled -->`` (pooling on, for pools
and flavors) or ``<!-- docs-test: keystone -->`` (a Keystone-protected Zaqar;
``https://keystone.example/v3``, ``https://zaqar.example:8888`` and the
password ``secret`` stand for the harness Keystone's ``demo`` user, whose
``OS_*`` variables are set too). The project ``demo`` is emptied after each page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(
    r"(?:<!--\s*docs-test:\s*(?P<marker>[\w-]+)\s*-->\s*\n)?^```python\n(?P<code>.*?)^```",
    re.MULTILINE | re.DOTALL,
)
MARKERS = {None, "pooled", "keystone"}


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "```python" in p.read_text())


def blocks(page: Path) -> list[tuple[str | None, str]]:
    return [(m["marker"], m["code"]) for m in BLOCK.finditer(page.read_text())]


def test_every_python_block_is_found() -> None:
    # A block the regex missed (say, indented) would silently never run.
    for page in _pages():
        assert len(blocks(page)) == page.read_text().count("```python"), page
        assert {marker for marker, _ in blocks(page)} <= MARKERS, page


def _empty_project(server: Any, project: str) -> None:
    headers = server.admin_headers(project)
    listed = server.request("GET", "/v2/queues?limit=20", headers=headers)
    for queue in (listed.json() or {}).get("queues", []) if listed.status == 200 else []:
        server.request("DELETE", f"/v2/queues/{queue['name']}", headers=headers)


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_docs_page(page: Path, request: pytest.FixtureRequest,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    plain = request.getfixturevalue("zaqar_server")
    used = {plain}
    try:
        for index, (marker, code) in enumerate(blocks(page)):
            server = plain
            if marker == "pooled":
                server = request.getfixturevalue("zaqar_pooled_server")
            elif marker == "keystone":
                server = request.getfixturevalue("zaqar_keystone_server")
                keystone = request.getfixturevalue("keystone_server")
                for key, value in keystone.demo.environ().items():
                    monkeypatch.setenv(key, value)
                code = (code.replace("https://keystone.example/v3", keystone.auth_url)
                        .replace("https://zaqar.example:8888", server.url)
                        .replace('"secret"', repr(keystone.demo.password)))
            used.add(server)
            code = (code.replace("http://127.0.0.1:8888", server.url)
                    .replace("ws://127.0.0.1:9000", server.ws_url)
                    .replace("redis://127.0.0.1:6379", server.redis_url))
            exec(compile(code, f"{page.relative_to(DOCS)}[{index}]", "exec"), namespace)
    finally:
        # A failing block leaves its clients open: close them, not the GC.
        for value in namespace.values():
            if type(value).__module__.startswith("zaqarkit") and hasattr(value, "close"):
                value.close()
        for server in used:
            if not hasattr(server, "keystone"):
                _empty_project(server, "demo")
