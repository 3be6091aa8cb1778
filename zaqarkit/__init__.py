"""zaqarkit: a client for OpenStack Zaqar over HTTP, sync and async (asyncio and trio).

>>> from zaqarkit import Client
>>> cli = Client("http://127.0.0.1:8888", project_id="demo")
>>> cli.queue("orders")   # no I/O until the queue is used
<Queue 'orders'>
"""

from zaqarkit._async.client import (
    AsyncClaim,
    AsyncClient,
    AsyncFlavor,
    AsyncMessage,
    AsyncPool,
    AsyncQueue,
    AsyncSubscription,
)
from zaqarkit._sync.client import Claim, Client, Flavor, Message, Pool, Queue, Subscription
from zaqarkit.core.retry import RetryPolicy
from zaqarkit.core.timeouts import Timeout
from zaqarkit.core.validate import Limits
from zaqarkit.errors import *  # noqa: F403
from zaqarkit.errors import __all__ as _error_names

__version__ = "0.1.0"

__all__ = [
    "AsyncClaim",
    "AsyncClient",
    "AsyncFlavor",
    "AsyncMessage",
    "AsyncPool",
    "AsyncQueue",
    "AsyncSubscription",
    "Claim",
    "Client",
    "Flavor",
    "Limits",
    "Message",
    "Pool",
    "Queue",
    "RetryPolicy",
    "Subscription",
    "Timeout",
    "__version__",
    *_error_names,
]
