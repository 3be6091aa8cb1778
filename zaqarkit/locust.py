"""Load-test a Zaqar deployment from many machines with Locust, through zaqarkit.

:class:`ZaqarUser` is a Locust ``User`` whose ``self.zaqar`` is a zaqarkit
:class:`~zaqarkit.Client` wrapper that reports every Zaqar operation (post,
claim, delete, list, ...) to Locust's statistics through its ``request``
event, with the operation as the name and ``zaqar-http`` or ``zaqar-ws`` as
the type. Locust's own master/worker mode spreads the users over machines::

    locust -f examples/locustfile.py --master --host http://zaqar:8888
    locust -f examples/locustfile.py --worker --master-host MASTER   # on each load machine

A locustfile::

    from locust import task
    from zaqarkit.locust import ZaqarUser

    class Producer(ZaqarUser):
        @task
        def post(self) -> None:
            self.zaqar.post(self.random_queue(), {"ttl": 300, "body": {"evt": "Wakeup"}})

Options added to Locust's command line (each also read from the
environment, and forwarded by the master to its workers):
``--zaqar-transport http|ws``, ``--zaqar-ws-url``, ``--zaqar-project``,
``--zaqar-queues K``, ``--zaqar-queue-prefix``, ``--zaqar-delete-queues``
(the master, or a lone runner, deletes ``prefix-0 .. prefix-K-1`` when it
quits).

Locust runs its users as gevent greenlets, so the sync client is the one
that fits: ``http`` and ``ws`` are offered. The async transports are
measured by ``zaqarkit bench`` (one event loop per process), not here.

Importing this module imports Locust, which monkey-patches the process with
gevent: import it from locustfiles only.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from locust import User, events
from locust.env import Environment

from zaqarkit import Client
from zaqarkit.errors import ValidationError

__all__ = ["TRANSPORTS", "ZaqarUser", "ZaqarLocustClient"]

T = TypeVar("T")

#: The transports a Locust user can drive (gevent greenlets: the sync client).
TRANSPORTS = ("http", "ws")


#: The command-line options, ``--zaqar-<name>``: each defaults to its
#: ``ZAQARKIT_LOCUST_<NAME>`` environment variable when set, else to its
#: ``default`` (which also serves when Locust parsed no options).
_OPTIONS: dict[str, dict[str, Any]] = {
    "transport": {
        "default": "http",
        "choices": TRANSPORTS,
        "help": "zaqarkit transport of every ZaqarUser",
    },
    "ws_url": {"default": "", "help": "Zaqar's WebSocket endpoint (for --zaqar-transport ws)"},
    "project": {"default": "locust", "help": "X-Project-ID on a no-auth server"},
    "queues": {"default": 4, "type": int, "help": "queues the users spread over"},
    "queue_prefix": {"default": "zaqarkit-locust", "help": "queue name prefix"},
    "delete_queues": {
        "default": False,
        "action": "store_true",
        "help": "delete the queues when the test ends (master or local runner)",
    },
}


def _options(parser: Any) -> None:
    for name, spec in _OPTIONS.items():
        default = spec["default"]
        given = os.environ.get(f"ZAQARKIT_LOCUST_{name.upper()}")
        if given is not None:
            default = given not in ("", "0") if isinstance(default, bool) else type(default)(given)
        parser.add_argument(f"--zaqar-{name.replace('_', '-')}", **{**spec, "default": default})


def _option(environment: Environment, name: str) -> Any:
    default = _OPTIONS[name]["default"]
    opts = environment.parsed_options
    return getattr(opts, f"zaqar_{name}", default) if opts is not None else default


def _queue_names(environment: Environment) -> list[str]:
    prefix = _option(environment, "queue_prefix")
    count = int(_option(environment, "queues"))
    if count < 1:
        raise ValidationError("zaqar_queues", f"must be >= 1, got {count}")
    return [f"{prefix}-{i}" for i in range(count)]


def _cleanup(environment: Environment, **_: Any) -> None:
    # On quitting, not test_stop: by then the workers have stopped posting, so
    # no late post re-creates a deleted queue.
    from locust.runners import WorkerRunner

    if isinstance(environment.runner, WorkerRunner):
        return
    if not _option(environment, "delete_queues") or not environment.host:
        return
    project = _option(environment, "project")
    with Client(environment.host, project_id=project) as cli:
        for name in _queue_names(environment):
            cli.queue(name, auto_create=False).delete()


# Locust's event hooks are untyped: registered through Any.
_hooks: Any = events
_hooks.init_command_line_parser.add_listener(_options)
_hooks.quitting.add_listener(_cleanup)


class ZaqarLocustClient:
    """A zaqarkit :class:`~zaqarkit.Client` whose operations are reported to Locust.

    Each method does one Zaqar operation and fires Locust's ``request`` event
    with its name, its time in milliseconds, the messages it handled as the
    response length, and the exception if it failed (the exception is then
    swallowed: Locust counts it as a failure and the task goes on).
    ``call(name, fn)`` reports any other client call the same way.
    """

    def __init__(self, client: Client, environment: Environment, request_type: str) -> None:
        self.client = client
        self.environment = environment
        self.request_type = request_type

    def call(
        self,
        name: str,
        fn: Callable[[], T],
        count: Callable[[T], int] | None = None,
    ) -> T | None:
        """Run ``fn``, report it as operation ``name``; its result, or None on error."""
        start = time.perf_counter()
        exc: BaseException | None = None
        result: T | None = None
        try:
            result = fn()
        except Exception as error:
            exc = error
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        request: Any = self.environment.events.request  # its fire() is untyped
        request.fire(
            request_type=self.request_type,
            name=name,
            response_time=elapsed_ms,
            response_length=count(result) if (count and exc is None and result is not None) else 0,
            exception=exc,
            context={},
        )
        return result

    def queue(self, name: str) -> Any:
        return self.client.queue(name, auto_create=False)

    def post(self, queue: str, messages: Any) -> list[str] | None:
        """Post one message dict or a list of them (operation ``post``)."""
        q = self.queue(queue)
        return self.call("post", lambda: q.post(messages), len)

    def claim(self, queue: str, ttl: int = 300, grace: int = 200, limit: int = 5) -> Any:
        """Claim up to ``limit`` messages (operation ``claim``); the claim or None."""
        q = self.queue(queue)
        return self.call("claim", lambda: q.claim(ttl=ttl, grace=grace, limit=limit), len)

    def delete(self, message: Any) -> None:
        """Delete one claimed or listed message (operation ``delete``)."""
        self.call("delete", message.delete)

    def list(self, queue: str, limit: int = 5) -> list[Any] | None:
        """One page of up to ``limit`` messages, echo on (operation ``list``)."""
        q = self.queue(queue)

        def page() -> list[Any]:
            out = []
            for m in q.messages(limit=limit, echo=True):
                out.append(m)
                if len(out) == limit:
                    break
            return out

        return self.call("list", page, len)

    def close(self) -> None:
        self.client.close()


class ZaqarUser(User):
    """A Locust user with ``self.zaqar``, a :class:`ZaqarLocustClient`.

    ``host`` is Zaqar's HTTP endpoint (Locust's ``--host``). Subclasses may
    set ``transport`` (``"http"`` or ``"ws"``; default: ``--zaqar-transport``),
    ``client_options`` (keyword arguments for :class:`~zaqarkit.Client`, e.g.
    Keystone's ``conf``) and write tasks against ``self.zaqar``; the queues
    to use are ``self.queues`` (``random_queue()`` picks one).
    """

    abstract = True
    transport: str | None = None
    client_options: dict[str, Any] = {}  # noqa: RUF012 - a class-level default, never mutated

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        transport = self.transport or _option(environment, "transport")
        if transport not in TRANSPORTS:
            raise ValidationError(
                "transport",
                f"a Locust user drives {' or '.join(TRANSPORTS)} (gevent greenlets "
                f"run the sync client), got {transport!r}",
            )
        opts = dict(self.client_options)
        opts.setdefault("project_id", _option(environment, "project"))
        if transport == "ws":
            url = _option(environment, "ws_url")
            if not url:
                raise ValidationError("zaqar_ws_url", "the ws transport needs --zaqar-ws-url")
        else:
            url = self.host
            if not url:
                raise ValidationError("host", "give Zaqar's HTTP endpoint with --host")
        self.queues = _queue_names(environment)
        self.zaqar = ZaqarLocustClient(Client(url, **opts), environment, f"zaqar-{transport}")

    def on_start(self) -> None:
        # Create the queues first, unreported: over WebSocket, listing a queue
        # that no post has created yet is a 404 that would count as a failure.
        for name in self.queues:
            self.zaqar.client.queue(name).ensure_exists(force_create=True)

    def random_queue(self, choices: Iterable[str] | None = None) -> str:
        """One of ``self.queues`` (or of ``choices``), at random."""
        return random.choice(list(choices) if choices is not None else self.queues)

    def on_stop(self) -> None:
        self.zaqar.close()
