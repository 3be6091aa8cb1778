"""python-zaqarclient's ``zaqarclient.transport.base``.

``Transport`` is zaqarkit's sync transport interface
(:class:`zaqarkit.transports.Transport`: ``handle_request(request) -> Response``).
python-zaqarclient's ``send(request)`` transports are not emulated: the compat
layer builds its requests with zaqarkit's core.
"""

from zaqarkit.transports.base import Transport

__all__ = ["Transport"]
