"""TLS settings of the HTTP transports: OpenStack-style options to an SSL context."""

from __future__ import annotations

import ssl

import certifi

from zaqarkit.errors import ValidationError

__all__ = ["CertArg", "ssl_context", "verify_setting"]

#: A client certificate: one PEM file holding certificate and key, or (cert, key).
CertArg = str | tuple[str, str] | None


def verify_setting(
    *, verify: bool = True, cacert: str | None = None, insecure: bool = False
) -> bool | ssl.SSLContext:
    """Turn the OpenStack-style TLS options into httpx's ``verify`` value.

    As in the OpenStack CLIs, ``insecure`` (or ``verify=False``) wins over
    ``cacert``: verification is off. Otherwise ``cacert`` names a CA bundle to
    trust instead of the default (certifi's) one.

    >>> verify_setting()
    True
    >>> verify_setting(insecure=True, cacert="/etc/ssl/ca.pem")
    False
    """
    if insecure or not verify:
        return False
    if cacert is not None:
        return ssl.create_default_context(cafile=cacert)
    return True


def ssl_context(verify: bool | ssl.SSLContext, cert: CertArg = None) -> ssl.SSLContext:
    """The SSL context for a :func:`verify_setting` value and a client ``cert``.

    >>> ssl_context(False).verify_mode == ssl.CERT_NONE
    True
    """
    if isinstance(verify, ssl.SSLContext):
        context = verify
    elif verify:
        # The same trust store httpx uses by default.
        context = ssl.create_default_context(cafile=certifi.where())
    else:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert is not None:
        certfile, keyfile = (cert, None) if isinstance(cert, str) else cert
        try:
            context.load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as exc:
            raise ValidationError(
                "cert", f"cannot load the client certificate {certfile!r}: {exc}"
            ) from None
    return context
