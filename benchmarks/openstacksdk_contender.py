"""openstacksdk's ``message`` service as a benchmark contender.

The other client a user would pick: ``openstack.connection.Connection`` with
its ``message`` proxy (``conn.message.post_message``, ``messages``,
``create_claim``, ``delete_message``), no-auth against the same server as
everyone else: a keystoneauth ``NoAuth`` plugin that names the benchmark's
project (openstacksdk's message resources take ``X-PROJECT-ID`` from the
session's project and refuse to list without one), and the endpoint given
with its API version, so openstacksdk trusts it.

Scenarios: ``post1``, ``post10``, ``list10`` and ``claim_delete``. The proxy
has no delete-by-ids, so ``claim_delete_many`` is not offered. In
openstacksdk 4.22 ``create_claim`` fails whenever something was claimed
(``Claim._translate_response`` splits ``self.location``, which is the
resource's computed cloud location, not the Location header): the
claim scenario then reports that error, as a user would meet it.

Its key in the contender table (``benchmarks/contenders.py``) is
``openstacksdk``, e.g.::

    python -m benchmarks --tier replay --scenario post1,post10,list10,claim_delete \\
        --contender openstacksdk,zaqarclient,zk-http --rounds 5 --duration 2 --no-plots
"""

from __future__ import annotations

import itertools
from typing import Any

from benchmarks import contenders as _c


class OpenstackSdkPeer:
    """openstacksdk's ``conn.message`` proxy, no-auth, one Connection per client."""

    def __init__(self, t: _c.Target) -> None:
        import openstack
        from keystoneauth1 import noauth, session
        from openstack.message.v2 import _proxy

        project = t.project

        class _ProjectNoAuth(noauth.NoAuth):  # type: ignore[misc]
            def get_project_id(self, session: Any, **kwargs: Any) -> str:
                return project

        # The replay server serves no version document; against Zaqar,
        # discovery would be one GET when the proxy is first built (set-up,
        # not per operation), so it is skipped on both tiers alike.
        _proxy.Proxy.skip_discovery = True
        self.conn = openstack.connection.Connection(
            session=session.Session(auth=_ProjectNoAuth()),
            message_endpoint_override=t.http_url.rstrip("/") + "/v2",
            message_api_version="2",
        )
        self.message = self.conn.message
        self.queue = t.queue
        self.client_id = t.client_id

    def post1(self) -> int:
        return len(self.message.post_message(self.queue, [_c.MESSAGE]))

    def post10(self) -> int:
        return len(self.message.post_message(self.queue, _c.BATCH))

    def list10(self) -> int:
        listing = self.message.messages(self.queue, limit=_c.PAGE, echo=True)
        return len(list(itertools.islice(listing, _c.PAGE)))

    def claim_delete(self) -> int:
        claim = self.message.create_claim(
            self.queue, ttl=_c.CLAIM["ttl"], grace=_c.CLAIM["grace"], limit=_c.PAGE
        )
        messages = claim.messages or []
        for message in messages:
            self.message.delete_message(self.queue, message["id"], claim=claim)
        return len(messages)

    def close(self) -> None:
        self.conn.close()
