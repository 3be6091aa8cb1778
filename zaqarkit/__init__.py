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
from zaqarkit._async.consumer import AsyncConsumer, AsyncDelivery, ConsumerStats
from zaqarkit._async.producer import AsyncProducer
from zaqarkit._network import PoolLimits
from zaqarkit._observe import RequestEvent, ResponseEvent
from zaqarkit._sync.client import Claim, Client, Flavor, Message, Pool, Queue, Subscription
from zaqarkit._sync.consumer import Consumer, Delivery
from zaqarkit._sync.producer import Producer
from zaqarkit._version import __version__
from zaqarkit.core.consumer import ConsumerHealth
from zaqarkit.core.retry import RetryPolicy
from zaqarkit.core.timeouts import Timeout
from zaqarkit.core.validate import Limits
from zaqarkit.core.ws import Notification
from zaqarkit.core.wsconn import PushGap
from zaqarkit.errors import *  # noqa: F403
from zaqarkit.errors import __all__ as _error_names

__all__ = [
    "AsyncClaim",
    "AsyncClient",
    "AsyncConsumer",
    "AsyncDelivery",
    "AsyncFlavor",
    "AsyncMessage",
    "AsyncPool",
    "AsyncProducer",
    "AsyncQueue",
    "AsyncSubscription",
    "Claim",
    "Client",
    "Consumer",
    "ConsumerHealth",
    "ConsumerStats",
    "Delivery",
    "Flavor",
    "Limits",
    "Message",
    "Notification",
    "Pool",
    "PoolLimits",
    "Producer",
    "PushGap",
    "Queue",
    "RequestEvent",
    "ResponseEvent",
    "RetryPolicy",
    "Subscription",
    "Timeout",
    "__version__",
    *_error_names,
]
