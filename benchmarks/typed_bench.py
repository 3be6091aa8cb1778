"""Typed message bodies on the core tier (issue 27): CPU per operation of a
listing of 10 and a claim of 10, parsed untyped, typed (``body_type=``), and
untyped then turned into the model in the handler, all in one run.

Every variant builds the call, prepares it and parses the replay server's
recorded answer (as the ``core`` contender of ``python -m benchmarks``
does), in interleaved rounds shuffled with a fixed seed; CPU is
``time.process_time`` over each round. Only ratios within one run mean
anything.

    python -m benchmarks.typed_bench                 # ~1 min
    python -m benchmarks.typed_bench --rounds 15 --duration 0.5
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgspec
import pydantic

from benchmarks.contenders import CLAIM, PAGE, CannedResponses
from zaqarkit._settings import resolve
from zaqarkit.core.bodies import codec_for
from zaqarkit.core.parse import typed_claim, typed_page


class Event(msgspec.Struct):
    evt: str
    n: int = 0


@dataclasses.dataclass
class EventDC:
    evt: str
    n: int = 0


class EventPD(pydantic.BaseModel):
    evt: str
    n: int = 0


def variants() -> dict[str, Callable[[], int]]:
    settings = resolve(
        "http://127.0.0.1:1",
        2,
        None,
        None,
        project_id="bench",
        client_id="5c6939a8-0000-4b1c-9a3e-3c1f0d2b0000",
    )
    api, ctx, cut = settings.api, settings.context, len(settings.endpoint)
    canned = CannedResponses()
    queue = "bench"

    def run(call: Any) -> Any:
        request = ctx.prepare(call.request)
        return call.parse(canned.answer(request.method, request.url[cut:], request.body))

    def listing(wrap: Any = None) -> Any:
        call = api.message_list(queue, limit=PAGE, echo=True)
        return run(call if wrap is None else typed_page(call, wrap)).items

    def claim(wrap: Any = None) -> Any:
        call = api.claim_create(queue, limit=PAGE, **CLAIM)
        return run(call if wrap is None else typed_claim(call, wrap)).messages

    struct, dc, pd = codec_for(Event), codec_for(EventDC), codec_for(EventPD)
    found: dict[str, Callable[[], int]] = {}
    for name, op in (("list10", listing), ("claim10", claim)):
        found[f"{name} untyped"] = lambda op=op: len(op())
        found[f"{name} typed Struct"] = lambda op=op: len(op(struct))
        found[f"{name} typed dataclass"] = lambda op=op: len(op(dc))
        found[f"{name} typed pydantic"] = lambda op=op: len(op(pd))
        found[f"{name} untyped + Event(**body)"] = lambda op=op: len(
            [Event(**m.body) for m in op()]
        )
        found[f"{name} untyped + EventDC(**body)"] = lambda op=op: len(
            [EventDC(**m.body) for m in op()]
        )
        found[f"{name} untyped + EventPD.model_validate"] = lambda op=op: len(
            [EventPD.model_validate(m.body) for m in op()]
        )
    return found


def measure(rounds: int, duration: float, seed: int) -> dict[str, float]:
    """Median CPU microseconds per operation of each variant."""
    ops = variants()
    for op in ops.values():  # warm-up: caches, first decoders
        for _ in range(200):
            assert op() == PAGE
    shuffle = random.Random(seed).shuffle
    samples: dict[str, list[float]] = {name: [] for name in ops}
    order = list(ops)
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            op, count = ops[name], 0
            start = time.process_time()
            end = time.perf_counter() + duration
            while time.perf_counter() < end:
                for _ in range(50):
                    op()
                count += 50
            samples[name].append((time.process_time() - start) / count * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--duration", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=27)
    args = parser.parse_args()
    result = measure(args.rounds, args.duration, args.seed)
    print("| operation | CPU us/op (median) | vs untyped | vs untyped + model in handler |")
    print("|---|---:|---:|---:|")
    for name, value in result.items():
        scenario = name.split()[0]
        base = result[f"{scenario} untyped"]
        line = f"| {name} | {value:.2f} | {value / base:.2f}x |"
        model = {
            "Struct": "Event(**body)",
            "dataclass": "EventDC(**body)",
            "pydantic": "EventPD.model_validate",
        }.get(name.rsplit(" ", 1)[-1])
        if "typed " in name and "untyped" not in name and model is not None:
            line += f" {value / result[f'{scenario} untyped + {model}']:.2f}x |"
        else:
            line += " |"
        print(line)


if __name__ == "__main__":
    main()
