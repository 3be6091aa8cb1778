"""Every validation rule fails before anything is sent, with a message that says why."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from zaqarkit.core import DEFAULT_LIMITS, ApiV2, Limits
from zaqarkit.core import validate as v
from zaqarkit.errors import ValidationError, ZaqarError

API = ApiV2()
UUID = "0b3d2f1c-8a7e-4b5c-9d6e-0f1a2b3c4d5e"
POST_OVERHEAD = len(b'{"messages":[{"body":""}]}')
MAX_POST = 262_144


def _message(fn: Callable[[], object]) -> str:
    with pytest.raises(ValidationError) as info:
        fn()
    error = info.value
    assert isinstance(error, ValueError)
    assert isinstance(error, ZaqarError)
    assert str(error) == f"{error.field}: {error.rule}"
    return str(error)


# -- names ----------------------------------------------------------------------

NAME_RULE = r"must match ^[a-zA-Z0-9_\-.]+$ (letters, digits, '_', '-', '.')"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (7, "queue name: must be a string, got int"),
        (None, "queue name: must be a string, got NoneType"),
        ("", "queue name: must not be empty"),
        ("q" * 65, "queue name: must be at most 64 characters, got 65"),
        ("bad name", f"queue name: {NAME_RULE}, got 'bad name'"),
        ("a/b", f"queue name: {NAME_RULE}, got 'a/b'"),
        ("caf\u00e9", f"queue name: {NAME_RULE}, got 'caf\u00e9'"),
        ("q\n", f"queue name: {NAME_RULE}, got 'q\\n'"),
        ("q?x", f"queue name: {NAME_RULE}, got 'q?x'"),
    ],
)
def test_bad_queue_names(value: Any, message: str) -> None:
    assert _message(lambda: API.queue_create(value)) == message


@pytest.mark.parametrize("value", ["q" * 64, "a.b", "A-Z_0.9", ".", "-", "_"])
def test_good_names(value: str) -> None:
    assert API.queue_create(value).request.path == f"/v2/queues/{value}"
    assert v.name(value) == value


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: API.topic_create("a b"), f"topic name: {NAME_RULE}, got 'a b'"),
        (lambda: API.topic_get(""), "topic name: must not be empty"),
        (lambda: API.pool_get("p" * 65), "pool name: must be at most 64 characters, got 65"),
        (lambda: API.pool_delete("p p"), f"pool name: {NAME_RULE}, got 'p p'"),
        (lambda: API.flavor_get("f/1"), f"flavor name: {NAME_RULE}, got 'f/1'"),
        (lambda: API.flavor_delete(1), "flavor name: must be a string, got int"),
        (lambda: API.message_list("a b"), f"queue name: {NAME_RULE}, got 'a b'"),
        (lambda: API.subscription_list("a b"), f"queue name: {NAME_RULE}, got 'a b'"),
        (lambda: API.topic_subscription_list("a b"), f"topic name: {NAME_RULE}, got 'a b'"),
        (lambda: API.topic_message_post("a b", {"body": 1}), f"topic name: {NAME_RULE}, got 'a b'"),
    ],
)
def test_every_kind_of_name_is_checked(build: Callable[[], object], message: str) -> None:
    assert _message(build) == message


# -- message ttl and delay -------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"body": 1, "ttl": 59}, "messages[0].ttl: must be between 60 and 1209600, got 59"),
        (
            {"body": 1, "ttl": 1_209_601},
            "messages[0].ttl: must be between 60 and 1209600, got 1209601",
        ),
        ({"body": 1, "ttl": True}, "messages[0].ttl: must be an integer, got True"),
        ({"body": 1, "ttl": 60.0}, "messages[0].ttl: must be an integer, got 60.0"),
        ({"body": 1, "ttl": "60"}, "messages[0].ttl: must be an integer, got '60'"),
        ({"body": 1, "delay": -1}, "messages[0].delay: must be between 0 and 900, got -1"),
        ({"body": 1, "delay": 901}, "messages[0].delay: must be between 0 and 900, got 901"),
        ({"body": 1, "delay": False}, "messages[0].delay: must be an integer, got False"),
    ],
)
def test_message_ttl_and_delay_bounds(item: dict[str, Any], message: str) -> None:
    assert _message(lambda: API.message_post("q", item)) == message


@pytest.mark.parametrize(("ttl", "delay"), [(60, 0), (1_209_600, 900)])
def test_message_ttl_and_delay_edges_pass(ttl: int, delay: int) -> None:
    items = v.messages({"body": 1, "ttl": ttl, "delay": delay}, DEFAULT_LIMITS)
    assert items == [{"body": 1, "ttl": ttl, "delay": delay}]


def test_the_message_index_is_named() -> None:
    message = _message(lambda: API.message_post("q", [{"body": 1}, {"body": 2, "ttl": 1}]))
    assert message == "messages[1].ttl: must be between 60 and 1209600, got 1"


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ("text", "messages: must be a message dict or a list of them, got str"),
        (b"raw", "messages: must be a message dict or a list of them, got bytes"),
        (42, "messages: must be a message dict or a list of them, got int"),
        ({1, 2}, "messages: must be a message dict or a list of them, got set"),
        ([], "messages: must hold at least one message"),
        ([1], "messages[0]: must be a dict with a 'body', got 1"),
        ([{"ttl": 60}], "messages[0]: has no 'body'"),
        ([{"body": 1, "tll": 60, "x": 1}], "messages[0]: has unknown keys ['tll', 'x']"),
    ],
)
def test_message_shapes(messages: Any, message: str) -> None:
    assert _message(lambda: API.message_post("q", messages)) == message
    assert _message(lambda: API.topic_message_post("t", messages)) == message


# -- post body size ------------------------------------------------------------------


def test_post_body_of_exactly_256_kib_passes() -> None:
    body = "x" * (MAX_POST - POST_OVERHEAD)
    request = API.message_post("q", {"body": body}).request
    assert len(request.body or b"") == MAX_POST


def test_post_body_one_byte_over_256_kib_fails() -> None:
    body = "x" * (MAX_POST - POST_OVERHEAD + 1)
    message = _message(lambda: API.message_post("q", {"body": body}))
    assert message == (
        "messages: the request body is 262145 bytes; the limit is 262144 (max_messages_post_size)"
    )
    assert _message(lambda: API.topic_message_post("t", {"body": body})) == message


def test_post_size_counts_encoded_utf8_bytes() -> None:
    # two bytes per character: a body that is short in characters is still too big
    body = "\u00e9" * ((MAX_POST - POST_OVERHEAD) // 2 + 1)
    assert "the limit is 262144" in _message(lambda: API.message_post("q", {"body": body}))


# -- claims ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ttl": 59}, "ttl: must be between 60 and 43200, got 59"),
        ({"ttl": 43_201}, "ttl: must be between 60 and 43200, got 43201"),
        ({"grace": 59}, "grace: must be between 60 and 43200, got 59"),
        ({"grace": 43_201}, "grace: must be between 60 and 43200, got 43201"),
        ({"limit": 0}, "limit: must be between 1 and 20, got 0"),
        ({"limit": 21}, "limit: must be between 1 and 20, got 21"),
        ({"limit": True}, "limit: must be an integer, got True"),
        ({"ttl": "300"}, "ttl: must be an integer, got '300'"),
    ],
)
def test_claim_create_bounds(kwargs: dict[str, Any], message: str) -> None:
    assert _message(lambda: API.claim_create("q", **kwargs)) == message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ttl": 59}, "ttl: must be between 60 and 43200, got 59"),
        ({"grace": 43_201}, "grace: must be between 60 and 43200, got 43201"),
        ({}, "claim update: needs ttl, grace or both"),
    ],
)
def test_claim_update_bounds(kwargs: dict[str, Any], message: str) -> None:
    assert _message(lambda: API.claim_update("q", "c1", **kwargs)) == message


def test_claim_edges_pass() -> None:
    request = API.claim_create("q", ttl=43_200, grace=60, limit=20).request
    assert request.query == (("limit", "20"),)
    assert request.body == b'{"ttl":43200,"grace":60}'
    assert API.claim_create("q", ttl=60, grace=43_200, limit=1).request.query == (("limit", "1"),)


@pytest.mark.parametrize(
    ("count", "message"),
    [
        (0, "count: must be between 1 and 20, got 0"),
        (21, "count: must be between 1 and 20, got 21"),
        ("1", "count: must be an integer, got '1'"),
    ],
)
def test_pop_count_bounds(count: Any, message: str) -> None:
    assert _message(lambda: API.message_pop("q", count)) == message


# -- ids ---------------------------------------------------------------------------

ID_CHARS = "contains characters an id cannot have"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: API.message_get_many("q", []),
            "message_ids: must hold between 1 and 20 ids, got 0",
        ),
        (
            lambda: API.message_get_many("q", [f"m{i}" for i in range(21)]),
            "message_ids: must hold between 1 and 20 ids, got 21",
        ),
        (
            lambda: API.message_delete_many("q", [f"m{i}" for i in range(21)]),
            "message_ids: must hold between 1 and 20 ids, got 21",
        ),
        (
            lambda: API.message_delete_many("q", ["m"], claim_ids=[]),
            "claim_ids: must hold between 1 and 20 ids, got 0",
        ),
        (lambda: API.message_get_many("q", ["a,b"]), f"message_ids: {ID_CHARS}: 'a,b'"),
        (
            lambda: API.message_get_many("q", [""]),
            "message_ids: must be a non-empty string, got ''",
        ),
        (lambda: API.message_get("q", "a/b"), f"message_id: {ID_CHARS}: 'a/b'"),
        (lambda: API.message_get("q", "a?b"), f"message_id: {ID_CHARS}: 'a?b'"),
        (lambda: API.message_get("q", "a#b"), f"message_id: {ID_CHARS}: 'a#b'"),
        (lambda: API.message_get("q", "a b"), f"message_id: {ID_CHARS}: 'a b'"),
        (lambda: API.message_get("q", "a\nb"), f"message_id: {ID_CHARS}: 'a\\nb'"),
        (lambda: API.message_get("q", 5), "message_id: must be a non-empty string, got 5"),
        (lambda: API.message_delete("q", "m", claim_id="c/1"), f"claim_id: {ID_CHARS}: 'c/1'"),
        (lambda: API.message_delete("q", ""), "message_id: must be a non-empty string, got ''"),
        (lambda: API.claim_get("q", "c#"), f"claim_id: {ID_CHARS}: 'c#'"),
        (
            lambda: API.claim_update("q", None, ttl=60),
            "claim_id: must be a non-empty string, got None",
        ),
        (lambda: API.claim_delete("q", "c/"), f"claim_id: {ID_CHARS}: 'c/'"),
        (lambda: API.subscription_get("q", "s/x"), f"subscription_id: {ID_CHARS}: 's/x'"),
        (
            lambda: API.topic_subscription_delete("t", ""),
            "subscription_id: must be a non-empty string, got ''",
        ),
    ],
)
def test_ids(build: Callable[[], object], message: str) -> None:
    assert _message(build) == message


def _id_by_id(values: list[Any]) -> Any:
    try:
        checked = tuple(v.identifier(value, "ids") for value in values)
    except ValidationError as exc:
        return str(exc)
    return checked if 1 <= len(checked) <= DEFAULT_LIMITS.max_messages_per_page else "count"


@settings(max_examples=300)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("ab9-_/?#, ,\t\u00e9\x00"), max_size=4)
        | st.sampled_from([5, None, b"m1"]),
        max_size=22,
    )
)
@example(["m1", "m\u00e9"])
@example(["m1", "m\x00"])
@example(["m1", ""])
@example(["m1", "m,2"])
@example(["m1", "m 2"])
@example(["m1", b"m2"])
@example([f"m{i}" for i in range(21)])
def test_ids_check_all_at_once_what_identifier_checks_one_by_one(values: list[Any]) -> None:
    # ids() checks the joined text in one pass; a bad id still gets its own message.
    try:
        got: Any = v.ids(values, "ids", DEFAULT_LIMITS)
    except ValidationError as exc:
        got = "count" if "must hold between" in str(exc) else str(exc)
    assert got == _id_by_id(values)


def test_twenty_ids_pass() -> None:
    ids = [f"m{i}" for i in range(20)]
    assert API.message_get_many("q", ids).request.query == (("ids", ",".join(ids)),)


# -- page limits and query values ----------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: API.queue_list(limit=0), "limit: must be between 1 and 20, got 0"),
        (lambda: API.queue_list(limit=21), "limit: must be between 1 and 20, got 21"),
        (lambda: API.message_list("q", limit=21), "limit: must be between 1 and 20, got 21"),
        (lambda: API.subscription_list("q", limit=0), "limit: must be between 1 and 20, got 0"),
        (lambda: API.pool_list(limit=21), "limit: must be between 1 and 20, got 21"),
        (lambda: API.flavor_list(limit=False), "limit: must be an integer, got False"),
        (lambda: API.topic_list(limit=2.5), "limit: must be an integer, got 2.5"),
        (
            lambda: API.queue_list(marker="a\r\nX-Evil: 1"),
            "marker: must not contain CR or LF characters",
        ),
        (lambda: API.queue_list(name="a\n"), "name: must not contain CR or LF characters"),
        (lambda: API.queue_list(color="r\red"), "color: must not contain CR or LF characters"),
    ],
)
def test_page_limits_and_query_values(build: Callable[[], object], message: str) -> None:
    assert _message(build) == message


# -- client id, project id, header values ---------------------------------------------


@pytest.mark.parametrize("value", [UUID, UUID.replace("-", ""), UUID.upper(), f"{{{UUID}}}"])
def test_client_id_accepts_uuids(value: str) -> None:
    assert v.client_id(value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not-a-uuid", "client_id: must be a UUID, got 'not-a-uuid'"),
        ("", "client_id: must be a UUID, got ''"),
        (UUID[:-1], f"client_id: must be a UUID, got '{UUID[:-1]}'"),
        (42, "client_id: must be a UUID, got '42'"),
    ],
)
def test_client_id_must_be_a_uuid(value: Any, message: str) -> None:
    assert _message(lambda: v.client_id(value)) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "project_id: must not be empty"),
        ("p" * 257, "project_id: must be at most 256 characters, got 257"),
        ("p\r", "project_id: must not contain CR or LF characters"),
        ("p\nq", "project_id: must not contain CR or LF characters"),
    ],
)
def test_project_id(value: str, message: str) -> None:
    assert _message(lambda: v.project_id(value)) == message


def test_project_id_and_header_values_that_pass() -> None:
    assert v.project_id("p" * 256) == "p" * 256
    assert v.header_value("x-auth-token", 12) == "12"
    assert _message(lambda: v.header_value("X-Auth-Token", "t\n")) == (
        "X-Auth-Token: must not contain CR or LF characters"
    )


# -- queue metadata and patches ----------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: API.queue_create("q", [("a", 1)]), "metadata: must be a dict, got list"),
        (
            lambda: API.queue_create("q", {"k": "x" * 65_536}),
            "metadata: is 65544 bytes encoded; the limit is 65536",
        ),
        (lambda: API.topic_create("t", "meta"), "metadata: must be a dict, got str"),
        (
            lambda: API.queue_update("q", []),
            "operations: must hold at least one JSON-patch operation",
        ),
        (lambda: API.queue_update("q", ["add"]), "operations[0]: must be a dict, got 'add'"),
        (
            lambda: API.queue_update("q", [{"op": "move", "path": "/metadata/a"}]),
            "operations[0].op: must be one of add, replace, remove, got 'move'",
        ),
        (
            lambda: API.queue_update("q", [{"path": "/metadata/a"}]),
            "operations[0].op: must be one of add, replace, remove, got None",
        ),
        (
            lambda: API.queue_update("q", [{"op": "remove", "path": "/meta/a"}]),
            "operations[0].path: must look like '/metadata/<key>', got '/meta/a'",
        ),
        (
            lambda: API.queue_update("q", [{"op": "remove", "path": "/metadata/a/b"}]),
            "operations[0].path: must look like '/metadata/<key>', got '/metadata/a/b'",
        ),
        (
            lambda: API.queue_update("q", [{"op": "remove", "path": 3}]),
            "operations[0].path: must look like '/metadata/<key>', got 3",
        ),
        (
            lambda: API.topic_update(
                "t",
                [{"op": "remove", "path": "/metadata/a"}, {"op": "add", "path": "/metadata/b"}],
            ),
            "operations[1]: 'add' needs a 'value'",
        ),
        (
            lambda: API.queue_update("q", [{"op": "replace", "path": "/metadata/b"}]),
            "operations[0]: 'replace' needs a 'value'",
        ),
    ],
)
def test_metadata_and_patch_operations(build: Callable[[], object], message: str) -> None:
    assert _message(build) == message


def test_metadata_size_limit_edge_passes() -> None:
    metadata = {"k": "x" * (65_536 - len(b'{"k":""}'))}
    assert len(API.queue_create("q", metadata).request.body or b"") == 65_536


# -- purge, share, subscriptions, pools, flavors -------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: API.queue_purge("q", []), "resource_types: must not be empty"),
        (
            lambda: API.queue_purge("q", ["claims"]),
            "resource_types: must be one of messages, subscriptions, got 'claims'",
        ),
        (
            lambda: API.topic_purge("t", ["message"]),
            "resource_types: must be one of messages, subscriptions, got 'message'",
        ),
        (
            lambda: API.queue_share("q", paths=["queues"]),
            "paths: must be one of messages, subscriptions, claims, got 'queues'",
        ),
        (
            lambda: API.queue_share("q", methods=["TRACE"]),
            "methods: must be one of GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE, got 'TRACE'",
        ),
        (
            lambda: API.queue_share("q", expires="2030-01-01 00:00:00"),
            "expires: must be 'YYYY-MM-DDTHH:MM:SS' (UTC), got '2030-01-01 00:00:00'",
        ),
        (
            lambda: API.queue_share("q", expires=1893456000),
            "expires: must be a datetime or a string, got 1893456000",
        ),
        (
            lambda: API.queue_share("q", expires=dt.date(2030, 1, 1)),
            "expires: must be a datetime or a string, got datetime.date(2030, 1, 1)",
        ),
        (
            lambda: API.subscription_create("q", "ftp://h/x"),
            "subscriber: must be a URL with scheme http, https, mailto, trust+http or "
            "trust+https, got 'ftp://h/x'",
        ),
        (
            lambda: API.subscription_create("q", None),  # type: ignore[arg-type]
            "subscriber: must be a URL with scheme http, https, mailto, trust+http or "
            "trust+https, got None",
        ),
        (
            lambda: API.subscription_create("q", "http://h", ttl=59),
            "ttl: must be at least 60, got 59",
        ),
        (
            lambda: API.topic_subscription_create("t", "http://h", ttl=True),
            "ttl: must be an integer, got True",
        ),
        (
            lambda: API.subscription_create("q", "http://h", options=[1]),
            "options: must be a dict, got list",
        ),
        (
            lambda: API.subscription_update("q", "s"),
            "subscription update: needs subscriber, ttl or options",
        ),
        (
            lambda: API.topic_subscription_update("t", "s"),
            "subscription update: needs subscriber, ttl or options",
        ),
        (
            lambda: API.subscription_update("q", "s", subscriber="ws://h"),
            "subscriber: must be a URL with scheme http, https, mailto, trust+http or "
            "trust+https, got 'ws://h'",
        ),
        (
            lambda: API.subscription_confirm("q", "s", "yes"),  # type: ignore[arg-type]
            "confirmed: must be a bool, got 'yes'",
        ),
        (
            lambda: API.pool_create("p", "", 1),
            "uri: must be a string of 1 to 255 characters, got ''",
        ),
        (
            lambda: API.pool_create("p", "u" * 256, 1),
            f"uri: must be a string of 1 to 255 characters, got '{'u' * 256}'",
        ),
        (lambda: API.pool_create("p", 5, 1), "uri: must be a string of 1 to 255 characters, got 5"),
        (lambda: API.pool_create("p", None, 1), "pool: needs a uri and a weight"),  # type: ignore[arg-type]
        (lambda: API.pool_create("p", "redis://r", None), "pool: needs a uri and a weight"),  # type: ignore[arg-type]
        (
            lambda: API.pool_create("p", "redis://r", -1),
            "weight: must be between 0 and 4294967295, got -1",
        ),
        (
            lambda: API.pool_update("p", weight=2**32),
            "weight: must be between 0 and 4294967295, got 4294967296",
        ),
        (lambda: API.pool_update("p", flavor="a b"), f"flavor name: {NAME_RULE}, got 'a b'"),
        (lambda: API.pool_update("p", options="x"), "options: must be a dict, got str"),
        (lambda: API.pool_update("p"), "pool update: needs uri, weight, flavor or options"),
        (
            lambda: API.flavor_create("f", "pool1"),
            "pool_list: must be a list of pool names, got 'pool1'",
        ),
        (lambda: API.flavor_create("f", []), "pool_list: must hold at least one pool name"),
        (lambda: API.flavor_update("f", ["ok", "not ok"]), f"pool name: {NAME_RULE}, got 'not ok'"),
    ],
)
def test_other_builder_rules(build: Callable[[], object], message: str) -> None:
    assert _message(build) == message


def test_share_upper_cases_methods_and_accepts_every_path() -> None:
    body = API.queue_share(
        "q", paths=["messages", "subscriptions", "claims"], methods=["get", "head", "delete"]
    ).request.body
    assert body == (
        b'{"paths":["messages","subscriptions","claims"],"methods":["GET","HEAD","DELETE"]}'
    )


def test_subscription_ttl_has_no_upper_bound() -> None:
    assert API.subscription_create("q", "http://h", ttl=10**9).request.body == (
        b'{"subscriber":"http://h","ttl":1000000000}'
    )


# -- Limits overrides --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "build", "message"),
    [
        (
            Limits(max_message_ttl=3600),
            lambda a: a.message_post("q", {"body": 1, "ttl": 3601}),
            "messages[0].ttl: must be between 60 and 3600, got 3601",
        ),
        (
            Limits(max_message_delay=10),
            lambda a: a.message_post("q", {"body": 1, "delay": 11}),
            "messages[0].delay: must be between 0 and 10, got 11",
        ),
        (
            Limits(max_claim_ttl=120),
            lambda a: a.claim_create("q", ttl=121),
            "ttl: must be between 60 and 120, got 121",
        ),
        (
            Limits(max_claim_grace=61),
            lambda a: a.claim_update("q", "c", grace=62),
            "grace: must be between 60 and 61, got 62",
        ),
        (
            Limits(max_messages_per_claim_or_pop=5),
            lambda a: a.message_pop("q", 6),
            "count: must be between 1 and 5, got 6",
        ),
        (
            Limits(max_messages_per_claim_or_pop=5),
            lambda a: a.claim_create("q", limit=6),
            "limit: must be between 1 and 5, got 6",
        ),
        (
            Limits(max_messages_per_page=2),
            lambda a: a.message_delete_many("q", ["a", "b", "c"]),
            "message_ids: must hold between 1 and 2 ids, got 3",
        ),
        (
            Limits(max_per_page=5),
            lambda a: a.queue_list(limit=6),
            "limit: must be between 1 and 5, got 6",
        ),
        (
            Limits(max_messages_post_size=30),
            lambda a: a.message_post("q", {"body": "12345"}),
            "messages: the request body is 31 bytes; the limit is 30 (max_messages_post_size)",
        ),
        (
            Limits(max_queue_metadata=8),
            lambda a: a.queue_create("q", {"k": "vv"}),
            "metadata: is 10 bytes encoded; the limit is 8",
        ),
    ],
)
def test_limits_overrides_lower_the_bounds(
    limits: Limits, build: Callable[[ApiV2], object], message: str
) -> None:
    assert _message(lambda: build(ApiV2(limits))) == message


@pytest.mark.parametrize(
    "build",
    [
        lambda a: a.message_post("q", {"body": 1, "ttl": 2_000_000, "delay": 1000}),
        lambda a: a.claim_create("q", ttl=50_000, grace=50_000, limit=50),
        lambda a: a.message_pop("q", 50),
        lambda a: a.message_get_many("q", [f"m{i}" for i in range(50)]),
        lambda a: a.queue_list(limit=50),
        lambda a: a.message_post("q", {"body": "x" * 300_000}),
    ],
)
def test_limits_overrides_raise_the_bounds(build: Callable[[ApiV2], object]) -> None:
    generous = Limits(
        max_message_ttl=3_000_000,
        max_message_delay=1000,
        max_claim_ttl=50_000,
        max_claim_grace=50_000,
        max_messages_per_claim_or_pop=50,
        max_messages_per_page=50,
        max_messages_post_size=1_000_000,
        max_per_page=50,
    )
    with pytest.raises(ValidationError):
        build(ApiV2())
    assert build(ApiV2(generous)) is not None


def test_default_limits_match_zaqars_shipped_configuration() -> None:
    shipped = Limits(
        max_message_ttl=1_209_600,
        max_message_delay=900,
        max_claim_ttl=43_200,
        max_claim_grace=43_200,
        max_messages_per_claim_or_pop=20,
        max_messages_per_page=20,
        max_messages_post_size=262_144,
        max_queue_metadata=65_536,
        max_per_page=20,
    )
    assert shipped == DEFAULT_LIMITS
    assert API.limits is DEFAULT_LIMITS


# -- direct checks of the helpers the builders share ------------------------------------


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (lambda: v.message_ttl(59, DEFAULT_LIMITS), "ttl: must be between 60 and 1209600, got 59"),
        (lambda: v.message_delay(901, DEFAULT_LIMITS), "delay: must be between 0 and 900, got 901"),
        (
            lambda: v.claim_ttl(43_201, DEFAULT_LIMITS),
            "ttl: must be between 60 and 43200, got 43201",
        ),
        (lambda: v.claim_grace(59, DEFAULT_LIMITS), "grace: must be between 60 and 43200, got 59"),
        (lambda: v.claim_limit(21, DEFAULT_LIMITS), "limit: must be between 1 and 20, got 21"),
        (lambda: v.page_limit(0, DEFAULT_LIMITS), "limit: must be between 1 and 20, got 0"),
        (lambda: v.subscription_ttl(0), "ttl: must be at least 60, got 0"),
        (lambda: v.integer(None, "n", 0, None), "n: must be an integer, got None"),
        (lambda: v.choice("c", "f", ["a", "b"]), "f: must be one of a, b, got 'c'"),
        (
            lambda: v.ids(iter([]), "ids", DEFAULT_LIMITS),
            "ids: must hold between 1 and 20 ids, got 0",
        ),
        (
            lambda: v.body_size(b"x" * 262_145, DEFAULT_LIMITS),
            "messages: the request body is 262145 bytes; the limit is 262144 "
            "(max_messages_post_size)",
        ),
    ],
)
def test_validate_helpers(check: Callable[[], object], message: str) -> None:
    assert _message(check) == message


def test_validate_helpers_return_their_input() -> None:
    assert v.message_delay(0, DEFAULT_LIMITS) == 0
    assert v.claim_grace(43_200, DEFAULT_LIMITS) == 43_200
    assert v.subscription_ttl(60) == 60
    assert v.body_size(b"x" * 262_144, DEFAULT_LIMITS) == b"x" * 262_144
    assert v.choice("a", "f", iter(["a"])) == "a"
    assert v.ids(("a", "b"), "ids", DEFAULT_LIMITS) == ("a", "b")
    assert v.identifier("6a1f-e", "id") == "6a1f-e"
    # Zaqar's ids are ASCII (hex, ObjectIds, integers): a non-ASCII one is a typo,
    # and would not fit in the HTTP request line.
    with pytest.raises(ValidationError, match="characters an id cannot have"):
        v.identifier("6a1f-\u00e9", "id")


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300)
@given(_JSON_VALUES, st.sampled_from([{1, 2}, float("nan"), b"x", "\ud800"]))
def test_encode_body_is_json_dumps_also_after_a_refused_body(value: Any, bad: Any) -> None:
    """The one reused C encoder writes what json.dumps writes, and a body it
    refused (mid-way through a container) leaves nothing behind for the next."""
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    assert v.encode_body(value) == expected
    with pytest.raises(ValidationError):
        v.encode_body({"messages": [value, {"body": [bad]}]})
    assert v.encode_body({"messages": [value]}) == b'{"messages":[' + expected + b"]}"
