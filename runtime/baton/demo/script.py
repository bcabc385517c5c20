"""What ``baton demo`` does: start the shop upstream, run each example, show what happened.

The runs are data (:data:`DEMO_RUNS`), so that another front end (the HTTP server serving the
same examples) reuses the upstream, the examples and the expectations without the printing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from baton.demo.examples import EXAMPLES_DIR, Example, load_example
from baton.demo.render import render_run
from baton.demo.upstreams import Shop, host_map, serve
from baton.engine import RunEnvironment, RunResult

__all__ = ["DEMO_RUNS", "DemoOutcome", "DemoRun", "run_demo"]


@dataclass(frozen=True)
class DemoRun:
    title: str
    example: str  # file stem in the examples folder
    input: dict[str, Any]
    expect: str = "completed"
    #: Done to the upstream before the run (e.g. switch a service off), undone after it.
    arrange: Callable[[Shop], Callable[[], None]] | None = None


def _shipping_down(shop: Shop) -> Callable[[], None]:
    shop.fail("shipping")
    return lambda: shop.recover("shipping")


DEMO_RUNS: tuple[DemoRun, ...] = (
    DemoRun("hello: a gold customer gets the gold perk", "hello", {"userId": 42}),
    DemoRun("hello: anyone else gets the standard perk", "hello", {"userId": 7}),
    DemoRun(
        "bff-aggregation: three services at once, one response",
        "bff-aggregation",
        {"userId": 42, "sku": "sku-espresso"},
    ),
    DemoRun(
        "order-saga: reserve, charge, ship",
        "order-saga",
        {"userId": 42, "sku": "sku-grinder", "quantity": 1},
    ),
    DemoRun(
        "order-saga: shipping is down, so the payment is refunded and the stock released",
        "order-saga",
        {"userId": 7, "sku": "sku-espresso", "quantity": 2},
        expect="faulted",
        arrange=_shipping_down,
    ),
)


@dataclass
class DemoOutcome:
    run: DemoRun
    result: RunResult
    #: What the upstream recorded during this run (reservations, charges, refunds...).
    ledger: list[dict[str, Any]] = field(default_factory=list)

    @property
    def as_expected(self) -> bool:
        return self.result.status == self.run.expect


async def run_demo(
    *,
    out: TextIO,
    examples_dir: Path = EXAMPLES_DIR,
    runs: Sequence[DemoRun] = DEMO_RUNS,
    latency_scale: float = 1.0,
) -> list[DemoOutcome]:
    """Run every demo run against a fresh shop upstream; print each; return the outcomes."""
    examples: dict[str, Example] = {}
    for run in runs:
        if run.example not in examples:
            examples[run.example] = load_example(examples_dir / f"{run.example}.yaml")
    shop = Shop(latency_scale=latency_scale)
    outcomes: list[DemoOutcome] = []
    async with serve(shop) as base_url, RunEnvironment(host_map=host_map(base_url)) as env:
        out.write(f"Shop upstream on {base_url} (users, orders, inventory, payments, shipping)\n")
        for run in runs:
            example = examples[run.example]
            undo = run.arrange(shop) if run.arrange is not None else None
            seen = len(shop.ledger)
            started = time.perf_counter()
            try:
                result = await example.compiled.run(run.input, env=env)
            finally:
                if undo is not None:
                    undo()
            elapsed = time.perf_counter() - started
            outcome = DemoOutcome(run=run, result=result, ledger=shop.ledger[seen:])
            outcomes.append(outcome)
            out.write("\n" + render_run(outcome, example=example, elapsed=elapsed))
    return outcomes
