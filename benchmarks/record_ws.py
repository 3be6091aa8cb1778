"""Record Zaqar's WebSocket answers for the replay server.

``python -m benchmarks.record_ws`` starts the harness Zaqar, sends one frame per
action the benchmarks use and stores each answer's ``body`` and ``headers``
in ``benchmarks/data/ws_recordings.json`` (the replay server resizes them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "data" / "ws_recordings.json"


def main() -> None:
    from websockets.sync.client import connect

    from zaqarkit.testing import ZaqarServer

    headers = {"Client-ID": "3381af92-2b9e-11e3-b191-71861300734c", "X-Project-ID": "bench"}
    out: dict[str, Any] = {}
    with ZaqarServer() as srv, connect(srv.ws_url, compression=None) as ws:

        def rt(action: str, body: dict[str, Any]) -> Any:
            ws.send(json.dumps({"action": action, "headers": headers, "body": body}))
            answer = json.loads(ws.recv())
            out[action] = {"body": answer["body"], "headers": answer["headers"]}
            return answer["body"]

        rt("queue_create", {"queue_name": "rec"})
        msgs = [{"body": {"evt": "Wakeup", "n": i}, "ttl": 300} for i in range(2)]
        rt("message_post", {"queue_name": "rec", "messages": msgs})
        rt("message_list", {"queue_name": "rec", "limit": 2, "echo": True})
        claim = rt("claim_create", {"queue_name": "rec", "limit": 2, "ttl": 300, "grace": 200})
        first = claim["messages"][0]
        rt(
            "message_delete",
            {"queue_name": "rec", "message_id": first["id"], "claim_id": claim["claim_id"]},
        )
        rt(
            "message_delete_many",
            {"queue_name": "rec", "message_ids": [claim["messages"][1]["id"]]},
        )
        rt("queue_get", {"queue_name": "rec"})
        rt("ping", {})
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
