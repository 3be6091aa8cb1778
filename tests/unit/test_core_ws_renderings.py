"""Both renderings of one operation carry the same parameters.

Every builder validates its arguments once into canonical ``params``; the
WebSocket frame body is those params and ``core.render.http_request``
derives the HTTP path, query and body from them by the route table. This
decodes the HTTP request independently of that renderer, for every operation
that both transports serve, and checks that what it says (path parameters,
query, JSON body) equals what the frame says, value for value, with the
frame's values typed (no integer or flag travels as text).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

import pytest

from zaqarkit.core.api import ApiV2
from zaqarkit.core.operations import ApiVersion, Operation, route_for, ws_action
from zaqarkit.core.wire import Call
from zaqarkit.core.ws import frame_body
from zaqarkit.errors import UnsupportedOperation

api = ApiV2()
MID = "0123456789abcdef01234567"
CID = "76543210fedcba9876543210"
SID = "5f1d9a2c3b4e5f60718293a4"

#: One call per operation, with every parameter the builder takes set.
SAMPLES: dict[Operation, Call[Any]] = {
    Operation.QUEUE_LIST: api.queue_list(limit=5, marker="m", detailed=True, with_count=True),
    Operation.QUEUE_CREATE: api.queue_create("q", {"color": "red", "_default_message_ttl": 60}),
    Operation.QUEUE_GET: api.queue_get("q"),
    Operation.QUEUE_DELETE: api.queue_delete("q"),
    Operation.QUEUE_GET_STATS: api.queue_stats("q"),
    Operation.QUEUE_PURGE: api.queue_purge("q", ["messages"]),
    Operation.MESSAGE_LIST: api.message_list(
        "q", limit=3, marker="5", echo=True, include_claimed=False, include_delayed=True
    ),
    Operation.MESSAGE_POST: api.message_post("q", [{"body": {"a": 1}, "ttl": 60, "delay": 2}]),
    Operation.MESSAGE_GET: api.message_get("q", MID),
    Operation.MESSAGE_GET_MANY: api.message_get_many("q", [MID, CID]),
    Operation.MESSAGE_DELETE: api.message_delete("q", MID, claim_id=CID),
    Operation.MESSAGE_DELETE_MANY: api.message_delete_many("q", [MID, CID]),
    Operation.MESSAGE_POP: api.message_pop("q", 3),
    Operation.CLAIM_CREATE: api.claim_create("q", ttl=60, grace=60, limit=4),
    Operation.CLAIM_GET: api.claim_get("q", CID),
    Operation.CLAIM_UPDATE: api.claim_update("q", CID, ttl=90, grace=120),
    Operation.CLAIM_DELETE: api.claim_delete("q", CID),
    Operation.SUBSCRIPTION_LIST: api.subscription_list("q", limit=2, marker=SID),
    Operation.SUBSCRIPTION_CREATE: api.subscription_create(
        "q", "http://h/hook", ttl=3600, options={"k": "v"}
    ),
    Operation.SUBSCRIPTION_GET: api.subscription_get("q", SID),
    Operation.SUBSCRIPTION_DELETE: api.subscription_delete("q", SID),
}

#: Where a frame names a value differently from HTTP.
HTTP_TO_FRAME = {"ids": "message_ids"}
#: Operations whose whole HTTP body is one frame parameter.
BODY_AS = {Operation.QUEUE_CREATE: "metadata"}


def ws_served() -> list[Operation]:
    served = []
    for op in Operation:
        try:
            ws_action(op)
        except UnsupportedOperation:
            continue
        served.append(op)
    return served


def test_every_operation_served_over_both_transports_has_a_sample() -> None:
    assert sorted(op.value for op in ws_served()) == sorted(op.value for op in SAMPLES)


def http_parameters(op: Operation, call: Call[Any]) -> tuple[dict[str, Any], set[str]]:
    """What the HTTP request carries, and which of it travels as text."""
    request = call.request
    template = "/v2" + route_for(ApiVersion.V2, op).template
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
    match = re.fullmatch(pattern, request.path)
    assert match is not None, (request.path, template)
    params: dict[str, Any] = {k: unquote(v) for k, v in match.groupdict().items()}
    for key, value in request.query:
        params[HTTP_TO_FRAME.get(key, key)] = value
    textual = set(params)
    if request.body:
        body = json.loads(request.body)
        if op in BODY_AS:
            params[BODY_AS[op]] = body
        else:
            assert isinstance(body, dict), body
            params.update(body)
    return params, textual


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


@pytest.mark.parametrize("op", sorted(SAMPLES, key=lambda op: op.value), ids=lambda op: op.value)
def test_http_and_websocket_renderings_carry_the_same_parameters(op: Operation) -> None:
    call = SAMPLES[op]
    assert call.request.operation is op
    http, textual = http_parameters(op, call)
    frame = frame_body(call.request)
    assert set(frame) == set(http), (sorted(frame), sorted(http))
    for key, value in frame.items():
        expected = http[key]
        assert (as_text(value) if key in textual else value) == expected, key


def test_frame_values_keep_their_types() -> None:
    listing = frame_body(SAMPLES[Operation.MESSAGE_LIST].request)
    assert (type(listing["limit"]), listing["echo"], listing["include_claimed"]) == (
        int,
        True,
        False,
    )
    assert frame_body(SAMPLES[Operation.MESSAGE_POP].request)["pop"] == 3
    assert frame_body(SAMPLES[Operation.MESSAGE_GET_MANY].request)["message_ids"] == [MID, CID]
    queues = frame_body(SAMPLES[Operation.QUEUE_LIST].request)
    assert (queues["limit"], queues["detailed"], queues["with_count"]) == (5, True, True)
