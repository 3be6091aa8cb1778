"""What a fault test expects: one :class:`Fault` per situation, shared by the
HTTP and WebSocket suites so the same situation is held to the same answer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import anyio

from zaqarkit import TransportError

from .proxy import FaultProxy

#: Slack allowed past a call's timeout: thread scheduling on a loaded
#: 2-core machine, not network time (everything is loopback).
MARGIN = 3.0


@dataclass(frozen=True)
class Fault:
    """A proxy mode, the call made through it, and the error it must end in."""

    mode: str
    call: str  # "get" (queue stats, idempotent) or "post" (message post, not idempotent)
    error: type[TransportError]
    sent: bool
    seconds: float = 0.0
    after: int = 0
    timeout: float = 2.0
    #: Leave the opening handshake (WebSocket) alone; fault what follows.
    after_handshake: bool = False

    @property
    def retryable(self) -> bool:
        return not self.sent or self.call == "get"

    def __str__(self) -> str:
        return f"{self.mode}-{self.call}"

    def apply(self, proxy: FaultProxy) -> None:
        proxy.set_mode(
            self.mode, seconds=self.seconds, after=self.after, after_handshake=self.after_handshake
        )

    def check(self, error: BaseException | None, took: float) -> None:
        """The call ended in time, in the right error, with the right outcome flags."""
        assert isinstance(error, self.error), repr(error)
        assert error.sent is self.sent, f"sent={error.sent}"
        assert error.retryable is self.retryable, f"retryable={error.retryable}"
        assert took < self.timeout + MARGIN, f"{self} took {took:.1f} s"


async def run_async(fault: Fault, queue: Any, body: Any) -> None:
    """Make ``fault.call`` on ``queue`` and check how it ended. A hard outer
    bound makes a regression fail instead of hanging the suite."""
    began = time.monotonic()
    error: BaseException | None = None
    with anyio.move_on_after(fault.timeout + 30):
        try:
            if fault.call == "get":
                await queue.stats()
            else:
                await queue.post(body)
        except TransportError as exc:
            error = exc
    fault.check(error, time.monotonic() - began)
