"""The exceptions zaqarkit raises.

Everything derives from :class:`ZaqarError`, so ``except zaqarkit.ZaqarError``
catches every failure the library reports. Third-party exceptions (httpx,
websockets, keystoneauth1) are translated at the transport boundary and chained
with ``raise ... from``; they never escape on their own.

This module is pure: it is shared by the sans-I/O core and the transports.
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "BadRequest",
    "ClientError",
    "Conflict",
    "ConnectError",
    "Forbidden",
    "InternalServerError",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "PayloadTooLarge",
    "ProtocolError",
    "ReadError",
    "ServerError",
    "ServiceUnavailable",
    "TimeoutError",
    "TooManyRequests",
    "TransportError",
    "TransportProtocolError",
    "Unauthorized",
    "UnsupportedMediaType",
    "UnsupportedOperation",
    "ValidationError",
    "ZaqarError",
    "error_for_status",
]


class ZaqarError(Exception):
    """Root of every error raised by zaqarkit."""


class ValidationError(ZaqarError, ValueError):
    """Bad input, detected before anything was sent.

    ``field`` names what was wrong and ``rule`` the constraint it broke.

    >>> raise ValidationError("ttl", "must be between 60 and 1209600, got 5")
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ValidationError: ttl: must be between 60 and 1209600, got 5
    """

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class UnsupportedOperation(ZaqarError):
    """The chosen API version or transport does not offer this operation."""


class ProtocolError(ZaqarError):
    """The server answered, but not in the shape the protocol promises."""


class TransportError(ZaqarError):
    """No usable response: the connection failed, timed out or closed.

    ``retryable`` is true when the request certainly did not reach the server,
    or when the caller may safely decide to retry (never done blindly for
    non-idempotent operations such as ``message_post``).
    """

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class ConnectError(TransportError):
    """The connection could not be established; nothing was sent."""

    retryable = True


class TimeoutError(TransportError):
    """The request did not complete in time."""


class ReadError(TransportError):
    """The connection broke while sending the request or reading the response."""


class TransportProtocolError(TransportError):
    """The peer broke the wire protocol (HTTP or WebSocket framing)."""


class ApiError(ZaqarError):
    """The server answered with an error status.

    Attributes mirror Zaqar's error body: ``title`` and ``description`` (which
    Falcon omits for its own 404/405 answers, so it may be empty).
    """

    status: int = 0

    def __init__(
        self,
        status: int,
        title: str = "",
        description: str = "",
        operation: str | None = None,
        *,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.title = title
        self.description = description
        self.operation = operation
        self.request_id = request_id
        parts = [f"{status}"]
        if title:
            parts.append(title)
        message = " ".join(parts)
        if description:
            message += f": {description}"
        if operation:
            message += f" (operation {operation})"
        super().__init__(message)


class ClientError(ApiError):
    """A 4xx answer."""


class ServerError(ApiError):
    """A 5xx answer."""


class BadRequest(ClientError):
    status = 400


class Unauthorized(ClientError):
    status = 401


class Forbidden(ClientError):
    status = 403


class NotFound(ClientError):
    status = 404


class MethodNotAllowed(ClientError):
    status = 405


class NotAcceptable(ClientError):
    status = 406


class Conflict(ClientError):
    status = 409


class PayloadTooLarge(ClientError):
    status = 413


class UnsupportedMediaType(ClientError):
    status = 415


class TooManyRequests(ClientError):
    """429; ``retry_after`` holds the server's Retry-After in seconds, if any."""

    status = 429
    retry_after: float | None = None


class InternalServerError(ServerError):
    status = 500


class ServiceUnavailable(ServerError):
    """503; Zaqar's description ends in 'Please try again in a few seconds.'"""

    status = 503
    retry_after: float | None = None


_STATUS_TABLE: dict[int, type[ApiError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        NotAcceptable,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        TooManyRequests,
        InternalServerError,
        ServiceUnavailable,
    )
}


def error_for_status(status: int) -> type[ApiError]:
    """Return the exception class for an HTTP (or WebSocket ``headers.status``) code.

    >>> error_for_status(404).__name__
    'NotFound'
    >>> error_for_status(502).__name__
    'ServerError'
    """
    try:
        return _STATUS_TABLE[status]
    except KeyError:
        if status >= 500:
            return ServerError
        if status >= 400:
            return ClientError
        return ApiError
