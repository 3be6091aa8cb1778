"""SIGINT and SIGTERM stop a sync ``consume()`` gracefully.

One copy for the whole process: signal handlers are process-wide, so the
flag they set is too (the generated sync consumer and the async one share it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["install_signal_handlers", "stop_if_signalled"]

log = logging.getLogger("zaqarkit.consumer")


def stop_if_signalled(consumer: Any) -> None:
    """The sync ``consume()`` polls this from its main loop (signal handlers
    only set a flag: taking locks inside one could deadlock)."""
    if _SIGNALLED and not consumer.stopping:
        log.info("signal received; stopping the consumer")
        consumer.stop()


#: Set by the SIGINT/SIGTERM handlers the sync ``consume()`` installs.
_SIGNALLED: list[int] = []


def install_signal_handlers(*, enabled: bool) -> Callable[[], None]:
    """SIGINT and SIGTERM stop a sync ``consume()`` gracefully (main thread
    only; async code is stopped by cancelling it); returns the function that
    restores the previous handlers."""
    import signal
    import threading

    if not enabled or threading.current_thread() is not threading.main_thread():
        return lambda: None
    _SIGNALLED.clear()

    def handler(signum: int, frame: Any) -> None:
        _SIGNALLED.append(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _SIGNALLED.clear()

    return restore
