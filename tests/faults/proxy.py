"""A loopback TCP proxy that injects network faults between a client and a server.

Threads and plain sockets, no dependencies. Each accepted connection gets
the mode that was current when it was accepted; :meth:`FaultProxy.set_mode`
also cuts every open connection, so the next call starts clean.

Modes (``mode`` plus options):

- ``pass``: forward both ways;
- ``blackhole``: accept, read and discard what the client sends, never answer;
- ``delay``: forward, holding each reply chunk ``seconds`` first;
- ``drip``: forward the reply one byte every ``seconds``;
- ``reset``: forward ``after`` bytes of the reply, then reset the connection (RST);
- ``close``: forward ``after`` bytes of the reply, then close it cleanly (FIN);
- ``swallow``: forward the request (the server acts on it), drop every reply byte;
- ``stop_reading``: accept and never read from the client (its writes back up).

``after_handshake=True`` lets the connection's first reply chunk (a
WebSocket's ``101 Switching Protocols``) and everything before it through
untouched, so the fault hits requests on an established connection rather
than the opening handshake.

Example::

    with FaultProxy(("127.0.0.1", 8888)) as proxy:
        proxy.set_mode("drip", seconds=0.25)
        Client(proxy.url("http"), timeout=2).ping()   # ends in about 2 s
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

MODES = ("pass", "blackhole", "delay", "drip", "reset", "close", "swallow", "stop_reading")


@dataclass
class _Mode:
    name: str = "pass"
    seconds: float = 0.0
    after: int = 0
    after_handshake: bool = False


@dataclass
class _Pair:
    client: socket.socket
    upstream: socket.socket | None = None
    closed: threading.Event = field(default_factory=threading.Event)
    #: Set once the fault applies (at once, or after the first reply chunk).
    faulty: threading.Event = field(default_factory=threading.Event)

    def close(self, *, reset: bool = False) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        if reset:
            with contextlib.suppress(OSError):
                self.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        for sock in (self.client, self.upstream):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()


class FaultProxy:
    """Listens on a free loopback port and forwards to ``upstream`` (host, port)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._mode = _Mode()
        self._lock = threading.Lock()
        self._pairs: list[_Pair] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        # close() does not wake a blocked accept(): poll for the stop flag.
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="fault-proxy")
        self._thread.start()

    def url(self, scheme: str) -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def set_mode(
        self, name: str, *, seconds: float = 0.0, after: int = 0, after_handshake: bool = False
    ) -> None:
        """Switch mode for new connections and cut the open ones."""
        if name not in MODES:
            raise ValueError(f"unknown mode {name!r}")
        with self._lock:
            self._mode = _Mode(name, seconds, after, after_handshake)
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            pair.close()
        # Let the client see the FIN of its idle keep-alive connections.
        time.sleep(0.05)

    def close(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            pair.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals -------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            with self._lock:
                mode = self._mode
                pair = _Pair(client)
                self._pairs.append(pair)
                self.accepted += 1
            threading.Thread(target=self._serve, args=(pair, mode), daemon=True).start()

    def _serve(self, pair: _Pair, mode: _Mode) -> None:
        if not mode.after_handshake:
            pair.faulty.set()
        try:
            if mode.name in ("stop_reading", "blackhole") and not mode.after_handshake:
                self._pump_requests(pair, mode)
                return
            pair.upstream = socket.create_connection(self.upstream, timeout=10)
            pair.upstream.settimeout(None)
            forward = threading.Thread(target=self._pump_requests, args=(pair, mode), daemon=True)
            forward.start()
            self._pump_replies(pair, mode)
        except (OSError, ValueError):
            pass
        finally:
            pair.close(reset=mode.name == "reset")

    def _pump_requests(self, pair: _Pair, mode: _Mode) -> None:
        # ValueError: select() on a socket that set_mode() just closed.
        with contextlib.suppress(OSError, ValueError):
            while True:
                if pair.faulty.is_set() and mode.name == "stop_reading":
                    # Never read again: shrink the buffer so the client's writes block soon.
                    with contextlib.suppress(OSError):
                        pair.client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                    pair.closed.wait()
                    return
                ready, _, _ = select.select([pair.client], [], [], 0.1)
                if pair.closed.is_set():
                    return
                if not ready:
                    continue
                data = pair.client.recv(65536)
                if not data:
                    break
                if pair.faulty.is_set() and mode.name == "blackhole":
                    continue
                assert pair.upstream is not None
                pair.upstream.sendall(data)
        pair.close()

    def _pump_replies(self, pair: _Pair, mode: _Mode) -> None:
        assert pair.upstream is not None
        sent = 0
        while not pair.closed.is_set():
            ready, _, _ = select.select([pair.upstream], [], [], 0.5)
            if not ready:
                continue
            data = pair.upstream.recv(65536)
            if not data:
                return
            if not pair.faulty.is_set():
                pair.client.sendall(data)  # the handshake goes through
                pair.faulty.set()
                continue
            if mode.name in ("swallow", "blackhole", "stop_reading"):
                continue
            if mode.name == "delay":
                time.sleep(mode.seconds)
            if mode.name == "drip":
                for index in range(len(data)):
                    if pair.closed.wait(mode.seconds):
                        return
                    pair.client.sendall(data[index : index + 1])
                continue
            if mode.name in ("reset", "close"):
                room = mode.after - sent
                if room <= len(data):
                    pair.client.sendall(data[:room])
                    return  # the finally clause resets or closes
            pair.client.sendall(data)
            sent += len(data)


def split_url(url: str) -> tuple[str, int]:
    """``("127.0.0.1", 8888)`` from ``"http://127.0.0.1:8888"``."""
    hostport = url.split("://", 1)[1].split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    return host, int(port)


def elapsed(action: Any) -> tuple[float, BaseException | None]:
    """Run ``action()``; return (seconds taken, the exception it raised or None)."""
    began = time.monotonic()
    try:
        action()
    except BaseException as exc:
        return time.monotonic() - began, exc
    return time.monotonic() - began, None
