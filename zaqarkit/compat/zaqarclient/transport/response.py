"""python-zaqarclient's ``zaqarclient.transport.response``.

``Response`` is zaqarkit's wire response (``status``, ``headers``, ``body``),
under python-zaqarclient's module name; the compat layer never hands one out.
"""

from zaqarkit.core.wire import Response

__all__ = ["Response"]
