"""Which event loop is running, and whether an earlier one has ended.

Async transports keep connections that belong to the event loop that opened
them. Running one ``asyncio.run`` or ``trio.run`` after another with the same
client (as scripts and test frameworks do) must not reuse them: the old loop
is gone, and so are its sockets' readers. These helpers let a transport
notice that and start afresh, or refuse use from a second live loop.
"""

from __future__ import annotations

from asyncio import events as asyncio_events
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from zaqarkit import errors

__all__ = ["EventLoopBinding", "current_backend", "run_at_loop_end"]


def current_backend() -> str:
    """``"asyncio"`` or ``"trio"``: the async library running this code."""
    try:
        import sniffio
    except ImportError:  # trio depends on sniffio: without it, this is asyncio
        return "asyncio"
    return sniffio.current_async_library()


def _current_loop() -> Any:
    """The running asyncio loop, or the current trio run's token."""
    if current_backend() == "trio":
        import trio

        return trio.lowlevel.current_trio_token()
    import asyncio

    return asyncio.get_running_loop()


def _loop_finished(loop: Any) -> bool:
    """Whether an event loop from :func:`_current_loop` can never run again."""
    is_closed = getattr(loop, "is_closed", None)
    if is_closed is not None:  # asyncio: asyncio.run() closes its loop at the end
        return bool(is_closed())
    import trio

    try:
        loop.run_sync_soon(lambda: None)
    except trio.RunFinishedError:
        return True
    return False


class EventLoopBinding:
    """Remembers the event loop a transport's connections belong to.

    ``rebind()`` at the start of every async operation returns True when the
    running loop is not the one bound so far (first use, or an earlier loop
    that has ended); it raises TransportError if that earlier loop is still
    open, since its connections cannot be shared.

    Example::

        binding = EventLoopBinding("HTTP connections")
        if binding.rebind():
            forget_what_the_old_loop_left()
    """

    __slots__ = ("_loop", "_what")

    def __init__(self, what: str) -> None:
        self._what = what
        self._loop: Any = None

    def rebind(self) -> bool:
        previous = self._loop
        if previous is not None and previous is asyncio_events._get_running_loop():
            # Every request asks: the bound asyncio loop is recognised without
            # sniffio's lookup of the running library.
            return False
        loop = _current_loop()
        if previous is loop:
            return False
        if previous is not None and not _loop_finished(previous):
            raise errors.TransportError(
                f"this client's {self._what} belong to another event loop that is still "
                "open; use one client (one transport) per event loop"
            )
        self._loop = loop
        return True


def run_at_loop_end(cleanup: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    """Run ``cleanup()`` inside the running event loop when it shuts down.

    ``asyncio.run`` cancels the tasks still pending before it closes its loop,
    and ``trio.run`` cancels its system tasks: a task that sleeps until then
    gets to close connections while their loop can still do it. Returns a
    function that cancels the guard (when the transport is closed first).
    """
    scope = anyio.CancelScope()

    async def guard() -> None:
        with scope:
            try:
                await anyio.sleep_forever()
            finally:
                if not scope.cancel_called:  # the loop is ending, not the transport
                    with anyio.CancelScope(shield=True):
                        await cleanup()

    if current_backend() == "trio":
        import trio

        trio.lowlevel.spawn_system_task(guard)
    else:
        import asyncio

        task = asyncio.get_running_loop().create_task(guard())
        _GUARDS.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(_GUARDS.discard)
    return scope.cancel


_GUARDS: set[Any] = set()
