"""Pure pieces of authentication: which headers a request carries, what a
404 to a signed URL means.

The I/O side (fetching tokens from Keystone, in a thread for async clients)
lives in :mod:`zaqarkit.auth`. Whether to re-authenticate after a 401 is a
step of the call flow in :mod:`zaqarkit.core.retry`: a rejected token is
renewed at most once per call, so a wrong password fails fast instead of
looping.
"""

from __future__ import annotations

from dataclasses import replace

from zaqarkit.core.models import SignedURL
from zaqarkit.core.wire import Headers, Request
from zaqarkit.errors import NotFound

__all__ = [
    "signed_url_not_found",
    "with_credentials",
]


def with_credentials(request: Request, credentials: Headers) -> Request:
    """``request`` with ``credentials`` added, replacing same-named headers.

    Replacing matters for ``X-Project-ID``: the token's project wins over any
    project the client was configured with.

    >>> from zaqarkit.core.operations import Operation
    >>> r = Request(Operation.PING, "GET", "/v2/ping", headers=(("X-Project-ID", "old"),))
    >>> with_credentials(r, (("X-Auth-Token", "t"), ("X-Project-ID", "new"))).headers
    (('X-Auth-Token', 't'), ('X-Project-ID', 'new'))
    >>> with_credentials(r, ()) is r
    True
    """
    if not credentials:
        return request
    names = {name.lower() for name, _ in credentials}
    kept = tuple((k, v) for k, v in request.headers if k.lower() not in names)
    return replace(request, headers=credentials + kept)


def signed_url_not_found(error: NotFound, request: Request, signed: SignedURL) -> NotFound:
    """Explain a 404 received with pre-signed headers.

    Zaqar answers 404 (not 401/403) when the signature is wrong or expired, or
    when the method or path is not covered; say so, without the signature.

    >>> from zaqarkit.core.operations import Operation
    >>> s = SignedURL("p", ("/v2/queues/q/messages",), ("GET",), "2030-01-01T00:00:00", "s3cr3t")
    >>> r = Request(Operation.QUEUE_CREATE, "PUT", "/v2/queues/q")
    >>> e = signed_url_not_found(NotFound(404, "Not found"), r, s)
    >>> "may have expired" in str(e) and "PUT /v2/queues/q" in str(e) and "s3cr3t" not in str(e)
    True
    """
    hint = (
        f"the signed URL may have expired (expires {signed.expires} UTC), its "
        f"signature may be invalid, or it may not cover {request.method} {request.path} "
        f"(it grants {', '.join(signed.methods)} on {', '.join(signed.paths)})"
    )
    description = f"{error.description}; {hint}" if error.description else hint
    return NotFound(
        error.status or 404,
        error.title or "Not found",
        description,
        error.operation,
        request_id=error.request_id,
    )
