"""kombu's transport contract on zaqarkit.kombu against the harness's Zaqar, over
HTTP and WebSocket: publish, get, ack, reject, purge, queue size, consume;
the URL forms, options, name mapping, errors and refusals."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

kombu = pytest.importorskip("kombu")

import zaqarkit.kombu  # noqa: E402
from zaqarkit import Client  # noqa: E402
from zaqarkit.errors import ConnectError, NotFound  # noqa: E402
from zaqarkit.kombu import UnsupportedFeature, zaqar_queue_name  # noqa: E402

from .conftest import wait_for  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["http", "ws"])
def url(request: pytest.FixtureRequest, zaqar_server: Any) -> str:
    if request.param == "ws":
        return "zaqar+" + str(zaqar_server.ws_url)
    return str(zaqar_server.url).replace("http://", "zaqar://")


@pytest.fixture
def conn(url: str, project_id: str) -> Iterator[Any]:
    with kombu.Connection(url, transport_options={"project_id": project_id}) as connection:
        yield connection


@pytest.fixture
def zaqar(zaqar_server: Any, project_id: str) -> Iterator[Client]:
    with Client(zaqar_server.url, project_id=project_id) as client:
        yield client


def _name() -> str:
    return f"jobs.{uuid.uuid4().hex[:8]}"


def test_publish_get_ack(conn: Any, zaqar: Client) -> None:
    name = _name()
    queue = conn.SimpleQueue(name)
    queue.put({"n": 1})
    queue.put({"n": 2})
    assert queue.qsize() == 2
    # Stored as one Zaqar message per kombu message, in the mapped queue.
    bodies = [m.body for m in zaqar.queue(zaqar_queue_name(name)).messages(echo=True)]
    assert [b["content-type"] for b in bodies] == ["application/json"] * 2

    first = queue.get(timeout=10)
    assert first.payload == {"n": 1}
    first.ack()
    second = queue.get(timeout=10)
    assert second.payload == {"n": 2}
    second.ack()
    queue.close()
    # Acknowledged means deleted on the server (batched by the consumer's
    # acker thread, within milliseconds).
    wait_for(lambda: zaqar.queue(zaqar_queue_name(name)).stats().total == 0, 30, "the deletes")


def test_reject_requeue_and_drop(conn: Any, zaqar: Client) -> None:
    queue = conn.SimpleQueue(_name())
    queue.put({"n": 1})
    message = queue.get(timeout=10)
    message.requeue()  # basic_reject(requeue=True): the claim is released
    again = queue.get(timeout=10)
    assert again.payload == {"n": 1}
    again.reject()  # requeue=False: deleted
    with pytest.raises(queue.Empty):
        queue.get(timeout=1)
    queue.close()


def test_size_counts_ready_messages_and_purge(conn: Any) -> None:
    name = _name()
    channel = conn.channel()
    queue = kombu.Queue(name, kombu.Exchange(name), routing_key=name)(channel)
    queue.declare()
    producer = kombu.Producer(channel)
    for n in range(5):
        producer.publish({"n": n}, exchange=queue.exchange, routing_key=name)
    assert queue.queue_declare(passive=True).message_count == 5
    held = queue.get()  # basic_get claims exactly one: not ready any more
    assert held is not None
    assert queue.queue_declare(passive=True).message_count == 4
    assert queue.purge() == 4  # how many ready messages it removed
    assert queue.queue_declare(passive=True).message_count == 0
    held.ack()
    channel.close()


def test_basic_get_without_consumer(conn: Any) -> None:
    name = _name()
    channel = conn.channel()
    exchange = kombu.Exchange(name, type="direct")
    bound = kombu.Queue(name, exchange, routing_key=name)(channel)
    bound.declare()
    kombu.Producer(channel).publish({"x": 1}, exchange=exchange, routing_key=name, declare=[bound])
    message = bound.get()
    assert message is not None
    assert message.payload == {"x": 1}
    message.ack()
    assert bound.get() is None
    channel.close()


def test_consumer_drain_events(conn: Any) -> None:
    name = _name()
    queue = kombu.Queue(name, kombu.Exchange(name), routing_key=name)
    received: list[Any] = []

    def on_message(body: Any, message: Any) -> None:
        received.append(body)
        message.ack()

    with kombu.Producer(conn) as producer:
        for n in range(3):
            producer.publish({"n": n}, exchange=queue.exchange, routing_key=name, declare=[queue])
    with kombu.Consumer(conn, [queue], callbacks=[on_message], prefetch_count=2):
        deadline = 30
        while len(received) < 3 and deadline > 0:
            try:
                conn.drain_events(timeout=1)
            except TimeoutError:
                deadline -= 1
    assert sorted(b["n"] for b in received) == [0, 1, 2]


def test_consume_again_after_cancel(conn: Any) -> None:
    name = _name()
    queue = kombu.Queue(name, kombu.Exchange(name), routing_key=name)
    received: list[Any] = []

    def on_message(body: Any, message: Any) -> None:
        received.append(body)
        message.ack()

    channel = conn.channel()
    with kombu.Producer(channel) as producer:
        for round_ in range(2):
            consumer = kombu.Consumer(channel, [queue], callbacks=[on_message])
            consumer.consume()
            producer.publish(
                {"round": round_}, exchange=queue.exchange, routing_key=name, declare=[queue]
            )
            attempts = 30
            while len(received) <= round_ and attempts:
                with contextlib.suppress(TimeoutError):
                    conn.drain_events(timeout=1)
                attempts -= 1
            # Read by a running consumer runtime (claims renewed), not one-off gets.
            assert not channel._runtimes[name].stopping
            consumer.cancel()  # Celery cancels and consumes again, e.g. after -Q changes
    assert received == [{"round": 0}, {"round": 1}]
    channel.close()


def test_consume_empty_queue_times_out(conn: Any) -> None:
    name = _name()
    queue = kombu.Queue(name, kombu.Exchange(name), routing_key=name)
    with kombu.Consumer(conn, [queue], callbacks=[lambda body, message: None]):
        started = time.monotonic()
        with pytest.raises(TimeoutError):  # socket.timeout, as every kombu transport
            conn.drain_events(timeout=0.5)
        assert time.monotonic() - started >= 0.5


def test_unacknowledged_message_returns_when_the_channel_closes(url: str, project_id: str) -> None:
    name = _name()
    options = {"project_id": project_id}
    with kombu.Connection(url, transport_options=options) as first:
        queue = first.SimpleQueue(name)
        queue.put({"n": 7})
        assert queue.get(timeout=10).payload == {"n": 7}  # never acknowledged
        queue.close()
    with kombu.Connection(url, transport_options=options) as second:
        queue = second.SimpleQueue(name)
        message = queue.get(timeout=10)  # released at close: no 60 s wait
        assert message.payload == {"n": 7}
        message.ack()
        queue.close()


def test_expiration_sets_the_zaqar_ttl(conn: Any, zaqar: Client) -> None:
    name = _name()
    queue = conn.SimpleQueue(name)
    queue.put({"n": 1}, expiration=120)
    queue.put({"n": 2})
    ttls = sorted(m.ttl for m in zaqar.queue(zaqar_queue_name(name)).messages(echo=True))
    assert ttls == [120, 1_209_600]  # the default: the server's maximum
    queue.clear()
    queue.close()


def test_message_from_another_zaqar_client(conn: Any, zaqar: Client) -> None:
    name = _name()
    zaqar.queue(zaqar_queue_name(name)).post({"body": {"order": 5}, "ttl": 300})
    queue = conn.SimpleQueue(name)
    message = queue.get(timeout=10)
    assert message.payload == {"order": 5}
    assert message.content_type == "application/json"
    message.ack()
    queue.close()


def test_queue_prefix_and_options_reach_the_client(zaqar_server: Any, zaqar: Client) -> None:
    url = str(zaqar_server.url).replace("http://", "zaqar://")
    options = {
        "project_id": zaqar.project_id,
        "queue_name_prefix": "prod-",
        "claim_ttl": 120,
        "timeout": 10.0,
    }
    with kombu.Connection(url, transport_options=options) as conn:
        queue = conn.SimpleQueue("celery.pidbox")
        queue.put({"n": 1})
        assert zaqar.queue("prod-celery-pidbox").stats().free == 1
        message = queue.get(timeout=10)
        # The claim ttl option is the claim's.
        claim_id = conn.default_channel._deliveries[message.delivery_tag].claim_id
        assert zaqar.queue("prod-celery-pidbox").claim(id=claim_id).ttl == 120
        message.ack()
        queue.close()


def test_fanout_and_priorities_are_refused(conn: Any) -> None:
    channel = conn.channel()
    with pytest.raises(UnsupportedFeature, match="fanout"):
        channel.exchange_declare("broadcast", type="fanout")
    with pytest.raises(UnsupportedFeature, match="priorities"):
        channel.queue_declare("urgent", arguments={"x-max-priority": 10})
    assert not conn.supports_exchange_type("fanout")  # Celery turns remote control off
    assert conn.supports_exchange_type("direct")
    channel.close()


def test_connection_errors_are_kombus() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conn = kombu.Connection(f"zaqar://127.0.0.1:{port}", transport_options={"project_id": "p"})
    assert any(issubclass(ConnectError, error) for error in conn.connection_errors)
    assert any(issubclass(NotFound, error) for error in conn.channel_errors)
    assert not any(issubclass(NotFound, error) for error in conn.recoverable_connection_errors)
    # kombu wraps a transport's connection errors in OperationalError.
    with pytest.raises(kombu.exceptions.OperationalError):
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
    conn.release()


def test_queue_names() -> None:
    assert zaqar_queue_name("celery") == "celery"
    assert zaqar_queue_name("celery.pidbox") == "celery-pidbox"
    assert zaqar_queue_name("a@b:c d") == "a_b_c_d"
    long = zaqar_queue_name("q" * 80)
    assert len(long) == 64
    assert long != zaqar_queue_name("q" * 81)


def test_url_forms() -> None:
    zaqarkit.kombu.register()
    assert kombu.Connection("zaqar://10.0.0.1:8888").transport.zaqar_url() == (
        "http://10.0.0.1:8888"
    )
    assert kombu.Connection("zaqar://10.0.0.1").transport.zaqar_url() == "http://10.0.0.1:8888"
    assert kombu.Connection("zaqar://10.0.0.1:8888/messaging").transport.zaqar_url() == (
        "http://10.0.0.1:8888/messaging"
    )
    assert kombu.Connection("zaqar+ws://10.0.0.1:9000").transport.zaqar_url() == (
        "ws://10.0.0.1:9000"
    )
    by_class = kombu.Connection(
        hostname="10.0.0.2", port=8899, transport="zaqarkit.kombu:Transport"
    )
    assert by_class.transport.zaqar_url() == "http://10.0.0.2:8899"
    tls = kombu.Connection("zaqar://10.0.0.3", ssl=True)
    assert tls.transport.zaqar_url() == "https://10.0.0.3:8888"


def test_import_without_kombu_is_one_line_hint(tmp_path: Path) -> None:
    # A kombu that cannot be imported, ahead of the real one on the path.
    (tmp_path / "kombu.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'kombu'\", name='kombu')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-c", "import zaqarkit.kombu"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == ("ImportError: zaqarkit.kombu needs kombu: pip install 'zaqarkit[celery]'")
    # No chained "No module named 'kombu'" traceback before it.
    assert "No module named" not in result.stderr
    assert "During handling" not in result.stderr


def test_conf_option_reaches_the_client(zaqar_server: Any, zaqar: Client) -> None:
    # python-zaqarclient's conf dict, as Client takes it: the project comes from it.
    conf = {"auth_opts": {"backend": "noauth", "options": {"os_project_id": zaqar.project_id}}}
    url = str(zaqar_server.url).replace("http://", "zaqar://")
    with kombu.Connection(url, transport_options={"conf": conf}) as conn:
        queue = conn.SimpleQueue("from-conf")
        queue.put({"n": 1})
        assert zaqar.queue("from-conf").stats().free == 1
        queue.close()


def test_transport_options_are_split_and_checked(caplog: pytest.LogCaptureFixture) -> None:
    from zaqarkit.kombu import _split_options

    own, client = _split_options(
        {
            "visibility_timeout": 300,
            "project_id": "p",
            "roles": ["a"],
            "polling_interval": 0.2,
            "claim_batch": 5,
            "colour": "red",
        }
    )
    # Celery's name for the claim ttl on Redis and SQS is accepted.
    assert (own["claim_ttl"], own["claim_batch"]) == (300, 5)
    assert client == {"project_id": "p", "roles": ["a"]}
    assert "unknown broker_transport_options key 'colour'" in caplog.text
    with pytest.raises(ValueError, match="claim_ttl must be at least 60"):
        _split_options({"claim_ttl": 30})


def test_keystone_auth_and_catalog_endpoint(
    zaqar_keystone_server: Any, keystone_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keystone through the Client's own options: the OS_* variables and the
    service catalog (``endpoint: "catalog"``) instead of a URL."""
    for key, value in keystone_server.demo.environ().items():
        monkeypatch.setenv(key, value)
    options = {"conf": {"auth_opts": {"backend": "keystone"}}, "endpoint": "catalog"}
    with kombu.Connection("zaqar://", transport_options=options) as conn:
        assert conn.transport.zaqar_client().api_url == zaqar_keystone_server.url
        queue = conn.SimpleQueue("keystone-jobs")
        queue.put({"n": 1})
        message = queue.get(timeout=10)
        assert message.payload == {"n": 1}
        message.ack()
        queue.close()
    # Without credentials the server refuses: a channel error, not retried.
    monkeypatch.delenv("OS_PASSWORD")
    monkeypatch.delenv("OS_AUTH_URL")
    with kombu.Connection(
        zaqar_keystone_server.url.replace("http://", "zaqar://"),
        transport_options={"project_id": "p"},
    ) as conn:
        with pytest.raises(tuple(conn.channel_errors)) as refused:
            conn.SimpleQueue("keystone-jobs").put({"n": 2})
        assert refused.value.status == 401


def test_size_without_stats_counts_the_listing(conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Zaqar 23's redis store answers 503 to stats while an expired claim
    # lingers; the size then comes from the listing of unclaimed messages.
    from zaqarkit.errors import ServiceUnavailable

    name = _name()
    queue = conn.SimpleQueue(name)
    for n in range(3):
        queue.put({"n": n})
    handle = conn.default_channel.zaqar_queue(name)

    def unavailable() -> Any:
        raise ServiceUnavailable(503, "Service Unavailable", "Please try again in a few seconds.")

    monkeypatch.setattr(handle, "stats", unavailable)
    assert queue.qsize() == 3
    queue.clear()
    queue.close()
