"""python-zaqarclient's high-level API on top of zaqarkit.

Laid out like python-zaqarclient, so that code written for it runs after one
change of import::

    # was: from zaqarclient.queues import client
    from zaqarkit.compat.zaqarclient.queues import client

    cli = client.Client("http://127.0.0.1:8888", version=2, conf={
        "auth_opts": {"backend": "noauth", "options": {"os_project_id": "demo"}}})
    queue = cli.queue("orders")
    queue.post({"body": "hello", "ttl": 300})
    # -> {"resources": ["/v2/queues/orders/messages/..."]}

Results have python-zaqarclient's shapes (dicts, its iterators, ``stats`` as
a property, ``{'resources': [...]}`` from ``post``), its argument names and its
creation timing (``Pool`` and ``Flavor`` are created when constructed, a
queue only with ``force_create``). Every request goes through zaqarkit, so
zaqarkit's fixes are kept: ``exists()`` answers truthfully, listings walk
every page, every error status raises a typed error (whose classes are both
python-zaqarclient's names and zaqarkit's), and it works over WebSocket too.

Modules: :mod:`.queues.client` (the ``Client`` factory), :mod:`.queues.v2`
(``client``, ``queues``, ``message``, ``claim``, ``subscription``, ``pool``,
``flavor``, ``iterator``), :mod:`.errors` and :mod:`.transport.errors`.
"""
