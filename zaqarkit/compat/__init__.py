"""Compatibility layers for code written against other Zaqar clients.

:mod:`zaqarkit.compat.zaqarclient` is python-zaqarclient's high-level API
(``queues.client.Client`` and the ``queues.v2`` resources) as thin adapters
over zaqarkit's typed :class:`zaqarkit.Client`: migrating is a change of import.

>>> from zaqarkit.compat.zaqarclient.queues import client
>>> cli = client.Client("http://127.0.0.1:8888", version=2, conf={
...     "auth_opts": {"backend": "noauth", "options": {"os_project_id": "demo"}}})
>>> cli.queue("orders", auto_create=False).name   # no I/O
'orders'
"""
