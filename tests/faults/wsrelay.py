"""A fake WebSocket Zaqar in front of the real one: it relays every frame both
ways, except the requests of chosen actions, which it answers itself with an
error status (a 503/429 storm) the way Zaqar's WebSocket server does: a reply
frame echoing the request, ``{"status": N}`` as its headers and Zaqar's
``{"error", "exception"}`` body. Zaqar's WebSocket replies carry no other
header, so there is no ``Retry-After`` to send.

websockets' sync server and client, one relay thread per connection.

Example::

    with StormRelay(zaqar_server.ws_url) as relay:
        relay.storm("queue_get_stats", 503, times=3)
        Client(relay.url, project_id="p").queue("q").stats()   # retried, then relayed
        relay.received.count("queue_get_stats")                # 4
"""

from __future__ import annotations

import contextlib
import json
import threading
from types import TracebackType
from typing import Any

from websockets.sync.client import connect
from websockets.sync.server import ServerConnection, serve


class StormRelay:
    """Relays to ``upstream`` (a ``ws://`` URL); see the module."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        #: The action of every request frame received, in order.
        self.received: list[str] = []
        #: The actions answered by the relay itself, in order.
        self.faulted: list[str] = []
        self._storms: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        self._server = serve(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def storm(self, action: str, status: int, *, times: int) -> None:
        """Answer the next ``times`` requests of ``action`` with ``status``."""
        with self._lock:
            self._storms[action] = (status, times)

    def attempts(self, action: str) -> int:
        return self.received.count(action)

    def _fault(self, action: str) -> int | None:
        with self._lock:
            status, left = self._storms.get(action, (0, 0))
            if left <= 0:
                return None
            self._storms[action] = (status, left - 1)
            self.faulted.append(action)
            return status

    def _handle(self, client: ServerConnection) -> None:
        with contextlib.suppress(Exception), connect(self.upstream) as upstream:
            pump = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
            pump.start()
            for raw in client:
                frame = json.loads(raw)
                action = str(frame.get("action"))
                self.received.append(action)
                status = self._fault(action)
                if status is None:
                    upstream.send(raw)
                    continue
                client.send(
                    json.dumps(
                        {
                            "request": frame,
                            "headers": {"status": status},
                            "body": {
                                "error": "Service is unavailable.",
                                "exception": f"injected {status}",
                            },
                        }
                    )
                )

    @staticmethod
    def _pump(upstream: Any, client: ServerConnection) -> None:
        with contextlib.suppress(Exception):
            for raw in upstream:
                client.send(raw)
        with contextlib.suppress(Exception):
            client.close()

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(5)

    def __enter__(self) -> StormRelay:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
