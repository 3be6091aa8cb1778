"""Packing posts under the byte and count limits, in memory."""

from __future__ import annotations

import json

import pytest

from zaqarkit.core.api import ApiV2
from zaqarkit.core.producer import HTTP_OVERHEAD, Packer, http_size, packer_for, ws_size
from zaqarkit.core.validate import Limits
from zaqarkit.errors import ValidationError


def _messages(sizes: list[int]) -> list[dict[str, object]]:
    return [{"body": "x" * size, "ttl": 60} for size in sizes]


def test_http_size_matches_the_request_body_the_builder_sends() -> None:
    items = [*_messages([5, 100, 3]), {"body": {"é": [1, True, None]}, "ttl": 300}]
    body = ApiV2().message_post("q", items).request.body
    assert body is not None
    expected = HTTP_OVERHEAD + sum(http_size(i) for i in items) + len(items) - 1
    assert len(body) == expected


def test_ws_size_is_the_repr_zaqar_measures() -> None:
    items = _messages([5, 7])
    packer = packer_for(Limits(), websocket=True)
    assert packer.overhead + sum(ws_size(i) for i in items) + 2 * (len(items) - 1) == len(
        str(items)
    )
    assert ws_size(items[0]) > http_size(items[0])  # repr has spaces after ':' and ','


def test_batches_close_at_the_count_limit_in_order() -> None:
    packer = Packer(limit=10_000, max_count=10)
    batches = list(packer.pack(_messages([1] * 25)))
    assert [len(b) for b in batches] == [10, 10, 5]


def test_batches_close_before_the_byte_limit() -> None:
    one = http_size(_messages([100])[0])
    limit = HTTP_OVERHEAD + 3 * one + 2  # exactly three messages
    packer = Packer(limit=limit, max_count=10)
    batches = list(packer.pack(_messages([100] * 7)))
    assert [len(b) for b in batches] == [3, 3, 1]
    for batch in batches:
        assert len(json.dumps({"messages": batch}, separators=(",", ":"))) <= limit


def test_an_oversize_message_names_its_index_and_packs_nothing_of_it() -> None:
    packer = Packer(limit=200, max_count=10)
    with pytest.raises(ValidationError) as caught:
        list(packer.pack(_messages([10, 10, 500, 10])))
    assert caught.value.field == "messages[2]"
    assert "200" in caught.value.rule
    assert packer.pending() == 2  # the two before it, still unsent


def test_add_reports_the_batch_it_closed_with_input_positions() -> None:
    packer = Packer(limit=10_000, max_count=2)
    assert packer.add({"body": 1}, 0) is None
    closed = packer.add({"body": 2}, 1)
    assert closed is not None
    assert closed.indexes == [0, 1]
    assert packer.flush() is None
    packer.add({"body": 3}, 2)
    last = packer.flush()
    assert last is not None
    assert last.indexes == [2]


def test_max_count_must_be_positive() -> None:
    with pytest.raises(ValidationError) as caught:
        Packer(limit=100, max_count=0)
    assert caught.value.field == "max_count"
