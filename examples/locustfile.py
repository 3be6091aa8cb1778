"""Load-test a Zaqar deployment with Locust through zaqarkit (zaqar-bench's roles).

Needs ``pip install 'zaqarkit[bench]'``. On one machine::

    locust -f examples/locustfile.py --headless -u 20 -r 5 -t 1m --host http://127.0.0.1:8888

From many: one master, then a worker per load machine (or per core)::

    locust -f examples/locustfile.py --master --host http://zaqar.example:8888 \\
        --zaqar-transport ws --zaqar-ws-url ws://zaqar.example:9000
    locust -f examples/locustfile.py --worker --master-host MASTER_ADDRESS

Every Zaqar operation shows in Locust's statistics under its name (post,
claim, delete, list) with type zaqar-http or zaqar-ws.
"""

from __future__ import annotations

from locust import between, task

from zaqarkit.locust import ZaqarUser

MESSAGE = {"ttl": 300, "body": {"evt": "Wakeup"}}


class Producer(ZaqarUser):
    """Posts one message at a time to a random queue."""

    weight = 2
    wait_time = between(0.0, 0.01)

    @task
    def post(self) -> None:
        self.zaqar.post(self.random_queue(), MESSAGE)


class Consumer(ZaqarUser):
    """Claims up to 5 messages and deletes each, like zaqar-bench's consumer."""

    weight = 2
    wait_time = between(0.0, 0.01)

    @task
    def claim_and_delete(self) -> None:
        claim = self.zaqar.claim(self.random_queue(), ttl=300, grace=200, limit=5)
        for message in claim or ():
            self.zaqar.delete(message)


class Observer(ZaqarUser):
    """Lists one page of 5 messages."""

    weight = 1
    wait_time = between(0.0, 0.05)

    @task
    def list_page(self) -> None:
        self.zaqar.list(self.random_queue(), limit=5)
