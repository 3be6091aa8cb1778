"""Answers that must not pass as success, and the Timeout option's parsing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from zaqarkit import Client, ProtocolError, Timeout, ValidationError
from zaqarkit.core.api import ApiV2
from zaqarkit.core.api_v1 import ApiV1
from zaqarkit.core.wire import Response
from zaqarkit.transports import MockTransport


def _json(status: int, data: Any) -> Response:
    return Response(status, {"content-type": "application/json"}, json.dumps(data).encode())


@pytest.mark.parametrize(
    "answer",
    [
        _json(201, {"resources": []}),
        _json(201, {"resources": ["/v2/queues/q/messages/a"]}),  # one id for two messages
        _json(201, {}),
        Response(201),
        Response(201, {}, b"", {"message_ids": []}),  # a WebSocket reply
    ],
)
def test_post_without_its_ids_is_a_protocol_error(answer: Response) -> None:
    two = [{"body": 1}, {"body": 2}]
    for call in (ApiV2().message_post("q", two), ApiV2().topic_message_post("t", two)):
        with pytest.raises(ProtocolError):
            call.parse(answer)


def test_post_with_every_id_passes() -> None:
    answer = _json(
        201, {"partial": False, "resources": ["/v1/queues/q/messages/a", "/v1/queues/q/messages/b"]}
    )
    two = [{"body": 1, "ttl": 60}, {"body": 2, "ttl": 60}]
    assert ApiV1().message_post("q", two).parse(answer) == ("a", "b")


def test_facade_post_without_ids_raises() -> None:
    mock = MockTransport(lambda request: _json(201, {"resources": []}))
    with (
        Client("http://zaqar.test", project_id="p", transport=mock) as cli,
        pytest.raises(ProtocolError, match="0 ids for 1 posted"),
    ):
        cli.queue("q", auto_create=False).post({"body": 1})


def test_timeout_forms() -> None:
    assert Timeout(3) == Timeout(total=3, connect=3, read=3, write=3, pool=3)
    assert Timeout(None, read=1).as_dict() == {
        "connect": None,
        "read": 1.0,
        "write": None,
        "pool": None,
    }
    assert Timeout.of(Timeout(2, pool=1)).pool == 1.0
    for bad in (0, -1, float("nan"), float("inf"), "2", True):
        with pytest.raises(ValidationError, match="timeout"):
            Timeout(bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"timeout\.connect"):
        Timeout(2, connect=-1)


def test_clients_take_a_timeout_object() -> None:
    mock = MockTransport(lambda request: Response(204))
    with Client(
        "http://zaqar.test", project_id="p", transport=mock, timeout=Timeout(5, connect=1)
    ) as cli:
        assert cli.ping() is True
    with pytest.raises(ValidationError):
        Client("http://zaqar.test", project_id="p", transport=mock, timeout=-2)
