"""What ``baton demo`` does: serve the examples with the real runtime server, then call them.

The shop upstream starts on loopback; the runtime server (``baton serve``'s :class:`Server`)
serves every manifest of the examples folder, its run environment mapping the examples'
``*.shop.internal`` hosts to the shop. Each scripted request then goes over real HTTP to the
served endpoint, and its run is read back from ``GET /runs/{id}``, as a user would read it.
The runs are data (:data:`DEMO_RUNS`), so that tests and other front ends reuse the requests
and their expectations.
"""

from __future__ import annotations

import errno
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from baton.demo.examples import EXAMPLES_DIR, Example, ExampleError, load_example
from baton.demo.render import render_outcome
from baton.demo.upstreams import Shop, host_map, serve
from baton.engine import Http1Transport, RunEnvironment
from baton.server import Server, ServerConfig

__all__ = ["DEMO_RUNS", "HOST", "DemoOutcome", "DemoRun", "Serving", "example_files", "run_demo"]

#: The demo listens on loopback only: it is a laptop's demo, not a service.
HOST = "127.0.0.1"

_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class DemoRun:
    title: str
    example: str  # file stem in the examples folder
    input: dict[str, Any]
    expect: str = "completed"
    #: Done to the upstream before the request (e.g. switch a service off), undone after it.
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
    """One scripted request as the client saw it, and its run as ``GET /runs/{id}`` shows it."""

    run: DemoRun
    method: str
    path: str
    status: int
    body: Any
    run_id: str | None
    #: ``GET /runs/{id}`` of the run (None when the answer named no run).
    detail: dict[str, Any] | None
    elapsed: float
    #: What the upstream recorded during this run (reservations, charges, refunds...).
    ledger: list[dict[str, Any]] = field(default_factory=list)

    @property
    def outcome(self) -> str | None:
        return None if self.detail is None else self.detail.get("outcome")

    @property
    def as_expected(self) -> bool:
        return self.outcome == self.run.expect and (self.status == 200) == (self.run.expect == "completed")


@dataclass(frozen=True)
class Serving:
    """Where the demo is being served, for whoever keeps it running (and prints how to call it)."""

    base_url: str
    upstream_url: str
    examples: dict[str, Example]
    runs: Sequence[DemoRun]


def example_files(examples_dir: Path) -> list[Path]:
    """The manifests of the examples folder itself (not of its subfolders, e.g. ``gitops/``)."""
    return sorted(
        path
        for path in examples_dir.iterdir()
        if path.suffix in _MANIFEST_SUFFIXES and path.is_file() and not path.name.startswith(".")
    )


async def run_demo(
    *,
    out: TextIO,
    examples_dir: Path = EXAMPLES_DIR,
    runs: Sequence[DemoRun] = DEMO_RUNS,
    port: int = 8080,
    latency_scale: float = 1.0,
    keep_serving: Callable[[Serving], Awaitable[None]] | None = None,
) -> list[DemoOutcome]:
    """Serve the examples, send every demo request, print each; then ``keep_serving`` (if given)
    holds the server up until it returns. Returns the outcomes of the scripted requests."""
    examples: dict[str, Example] = {}
    for run in runs:
        if run.example not in examples:
            examples[run.example] = load_example(examples_dir / f"{run.example}.yaml")
    shop = Shop(latency_scale=latency_scale)
    async with (
        serve(shop) as upstream_url,
        RunEnvironment(transport=Http1Transport(host_map=host_map(upstream_url))) as env,
    ):
        config = ServerConfig(reload_interval=0 if keep_serving is None else 1.0, grace_period=5.0)
        server = Server(example_files(examples_dir), config=config, env=env)
        loaded = server.load()
        if loaded.problems:
            raise ExampleError("; ".join(str(problem) for problem in loaded.problems))
        bound = await _start(server, port=port, out=out)
        base_url = f"http://{HOST}:{bound}"
        try:
            out.write(f"Shop upstream on {upstream_url} (users, orders, inventory, payments, shipping)\n")
            out.write(f"Baton serving {_served(server)} on {base_url}\n")
            out.flush()
            outcomes: list[DemoOutcome] = []
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as client:
                for run in runs:
                    outcome = await _request(client, base_url, run, examples[run.example], shop)
                    outcomes.append(outcome)
                    out.write("\n" + render_outcome(outcome))
                    out.flush()
            if keep_serving is not None:
                await keep_serving(Serving(base_url, upstream_url, examples, runs))
        finally:
            await server.stop()
    return outcomes


async def _start(server: Server, *, port: int, out: TextIO) -> int:
    try:
        return await server.start(HOST, port)
    except OSError as exc:
        if port == 0 or exc.errno != errno.EADDRINUSE:
            raise ExampleError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None
    bound = await server.start(HOST, 0)
    out.write(f"Port {port} is taken on {HOST}; serving on port {bound} instead (choose one with --port).\n")
    return bound


def _served(server: Server) -> str:
    return ", ".join(f"{d.endpoint.method} {d.endpoint.path}" for d in server.router.definitions)


async def _request(
    client: aiohttp.ClientSession, base_url: str, run: DemoRun, example: Example, shop: Shop
) -> DemoOutcome:
    endpoint = example.manifest.spec.endpoint
    undo = run.arrange(shop) if run.arrange is not None else None
    seen = len(shop.ledger)
    started = time.perf_counter()
    try:
        async with client.request(endpoint.method, base_url + endpoint.path, json=run.input) as response:
            status, raw = response.status, await response.read()
            run_id = response.headers.get("X-Baton-Run-Id")
    finally:
        if undo is not None:
            undo()
    elapsed = time.perf_counter() - started
    detail = None
    if run_id is not None:
        async with client.get(f"{base_url}/runs/{run_id}", headers={"Accept": "application/json"}) as got:
            if got.status == 200:
                detail = await got.json()
    return DemoOutcome(
        run=run,
        method=endpoint.method,
        path=endpoint.path,
        status=status,
        body=_body(raw),
        run_id=run_id,
        detail=detail,
        elapsed=elapsed,
        ledger=shop.ledger[seen:],
    )


def _body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
