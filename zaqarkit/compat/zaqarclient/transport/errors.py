"""python-zaqarclient's ``zaqarclient.transport.errors``: one class per error
status, each also the matching zaqarkit error.

python-zaqarclient maps 400, 401, 403, 404, 409, 500 and 503 and returns every
other error answer as if it had succeeded; here every error status raises:
the unmapped ones as :class:`TransportError` subclasses named like zaqarkit's
(``MethodNotAllowed``, ``TooManyRequests``, ...).

>>> import zaqarkit
>>> from zaqarkit.compat.zaqarclient.transport import errors
>>> err = errors.from_api_error(zaqarkit.NotFound(404, "Not found"))
>>> isinstance(err, errors.ResourceNotFound), isinstance(err, zaqarkit.NotFound), err.code
(True, True, 404)
>>> str(err)
'Error response from Zaqar. Code: 404. Title: Not found.'
"""

from __future__ import annotations

from zaqarkit import errors as zk

__all__ = [
    "ConflictError",
    "ForbiddenError",
    "InternalServerError",
    "MalformedRequest",
    "ResourceNotFound",
    "ServiceUnavailableError",
    "TransportError",
    "UnauthorizedError",
    "from_api_error",
]


class TransportError(zk.ApiError):
    """The server answered with an error status (python-zaqarclient's base
    class; ``code`` is the status). Also a :class:`zaqarkit.ApiError`.

    Not to be confused with :class:`zaqarkit.TransportError` (no usable
    answer at all), which python-zaqarclient has no class for.
    """

    code: int | None = None

    def __init__(
        self,
        title: str | None = None,
        description: str | None = None,
        text: str | None = None,
        *,
        status: int | None = None,
        operation: str | None = None,
        request_id: str | None = None,
    ) -> None:
        status = status if status is not None else (self.code or 0)
        super().__init__(
            status, title or "", description or text or "", operation, request_id=request_id
        )
        self.code = status
        # python-zaqarclient's message format, which callers may log or match.
        message = f"Error response from Zaqar. Code: {status}."
        if title:
            message += f" Title: {title}."
        if description:
            message += f" Description: {description}."
        if text:
            message += f" Text: {text}."
        self.args = (message,)


class MalformedRequest(TransportError, zk.BadRequest):
    """400."""

    code = 400


class UnauthorizedError(TransportError, zk.Unauthorized):
    """401."""

    code = 401


class ForbiddenError(TransportError, zk.Forbidden):
    """403."""

    code = 403


class ResourceNotFound(TransportError, zk.NotFound):
    """404."""

    code = 404


class ConflictError(TransportError, zk.Conflict):
    """409."""

    code = 409


class InternalServerError(TransportError, zk.InternalServerError):
    """500."""

    code = 500


class ServiceUnavailableError(TransportError, zk.ServiceUnavailable):
    """503."""

    code = 503


# Statuses python-zaqarclient let through as successes.
class MethodNotAllowed(TransportError, zk.MethodNotAllowed):
    code = 405


class NotAcceptable(TransportError, zk.NotAcceptable):
    code = 406


class PayloadTooLarge(TransportError, zk.PayloadTooLarge):
    code = 413


class UnsupportedMediaType(TransportError, zk.UnsupportedMediaType):
    code = 415


class TooManyRequests(TransportError, zk.TooManyRequests):
    code = 429


class ClientError(TransportError, zk.ClientError):
    """Any other 4xx."""


class ServerError(TransportError, zk.ServerError):
    """Any other 5xx (502, 504, ...)."""


_BY_ZAQARKIT: dict[type[zk.ApiError], type[TransportError]] = {
    zk.BadRequest: MalformedRequest,
    zk.Unauthorized: UnauthorizedError,
    zk.Forbidden: ForbiddenError,
    zk.NotFound: ResourceNotFound,
    zk.Conflict: ConflictError,
    zk.InternalServerError: InternalServerError,
    zk.ServiceUnavailable: ServiceUnavailableError,
    zk.MethodNotAllowed: MethodNotAllowed,
    zk.NotAcceptable: NotAcceptable,
    zk.PayloadTooLarge: PayloadTooLarge,
    zk.UnsupportedMediaType: UnsupportedMediaType,
    zk.TooManyRequests: TooManyRequests,
}


def from_api_error(exc: zk.ApiError) -> TransportError:
    """The python-zaqarclient-named error for a zaqarkit :class:`~zaqarkit.ApiError`
    (same status, title, description, operation, request id, Retry-After)."""
    if isinstance(exc, TransportError):
        return exc
    cls = _BY_ZAQARKIT.get(type(exc))
    if cls is None:
        cls = ServerError if exc.status >= 500 else ClientError
    new = cls(
        exc.title or None,
        exc.description or None,
        status=exc.status,
        operation=exc.operation,
        request_id=exc.request_id,
    )
    new.retry_after = exc.retry_after
    return new
