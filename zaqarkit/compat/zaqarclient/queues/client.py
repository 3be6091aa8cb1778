"""python-zaqarclient's ``zaqarclient.queues.client``: the ``Client`` factory.

>>> from zaqarkit.compat.zaqarclient.queues import client
>>> conf = {"auth_opts": {"backend": "noauth", "options": {"os_project_id": "demo"}}}
>>> client.Client("http://127.0.0.1:8888", version=2, conf=conf).api_version
2
>>> client.Client("http://127.0.0.1:8888", conf=conf)
Traceback (most recent call last):
...
zaqarkit.errors.ZaqarError: Unknown client version
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zaqarkit.compat.zaqarclient import errors
from zaqarkit.compat.zaqarclient.queues.v2 import client as cv2

_CLIENTS: dict[Any, type[cv2.Client]] = {2: cv2.Client, "2": cv2.Client}


def Client(
    url: str | None = None,
    version: int | str | None = None,
    conf: Mapping[str, Any] | None = None,
    session: Any = None,
    **options: Any,
) -> cv2.Client:
    """A v2 client (``version`` must be given, as in python-zaqarclient: 2).

    ``options`` go to :class:`zaqarkit.Client` (e.g. ``roles=["admin"]``).
    """
    try:
        cls = _CLIENTS[version]
    except (KeyError, TypeError):
        raise errors.ZaqarError("Unknown client version") from None
    return cls(
        url=url,
        version=version if version is not None else 2,
        conf=conf,
        session=session,
        **options,
    )
