"""Typed message bodies in the core, in memory: codecs, the typed parsers'
fast and checked paths (HTTP bytes and WebSocket decoded objects), poison
messages of a claim, and models encoded as bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypedDict

import msgspec
import pydantic
import pytest

from zaqarkit.core import validate as v
from zaqarkit.core.api import ApiV2
from zaqarkit.core.bodies import codec_for, encode_body
from zaqarkit.core.parse import typed_claim, typed_message, typed_messages, typed_page
from zaqarkit.core.wire import Response
from zaqarkit.errors import BodyDecodeError, ValidationError


class Shipment(pydantic.BaseModel):
    parcel: Parcel


# Made before Parcel exists, as a module may do at import time.
SHIPMENT_CODEC = codec_for(Shipment)


class Parcel(pydantic.BaseModel):
    grams: int


class Order(msgspec.Struct):
    sku: str
    qty: int = 1


@dataclass
class Refund:
    order: str


class Ping(TypedDict):
    seq: int


class Invoice(pydantic.BaseModel):
    number: int


def _listing(*bodies: Any, claim: str | None = None) -> dict[str, Any]:
    query = f"?claim_id={claim}" if claim else ""
    return {
        "messages": [
            {
                "id": f"m{i}",
                "href": f"/v2/queues/q/messages/m{i}{query}",
                "ttl": 60,
                "age": 1,
                "body": body,
            }
            for i, body in enumerate(bodies)
        ]
    }


@pytest.mark.parametrize("wire", ["http", "websocket"])
@pytest.mark.parametrize(
    ("body_type", "body", "expected"),
    [
        (Order, {"sku": "A", "qty": 2}, Order("A", 2)),
        (Refund, {"order": "A"}, Refund("A")),
        (Ping, {"seq": 3}, {"seq": 3}),
        (Invoice, {"number": 4}, Invoice(number=4)),
        (dict[str, int], {"a": 1}, {"a": 1}),
        (str, "plain", "plain"),
    ],
)
def test_listing_decodes_each_body_type(
    wire: str, body_type: Any, body: Any, expected: Any
) -> None:
    data = _listing(body, body)
    response = (
        Response(200, body=json.dumps(data).encode())
        if wire == "http"
        else Response(200, data=data)
    )
    page = typed_page(ApiV2().message_list("q"), codec_for(body_type)).parse(response)
    assert [m.body for m in page.items] == [expected, expected]
    assert [m.id for m in page.items] == ["m0", "m1"]


@pytest.mark.parametrize("wire", ["http", "websocket"])
def test_an_undecodable_body_names_the_message_and_the_field(wire: str) -> None:
    data = _listing({"sku": "A"}, {"sku": "B", "qty": "x"})
    response = (
        Response(200, body=json.dumps(data).encode())
        if wire == "http"
        else Response(200, data=data)
    )
    with pytest.raises(BodyDecodeError) as caught:
        typed_page(ApiV2().message_list("q"), codec_for(Order)).parse(response)
    error = caught.value
    assert (error.message_id, error.path, error.field) == ("m1", ".qty", "messages[m1].body.qty")
    assert error.body == {"sku": "B", "qty": "x"}
    assert error.record is not None
    with pytest.raises(BodyDecodeError) as caught:
        typed_messages(ApiV2().message_pop("q", 2), codec_for(Invoice)).parse(response)
    assert (caught.value.message_id, caught.value.path) == ("m0", ".number")


def test_a_claim_keeps_its_poison_messages_apart() -> None:
    data = _listing({"sku": "A"}, {"sku": 7}, {"sku": "C"}, claim="c1")
    response = Response(201, {"location": "/v2/queues/q/claims/c1"}, body=json.dumps(data).encode())
    claim = typed_claim(ApiV2().claim_create("q", ttl=60, limit=3), codec_for(Order)).parse(
        response
    )
    assert claim.id == "c1"
    assert [m.body for m in claim.messages] == [Order("A"), Order("C")]
    assert [e.message_id for e in claim.rejected] == ["m1"]
    assert claim.rejected[0].claim_id == "c1"
    assert claim.rejected[0].record.body == {"sku": 7}
    nothing = typed_claim(ApiV2().claim_create("q"), codec_for(Order)).parse(Response(204))
    assert (nothing.id, nothing.messages, nothing.rejected) == (None, (), ())


def test_a_single_message_get_is_decoded() -> None:
    body = json.dumps(_listing({"order": "R"})["messages"][0]).encode()
    message = typed_message(ApiV2().message_get("q", "m0"), codec_for(Refund)).parse(
        Response(200, body=body)
    )
    assert message.body == Refund("R")


def test_a_pydantic_model_completed_after_its_codec_decodes_and_names_the_field() -> None:
    assert not Shipment.__pydantic_complete__  # Parcel was defined after the codec
    assert SHIPMENT_CODEC.decode({"parcel": {"grams": 5}}, "m1").parcel.grams == 5
    with pytest.raises(BodyDecodeError) as caught:
        SHIPMENT_CODEC.decode({"parcel": {"grams": "heavy"}}, "m2")
    assert str(caught.value).startswith("messages[m2].body.parcel.grams: ")


def test_a_pydantic_model_that_never_completes_is_a_body_type_error() -> None:
    class Orphan(pydantic.BaseModel):
        missing: Nowhere  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(ValidationError) as caught:
        codec_for(Orphan).decode({"missing": 1}, "m1")
    assert caught.value.field == "body_type"
    assert "Orphan is not usable" in str(caught.value)


def test_a_type_msgspec_cannot_decode_into_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        codec_for(object())
    assert caught.value.field == "body_type"


def test_models_are_posted_as_their_json_values() -> None:
    items = v.messages(
        [
            {"body": Order("A"), "ttl": 60},
            {"body": Refund("B")},
            {"body": Invoice(number=1), "ttl": 60},
            {"body": {"seq": 1}, "ttl": 60},
        ],
        v.DEFAULT_LIMITS,
    )
    assert [i["body"] for i in items] == [
        {"sku": "A", "qty": 1},
        {"order": "B"},
        {"number": 1},
        {"seq": 1},
    ]
    with pytest.raises(ValidationError) as caught:
        v.messages(
            [{"body": 1, "ttl": 60}, {"body": Refund(object()), "ttl": 60}],  # type: ignore[arg-type]
            v.DEFAULT_LIMITS,
        )
    assert caught.value.field == "messages[1].body"
    assert encode_body([1, "x"], "f") == [1, "x"]
