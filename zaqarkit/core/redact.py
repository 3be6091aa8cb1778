"""Structural redaction: secrets are replaced by name before anything is formatted.

Tokens, passwords and signatures travel in known places: a few headers
(``X-Auth-Token``, ``URL-Signature``...), a few fields of structured data
(``password``, ``token``...) and the userinfo of a URL. Every ``repr``, log
line and error message zaqarkit builds goes through these functions, which
look at names and positions, never at the text of the secret itself: a
one-character password cannot turn ``http://`` into ``htt***://``.

>>> redact_headers((("X-Auth-Token", "gAAAA"), ("Client-ID", "c1")))
(('X-Auth-Token', '***'), ('Client-ID', 'c1'))
>>> redact_url("http://user:pw@h:8888/v2/queues?x=1")
'http://***@h:8888/v2/queues?x=1'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "MASK",
    "SECRET_FIELDS",
    "SECRET_HEADERS",
    "is_secret_field",
    "is_secret_header",
    "redact_body",
    "redact_data",
    "redact_headers",
    "redact_mapping",
    "redact_url",
]

#: What a secret is replaced by.
MASK = "***"

#: Headers whose value is a credential (lower case). Zaqar's signed URLs put
#: the signature in ``URL-Signature``; Keystone returns tokens in
#: ``X-Subject-Token``; proxies and cookies carry their own.
SECRET_HEADERS = frozenset(
    {
        "x-auth-token",
        "x-subject-token",
        "x-service-token",
        "url-signature",
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    }
)

#: Field names (lower case, ``os_`` prefix ignored) whose value is a secret in
#: structured data: options dicts, WebSocket frame headers, Keystone options.
SECRET_FIELDS = frozenset(
    {"password", "token", "auth_token", "signature", "secret", "application_credential_secret"}
)


def is_secret_header(name: str) -> bool:
    """Whether header ``name`` carries a credential.

    >>> is_secret_header("x-AUTH-token"), is_secret_header("X-Project-ID")
    (True, False)
    """
    return name.lower() in SECRET_HEADERS


def is_secret_field(name: str) -> bool:
    """Whether a structured field called ``name`` holds a secret (headers included).

    >>> is_secret_field("os_password"), is_secret_field("URL-Signature"), is_secret_field("ttl")
    (True, True, False)
    """
    lowered = name.lower()
    if lowered.startswith("os_"):
        lowered = lowered[3:]
    return lowered in SECRET_FIELDS or lowered in SECRET_HEADERS


def redact_headers(headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Header pairs with every credential value masked; other values untouched."""
    return tuple((name, MASK if is_secret_header(name) else value) for name, value in headers)


def redact_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with secret fields masked, recursively.

    >>> redact_mapping({"headers": {"X-Auth-Token": "t", "Client-ID": "c"}, "body": {"k": 1}})
    {'headers': {'X-Auth-Token': '***', 'Client-ID': 'c'}, 'body': {'k': 1}}
    """
    return {
        key: MASK if isinstance(key, str) and is_secret_field(key) else redact_data(value)
        for key, value in data.items()
    }


def redact_data(value: Any) -> Any:
    """``value`` with secret fields of any nested mapping masked (lists walked
    too), and the userinfo of URLs in its strings.

    >>> redact_data([{"uri": "redis://:secret@h:6379", "weight": 100}])
    [{'uri': 'redis://***@h:6379', 'weight': 100}]
    """
    if isinstance(value, Mapping):
        return redact_mapping(value)
    if isinstance(value, (list, tuple)):
        return type(value)(redact_data(item) for item in value)
    if isinstance(value, str) and "://" in value:
        return redact_url(value)
    return value


#: A URL's scheme and userinfo, up to the '@' that ends it: the userinfo holds
#: no '/', '?', '#' or '@' (RFC 3986), nor a quote or a space, which end a
#: URL written inside JSON or text.
_USERINFO = re.compile(rb"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\"'\s]*@")


def redact_body(body: bytes | None) -> bytes | None:
    """``body`` with the userinfo of every URL in it masked: a pool's ``uri``
    carries its store's password (``redis://:secret@host``), in the request
    that registers the pool and in the answers that list it.

    >>> redact_body(b'{"uri": "redis://:secret@h:6379", "weight": 100}')
    b'{"uri": "redis://***@h:6379", "weight": 100}'
    >>> redact_body(b'{"body": {"mail": "a@b.example"}}')
    b'{"body": {"mail": "a@b.example"}}'
    """
    if body is None or b"@" not in body:
        return body
    return _USERINFO.sub(rb"\1***@", body)


def redact_url(url: str) -> str:
    """``url`` with any userinfo (``user:password@``) replaced by ``***``.

    Plain string work by position: the URL may be the malformed one an error
    reports.

    >>> redact_url("https://h/v2"), redact_url("wss://a:b@h:9000")
    ('https://h/v2', 'wss://***@h:9000')
    """
    start = url.find("://") + 3 if "://" in url else 0
    end = len(url)
    for stop in "/?#":
        found = url.find(stop, start)
        if found != -1:
            end = min(end, found)
    at = url.rfind("@", start, end)
    if at == -1:
        return url
    return f"{url[:start]}{MASK}{url[at:]}"
