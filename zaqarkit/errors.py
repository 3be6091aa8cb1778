"""The exceptions zaqarkit raises.

Everything derives from :class:`ZaqarError`, so ``except zaqarkit.ZaqarError``
catches every failure the library reports. Third-party exceptions (httpx,
websockets, keystoneauth1) are translated at the transport boundary and chained
with ``raise ... from``; they never escape on their own.

This module is pure: it is shared by the sans-I/O core and the transports.
"""

from __future__ import annotations

import builtins

__all__ = [
    "ApiError",
    "BadRequest",
    "BodyDecodeError",
    "ClientError",
    "Conflict",
    "ConnectError",
    "Forbidden",
    "InternalServerError",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "PayloadTooLarge",
    "RETRYABLE_STATUSES",
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


class BodyDecodeError(ValidationError):
    """A message body that does not decode into the ``body_type`` asked for.

    ``field`` names the message and the place in its body
    (``messages[<id>].body.qty``), ``rule`` what is wrong there. ``message_id``,
    ``path`` (``.qty``, empty for the whole body), ``body`` (the body as Zaqar
    stored it, decoded as plain JSON) and ``body_type`` are attributes;
    ``claim_id`` is set for a claimed message.

    >>> raise BodyDecodeError("m1", ".qty", "Expected `int`, got `str`", {"qty": "x"}, dict)
    Traceback (most recent call last):
    ...
    zaqarkit.errors.BodyDecodeError: messages[m1].body.qty: Expected `int`, got `str`
    """

    def __init__(
        self,
        message_id: str,
        path: str,
        reason: str,
        body: object,
        body_type: object,
        claim_id: str | None = None,
    ) -> None:
        super().__init__(f"messages[{message_id}].body{path}", reason)
        self.message_id = message_id
        self.path = path
        self.body = body
        self.body_type = body_type
        self.claim_id = claim_id
        #: The message as read (its body plain JSON), when a parser found it.
        self.record: object = None


class UnsupportedOperation(ZaqarError):
    """The chosen API version or transport does not offer this operation."""


class ProtocolError(ZaqarError):
    """The server answered, but not in the shape the protocol promises."""


class TransportError(ZaqarError):
    """No usable response: the connection failed, timed out or closed.

    ``sent`` tells whether the request may have reached the server: ``False``
    only when the client knows nothing of it left (the connection was never
    made, the request was refused before writing); ``True`` means the outcome
    is unknown, the server may have executed it.

    ``retryable`` tells whether resending the request as is is safe: it was
    not sent, or its operation is idempotent (reads, deletes, PUTs). A message
    post or claim create whose outcome is unknown is not retryable: resending
    it may duplicate messages or claim twice. The transport that raises the
    error decides it (:func:`zaqarkit.core.operations.resendable`); an error
    built without it counts as retryable only when nothing was sent.

    >>> TransportError("reply lost", sent=True, operation="message_post").retryable
    False
    >>> TransportError("reply lost", sent=True, operation="message_get", retryable=True).retryable
    True
    >>> ConnectError("refused", operation="message_post").retryable
    True
    """

    #: Conservative default: unless the raiser knows better, the request may
    #: have reached the server.
    sent: bool = True

    def __init__(
        self,
        message: str,
        *,
        sent: bool | None = None,
        operation: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        if sent is not None:
            self.sent = sent
        self.operation = operation
        self._retryable = retryable

    @property
    def retryable(self) -> bool:
        return self._retryable if self._retryable is not None else not self.sent


class ConnectError(TransportError, ConnectionError):
    """The connection could not be established; nothing was sent.

    Also a builtin :class:`ConnectionError`.
    """

    sent = False


class TimeoutError(TransportError, builtins.TimeoutError):
    """The request did not complete in time. Also a builtin :class:`TimeoutError`."""


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
    #: The server's ``Retry-After`` in seconds, when it sent one.
    retry_after: float | None = None

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
        # Falcon's titles already start with the status ("404 Not Found").
        message = title if title.startswith(f"{status} ") else f"{status} {title}".rstrip()
        if description:
            message += f": {description}"
        if operation:
            message += f" (operation {operation})"
        super().__init__(message)

    @property
    def retryable(self) -> bool:
        """True for answers that say "try again later": 429, 502, 503, 504.

        >>> error_for_status(503)(503).retryable, error_for_status(404)(404).retryable
        (True, False)
        """
        return self.status in RETRYABLE_STATUSES


#: Statuses after which the same request may succeed if sent again later.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


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


class InternalServerError(ServerError):
    status = 500


class ServiceUnavailable(ServerError):
    """503; Zaqar's description ends in 'Please try again in a few seconds.'"""

    status = 503


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
