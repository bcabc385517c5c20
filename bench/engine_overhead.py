"""Engine overhead per task, next to the raw cost of what the task does, measured side by side.

Two flows:

* ``set``: a chain of N ``set`` tasks, each ``{n: ${ .n + 1 }, tag: ${ .tag }}``; its baseline
  evaluates the same two expressions per task directly with the ``jq`` package.
* ``call: http``: a chain of M ``GET /items/{n}`` calls to a local aiohttp upstream (its own
  process, on 127.0.0.1), each response feeding the next URI; its baseline makes the same
  requests with one pooled ``aiohttp.ClientSession`` and decodes each JSON body.

Engine and baseline alternate within every repetition (order rotated each time) so that noise
from a shared machine hits both alike; the overhead is the median over repetitions of
``(engine - baseline) / tasks``. Absolute numbers depend on the machine; the overhead is the
figure to compare with the targets (50 µs per ``set``, 150 µs per ``call: http``).

    python bench/engine_overhead.py [--set-tasks 1000] [--http-tasks 200] [--repetitions 7]
                                    [--json PATH] [--profile set|http]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import io
import json
import platform
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import jq

from baton.dsl import load_document
from baton.engine import CompiledWorkflow, RunEnvironment, compile_workflow
from baton.expressions import compile_value

TARGETS_US = {"set": 50.0, "call: http": 150.0}
_UPSTREAM = Path(__file__).with_name("_upstream.py")


# --- the flows ----------------------------------------------------------------------------


def set_chain(count: int) -> dict[str, Any]:
    tasks = [{f"set{i}": {"set": dict(SET_BODY)}} for i in range(count)]
    return _document("set-chain", tasks)


def http_chain(count: int, base_url: str) -> dict[str, Any]:
    call = {"call": "http", "with": {"method": "get", "endpoint": {"uri": base_url + "/items/{n}"}}}
    return _document("http-chain", [{f"call{i}": call} for i in range(count)])


def _document(name: str, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "document": {"dsl": "1.0.3", "namespace": "bench", "name": name, "version": "1.0.0"},
        "do": tasks,
    }


def compile_flow(document: dict[str, Any]) -> CompiledWorkflow:
    return compile_workflow(load_document(json.dumps(document), origin=document["document"]["name"]))


# --- baselines ----------------------------------------------------------------------------

SET_BODY = {"n": "${ .n + 1 }", "tag": "${ .tag }"}


def jq_baseline(count: int) -> Callable[[], Any]:
    """The set chain's expressions, compiled once, evaluated directly with the jq package."""
    increment, tag = jq.compile(".n + 1"), jq.compile(".tag")

    def run() -> Any:
        data: Any = {"n": 0, "tag": "bench"}
        for _ in range(count):
            data = {"n": increment.input_value(data).first(), "tag": tag.input_value(data).first()}
        return data

    return run


def expressions_only(count: int) -> Callable[[], Any]:
    """The set body rendered by Baton's own compiled template, with no engine around it.

    Baton evaluates plain paths such as ``.tag`` natively, so its expression cost can be below
    the jq baseline; subtracting this instead isolates what orchestrating a task costs.
    """
    template = compile_value(SET_BODY, path="set")

    def run() -> Any:
        data: Any = {"n": 0, "tag": "bench"}
        for _ in range(count):
            data = template.render(data)
        return data

    return run


def http_baseline(count: int, base_url: str, session: aiohttp.ClientSession) -> Callable[[], Awaitable[Any]]:
    """The call chain's requests, made directly with aiohttp on the same upstream."""

    async def run() -> Any:
        data: Any = {"n": 0}
        for _ in range(count):
            async with session.get(f"{base_url}/items/{data['n']}") as response:
                data = json.loads(await response.read())
        return data

    return run


# --- measurement --------------------------------------------------------------------------


@dataclass
class Row:
    flow: str
    tasks: int
    engine_us: float  # per task, median
    baseline_us: float  # per task, median
    overhead_us: float  # per task, median of paired (engine - baseline)
    target_us: float
    baseline: str
    #: set only: Baton's own evaluation of the same expressions, and engine minus that.
    expressions_us: float | None = None
    orchestration_us: float | None = None

    @property
    def within_target(self) -> bool:
        return max(self.overhead_us, self.orchestration_us or 0.0) <= self.target_us


