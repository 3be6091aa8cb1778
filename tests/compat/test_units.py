"""The compat layer's pieces that need no server: python-zaqarclient's
constructors, error mapping and transport names."""

from __future__ import annotations

from typing import Any

import pytest

import zaqarkit
from zaqarkit.compat.zaqarclient import errors
from zaqarkit.compat.zaqarclient.queues import client as pzc_client
from zaqarkit.compat.zaqarclient.queues.v2 import message
from zaqarkit.compat.zaqarclient.transport import errors as transport_errors
from zaqarkit.compat.zaqarclient.transport.http import HttpTransport

CONF = {"auth_opts": {"backend": "noauth", "options": {"os_project_id": "p", "insecure": True}}}


def test_message_from_pzc_arguments() -> None:
    cli = pzc_client.Client("http://127.0.0.1:8888", 2, CONF)
    queue = cli.queue("q", auto_create=False)
    href = "/v2/queues/q/messages/5a1b?claim_id=c-1"
    msg = message.Message(queue, 60, 3, {"a": 1}, href=href)
    assert (msg.id, msg.claim_id, msg.body) == ("5a1b", "c-1", {"a": 1})
    made = message.create_object(queue)({"ttl": 60, "age": 0, "body": 1, "id": "x"})
    assert made.id == "x"
    assert made.claim_id is None
    assert repr(made) == "<Message id:x ttl:60>"
    with pytest.raises(zaqarkit.ValidationError, match="id"):
        message.Message(queue, 60, 0, None)
    cli.close()


@pytest.mark.parametrize(
    ("status", "cls", "zk_cls"),
    [
        (400, transport_errors.MalformedRequest, zaqarkit.BadRequest),
        (401, transport_errors.UnauthorizedError, zaqarkit.Unauthorized),
        (403, transport_errors.ForbiddenError, zaqarkit.Forbidden),
        (409, transport_errors.ConflictError, zaqarkit.Conflict),
        (429, transport_errors.TooManyRequests, zaqarkit.TooManyRequests),
        (502, transport_errors.ServerError, zaqarkit.ServerError),
        (418, transport_errors.ClientError, zaqarkit.ClientError),
        (503, transport_errors.ServiceUnavailableError, zaqarkit.ServiceUnavailable),
    ],
)
def test_every_status_maps_to_both_names(status: int, cls: type, zk_cls: type) -> None:
    original = zaqarkit.error_for_status(status)(status, "T", "D", "op", request_id="r")
    original.retry_after = 2.0
    new = transport_errors.from_api_error(original)
    assert isinstance(new, cls)
    assert isinstance(new, zk_cls)
    assert isinstance(new, errors.ZaqarError)
    assert (new.code, new.status, new.request_id, new.retry_after) == (status, status, "r", 2.0)
    assert str(new) == f"Error response from Zaqar. Code: {status}. Title: T. Description: D."
    assert transport_errors.from_api_error(new) is new


def test_pzc_style_construction_of_errors() -> None:
    err = transport_errors.ResourceNotFound(text="gone")
    assert err.code == 404
    assert err.description == "gone"
    assert str(err) == "Error response from Zaqar. Code: 404. Text: gone."
    failure = errors.DriverLoadFailure("ws", RuntimeError("x"))
    assert "ws" in str(failure)


def test_http_transport_from_conf(zaqar_server: Any) -> None:
    conf = {"auth_opts": {"backend": "noauth", "options": {"os_project_id": "p"}}}
    with HttpTransport(conf) as transport:
        cli = pzc_client.Client(zaqar_server.url, 2, conf, transport=transport)
        assert cli.transport() is transport
        assert cli.ping() is True
        cli.close()
