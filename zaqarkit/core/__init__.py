"""The sans-I/O core: builds requests and parses responses, performs no I/O.

Nothing in this package imports httpx, websockets, anyio, trio, sniffio,
asyncio or socket, reads a clock or sleeps (``tests/unit/test_core_purity.py``
and ``nox -s lint`` enforce it). Transports execute what it builds.

>>> from zaqarkit.core import ApiV2, Response
>>> call = ApiV2().queue_create("orders")
>>> call.request.method, call.request.path
('PUT', '/v2/queues/orders')
>>> call.parse(Response(201))
True
"""

from zaqarkit.core import models
from zaqarkit.core.api import JSON_PATCH, ApiV2, metadata_patch
from zaqarkit.core.api_v1 import ApiV1, ApiV1_1, api_for
from zaqarkit.core.context import Context
from zaqarkit.core.operations import ROUTES, ApiVersion, Operation, Route, route_for, supports
from zaqarkit.core.paginate import Pagination
from zaqarkit.core.validate import DEFAULT_LIMITS, Limits
from zaqarkit.core.wire import Call, Request, Response

__all__ = [
    "DEFAULT_LIMITS",
    "JSON_PATCH",
    "ROUTES",
    "ApiV1",
    "ApiV1_1",
    "ApiV2",
    "ApiVersion",
    "Call",
    "Context",
    "Limits",
    "Operation",
    "Pagination",
    "Request",
    "Response",
    "Route",
    "api_for",
    "metadata_patch",
    "models",
    "route_for",
    "supports",
]
