"""A consumer process for the SIGKILL test: logs every message its handler
finished (before the ack), one id per line, flushed at once.

    python -m tests.integration.consumer_child URL PROJECT QUEUE LOG {sync,asyncio,trio}
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Any


def main() -> None:
    url, project, name, log_path, mode = sys.argv[1:6]
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 (lives as long as the process)
    if mode == "sync":
        from zaqarkit import Client

        def handler(delivery: Any) -> None:
            time.sleep(0.002)
            log.write(delivery.id + "\n")

        with Client(url, project_id=project) as client:
            client.queue(name).consume(
                handler, concurrency=4, batch=10, max_in_flight=40, poll_max=0.5
            )
        return

    import anyio

    from zaqarkit import AsyncClient

    async def async_handler(delivery: Any) -> None:
        await anyio.sleep(0.002)
        log.write(delivery.id + "\n")

    async def run() -> None:
        # Async code stops by cancellation: SIGTERM cancels the consumer,
        # whose cleanup (shielded) releases what it holds.
        async with AsyncClient(url, project_id=project) as client, anyio.create_task_group() as tg:

            async def cancel_on_sigterm() -> None:
                with anyio.open_signal_receiver(signal.SIGTERM) as signals:
                    async for _ in signals:
                        tg.cancel_scope.cancel()
                        return

            tg.start_soon(cancel_on_sigterm)
            await client.queue(name).consume(
                async_handler, concurrency=4, batch=10, max_in_flight=40, poll_max=0.5
            )

    anyio.run(run, backend=mode)


if __name__ == "__main__":
    main()
