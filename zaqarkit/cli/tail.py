"""``zaqarkit tail QUEUE``: follow a queue's new messages as JSON lines.

Over WebSocket push when a ``ws://`` endpoint is given (``--ws-url`` or a
ws:// ``--os-url``), else by polling the message listing. ``--claim``
consumes instead of peeking: claim, print, delete; on Ctrl-C the claim still
held is released, so its unprinted messages go back to the queue.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from typing import Any

import click

from zaqarkit.cli._common import client, echo_json_line, sigterm_as_interrupt
from zaqarkit.cli._options import connection
from zaqarkit.core.wsconn import PushGap

__all__ = ["tail"]


def _status(text: str) -> None:
    # On stderr so that stdout stays pure JSON lines; a script may wait for it.
    click.echo(f"zaqarkit: {text}", err=True)


def _message_line(m: Any, queue_name: str) -> dict[str, Any]:
    return {"queue": queue_name, "id": m.id, "body": m.body, "ttl": m.ttl, "age": m.age}


class _Sink:
    """Prints JSON lines and says when ``count`` of them were printed."""

    def __init__(self, count: int | None) -> None:
        self.remaining = count

    def emit(self, line: dict[str, Any]) -> bool:
        """Print one line; True when that was the last one wanted."""
        echo_json_line(line)
        sys.stdout.flush()
        if self.remaining is None:
            return False
        self.remaining -= 1
        return self.remaining <= 0


def _over_websocket(queue_name: str, ttl: int | None, sink: _Sink) -> None:
    with (
        client(websocket=True) as c,
        c.queue(queue_name, auto_create=False).subscribe(ttl=ttl) as notifications,
    ):
        _status(f"tailing {queue_name} over WebSocket push (Ctrl-C to stop)")
        for note in notifications:
            if isinstance(note, PushGap):
                # A reconnect or a full push buffer: notifications may be missing.
                _status(f"possible gap in {queue_name}: {note.reason}")
                continue
            if sink.emit({"queue": note.queue_name, "body": note.body, "ttl": note.ttl}):
                return


def _by_polling(queue_name: str, interval: float, from_start: bool, sink: _Sink) -> None:
    with client(websocket=False) as c:
        q = c.queue(queue_name, auto_create=False)
        # Zaqar's message markers cannot be resumed reliably (the redis driver
        # restarts a listing whose marker is gone), so each poll reads the
        # listing and prints the ids it has not printed; what it remembers is
        # bounded by what the queue still holds.
        if not q.exists():
            # Zaqar's redis driver answers 503 when listing a queue that does
            # not exist (yet): wait for the first post to create it.
            _status(f"{queue_name} does not exist yet; waiting for it")
            while not q.exists():
                time.sleep(interval)
            from_start = True
        seen: set[str] = set()
        if not from_start:
            seen = {m.id for m in q.messages(echo=True)}
        _status(f"tailing {queue_name} by polling every {interval:g} s (Ctrl-C to stop)")
        while True:
            present: set[str] = set()
            for m in q.messages(echo=True):
                present.add(m.id)
                if m.id not in seen:
                    seen.add(m.id)
                    if sink.emit(_message_line(m, queue_name)):
                        return
            seen &= present
            time.sleep(interval)


def _claiming(
    queue_name: str, interval: float, ttl: int, grace: int, batch: int, sink: _Sink
) -> None:
    with client() as c:
        q = c.queue(queue_name, auto_create=False)
        _status(f"consuming {queue_name} by claims (Ctrl-C to stop)")
        while True:
            held = q.claim(ttl=ttl, grace=grace, limit=batch)
            if held.id is None:
                time.sleep(interval)
                continue
            done = False
            try:
                for m in held:
                    done = sink.emit({**_message_line(m, queue_name), "claim_id": m.claim_id})
                    m.delete()
                    if done:
                        break
            finally:
                # Done, interrupted (Ctrl-C) or failed: what was not deleted
                # goes back to the queue now rather than when the claim expires.
                held.delete()
            if done:
                return


@click.command()
@click.argument("queue_name")
@click.option(
    "--claim", "consume", is_flag=True, help="Consume: claim, print, delete (instead of peeking)."
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds between polls.",
)
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many messages.")
@click.option("--from-start", is_flag=True, help="Polling: print what the queue holds first.")
@click.option("--poll", is_flag=True, help="Poll even when a WebSocket endpoint is given.")
@click.option(
    "--ttl",
    type=int,
    default=60,
    show_default=True,
    help="Claim TTL (--claim) or push subscription TTL (WebSocket).",
)
@click.option("--grace", type=int, default=60, show_default=True, help="Claim grace (--claim).")
@click.option(
    "--batch", type=int, default=10, show_default=True, help="Messages per claim (--claim)."
)
def tail(
    queue_name: str,
    consume: bool,
    interval: float,
    count: int | None,
    from_start: bool,
    poll: bool,
    ttl: int,
    grace: int,
    batch: int,
) -> None:
    """Follow QUEUE's new messages, one JSON document per line on stdout."""
    conn = connection()
    websocket = bool(conn.ws_url) or (conn.url or "").startswith(("ws://", "wss://"))
    if websocket and not poll and not consume and importlib.util.find_spec("websockets") is None:
        # Push is an option here, not a requirement: follow by polling.
        _status("WebSocket push needs pip install 'zaqarkit[websockets]'; polling instead")
        poll = True
    sink = _Sink(count)
    with sigterm_as_interrupt():
        if consume:
            _claiming(queue_name, interval, ttl, grace, batch, sink)
        elif websocket and not poll:
            _over_websocket(queue_name, ttl, sink)
        else:
            _by_polling(queue_name, interval, from_start, sink)