@contextlib.asynccontextmanager
async def upstream() -> AsyncIterator[str]:
    """Start the upstream process; yield its base URL; stop it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(_UPSTREAM),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        if not line.startswith(b"PORT "):
            raise RuntimeError(f"benchmark upstream did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), timeout=5)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _timed(work: Callable[[], Any]) -> float:
    gc.collect()
    started = time.perf_counter()
    result = work()
    if asyncio.iscoroutine(result):
        await result
    return time.perf_counter() - started


async def measure(*, set_tasks: int = 1000, http_tasks: int = 200, repetitions: int = 7) -> list[Row]:
    """Per-task medians; every component of a flow is timed in each repetition, order rotated."""
    async with upstream() as base_url, RunEnvironment() as env, aiohttp.ClientSession() as session:
        set_flow = compile_flow(set_chain(set_tasks))
        http_flow = compile_flow(http_chain(http_tasks, base_url))
        flows: dict[str, list[Callable[[], Any]]] = {
            "set": [
                lambda: set_flow.run({"n": 0, "tag": "bench"}, env=env),
                jq_baseline(set_tasks),
                expressions_only(set_tasks),
            ],
            "call: http": [
                lambda: http_flow.run({"n": 0}, env=env),
                http_baseline(http_tasks, base_url, session),
            ],
        }
        await _check_same_results(flows, set_tasks=set_tasks, http_tasks=http_tasks)
        samples: dict[str, list[list[float]]] = {flow: [] for flow in flows}
        for rep in range(repetitions):
            for flow, parts in flows.items():
                shift = rep % len(parts)
                order = list(range(len(parts)))[shift:] + list(range(len(parts)))[:shift]
                timings = [0.0] * len(parts)
                for index in order:
                    timings[index] = await _timed(parts[index])
                samples[flow].append(timings)
    counts = {"set": set_tasks, "call: http": http_tasks}
    baselines = {"set": "jq package, same expressions", "call: http": "aiohttp ClientSession + json"}
    rows = []
    for flow, reps in samples.items():
        per_task = 1e6 / counts[flow]

        def median(values: Iterable[float], per_task: float = per_task) -> float:
            return float(statistics.median(values)) * per_task

        row = Row(
            flow=flow,
            tasks=counts[flow],
            engine_us=median(t[0] for t in reps),
            baseline_us=median(t[1] for t in reps),
            overhead_us=median(t[0] - t[1] for t in reps),
            target_us=TARGETS_US[flow],
            baseline=baselines[flow],
        )
        if flow == "set":
            row.expressions_us = median(t[2] for t in reps)
            row.orchestration_us = median(t[0] - t[2] for t in reps)
        rows.append(row)
    return rows


async def _check_same_results(
    flows: dict[str, list[Callable[[], Any]]], *, set_tasks: int, http_tasks: int
) -> None:
    """Warm up every component once and make sure all computed the same thing."""
    expected = {"set": {"n": set_tasks, "tag": "bench"}, "call: http": {"n": http_tasks}}
    for flow, (engine, *others) in flows.items():
        result = await engine()
        if result.status != "completed":
            raise RuntimeError(f"the {flow} flow did not complete: {result.error}")
        results = [result.output]
        for other in others:
            value = other()
            results.append(await value if asyncio.iscoroutine(value) else value)
        results = [{"n": r["n"], **({"tag": r["tag"]} if flow == "set" else {})} for r in results]
        if any(r != expected[flow] for r in results):
            raise RuntimeError(f"the {flow} components disagree: {results}, expected {expected[flow]}")


# --- profile ------------------------------------------------------------------------------


async def profile(flow: str, *, set_tasks: int, http_tasks: int, runs: int = 5, top: int = 25) -> str:
    """cProfile of the engine side of one flow: the functions that cost the most, by own time."""
    async with upstream() as base_url, RunEnvironment() as env:
        document = set_chain(set_tasks) if flow == "set" else http_chain(http_tasks, base_url)
        compiled = compile_flow(document)
        data = {"n": 0, "tag": "bench"} if flow == "set" else {"n": 0}
        await compiled.run(data, env=env)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(runs):
            await compiled.run(data, env=env)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# --- output -------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    header = (
        "flow",
        "tasks",
        "engine µs/task",
        "baseline µs/task",
        "engine - baseline",
        "Baton's expressions µs/task",
        "engine - its expressions",
        "target",
    )
    lines = ["| " + " | ".join(header) + " |", "|---|" + "--:|" * (len(header) - 1)]
    for row in rows:
        verdict = "ok" if row.within_target else "OVER"
        own = "n/a" if row.expressions_us is None else f"{row.expressions_us:.1f}"
        orchestration = "n/a" if row.orchestration_us is None else f"{row.orchestration_us:.1f}"
        lines.append(
            f"| {row.flow} | {row.tasks} | {row.engine_us:.1f} | {row.baseline_us:.1f} ({row.baseline}) | "
            f"{row.overhead_us:.1f} | {own} | {orchestration} | ≤ {row.target_us:.0f} ({verdict}) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set-tasks", type=int, default=1000)
    parser.add_argument("--http-tasks", type=int, default=200)
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    parser.add_argument("--profile", choices=["set", "http"], help="print a cProfile of one flow instead")
    args = parser.parse_args(argv)
    if min(args.set_tasks, args.http_tasks, args.repetitions) < 1:
        parser.error("counts must be at least 1")
    if args.profile:
        print(asyncio.run(profile(args.profile, set_tasks=args.set_tasks, http_tasks=args.http_tasks)))
        return 0
    rows = asyncio.run(
        measure(set_tasks=args.set_tasks, http_tasks=args.http_tasks, repetitions=args.repetitions)
    )
    print(table(rows))
    print(f"\nmedian of {args.repetitions} interleaved repetitions; Python {platform.python_version()}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "repetitions": args.repetitions,
            "rows": [asdict(row) | {"within_target": row.within_target} for row in rows],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
