"""Engine overhead per task, next to the raw cost of what the task does, measured side by side.

Two flows:

* ``set``: a chain of N ``set`` tasks, each ``{n: ${ .n + 1 }, tag: ${ .tag }}``; its baseline
  evaluates the same two expressions per task directly with the ``jq`` package.
* ``call: http``: a chain of M ``GET /items/{n}`` calls to a local aiohttp upstream (its own
  process, on 127.0.0.1), each response feeding the next URI; its baseline makes the same
  requests with one pooled ``aiohttp.ClientSession`` and decodes each JSON body. Beside it,
  the same requests made directly through Baton's own transport (``Http1Transport``, what the
  engine uses): the engine minus that is what orchestrating a call costs.

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
import os
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
from baton.engine import CompiledWorkflow, HttpTransport, RunEnvironment, compile_workflow
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


def transport_only(count: int, base_url: str, transport: HttpTransport) -> Callable[[], Awaitable[Any]]:
    """The call chain's requests through Baton's own transport, with no engine around it.

    Baton's transport costs less per call than aiohttp's client, so the engine can come out
    below the aiohttp baseline; subtracting this instead isolates what orchestrating a call costs.
    """

    async def run() -> Any:
        data: Any = {"n": 0}
        for _ in range(count):
            response = await transport.request(
                "GET",
                f"{base_url}/items/{data['n']}",
                headers={},
                body=None,
                timeout=None,
                follow_redirects=False,
                max_body=10 * 1024 * 1024,
            )
            data = json.loads(response.body)
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
class Measure:
    """Per-task microseconds: medians of each side, and the median of paired differences."""

    engine: float
    baseline: float
    overhead: float
    #: Baton's own part alone (``set``: its evaluation of the same expressions; ``call: http``:
    #: the same requests through its transport), and engine minus that: the orchestration.
    expressions: float | None = None
    orchestration: float | None = None


@dataclass
class Row:
    flow: str
    tasks: int
    baseline: str
    target_us: float
    #: Process CPU time: the client's own work (the upstream runs in another process), which
    #: other load on a shared machine barely moves. Targets are judged on it.
    cpu: Measure
    #: Wall-clock time: what a caller waits, noisier.
    wall: Measure

    @property
    def overhead_us(self) -> float:
        """The engine's cost per task beyond the work itself (CPU): what orchestrating it adds."""
        return self.cpu.orchestration if self.cpu.orchestration is not None else self.cpu.overhead

    @property
    def within_target(self) -> bool:
        return self.overhead_us <= self.target_us


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


async def _timed(work: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one run of ``work``."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    if asyncio.iscoroutine(result):
        await result
    return time.perf_counter() - wall, time.process_time() - cpu


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
                transport_only(http_tasks, base_url, env.transport),
            ],
        }
        await _check_same_results(flows, set_tasks=set_tasks, http_tasks=http_tasks)
        samples: dict[str, list[list[tuple[float, float]]]] = {flow: [] for flow in flows}
        for rep in range(repetitions):
            for flow, parts in flows.items():
                shift = rep % len(parts)
                order = list(range(len(parts)))[shift:] + list(range(len(parts)))[:shift]
                timings = [(0.0, 0.0)] * len(parts)
                for index in order:
                    timings[index] = await _timed(parts[index])
                samples[flow].append(timings)
    counts = {"set": set_tasks, "call: http": http_tasks}
    baselines = {"set": "jq package, same expressions", "call: http": "aiohttp ClientSession + json"}
    return [
        Row(
            flow=flow,
            tasks=counts[flow],
            baseline=baselines[flow],
            target_us=TARGETS_US[flow],
            cpu=_summary([[t[1] for t in rep] for rep in reps], counts[flow]),
            wall=_summary([[t[0] for t in rep] for rep in reps], counts[flow]),
        )
        for flow, reps in samples.items()
    ]


def _summary(reps: list[list[float]], tasks: int) -> Measure:
    def median(values: Iterable[float]) -> float:
        return float(statistics.median(values)) * 1e6 / tasks

    result = Measure(
        engine=median(r[0] for r in reps),
        baseline=median(r[1] for r in reps),
        overhead=median(r[0] - r[1] for r in reps),
    )
    if len(reps[0]) > 2:
        result.expressions = median(r[2] for r in reps)
        result.orchestration = median(r[0] - r[2] for r in reps)
    return result


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
    """Markdown: CPU µs per task (wall-clock in brackets), per flow."""
    header = (
        "flow",
        "tasks",
        "engine",
        "baseline",
        "engine - baseline",
        "Baton's own part alone",
        "engine - its own part",
        "target (CPU overhead)",
    )
    lines = ["| " + " | ".join(header) + " |", "|---|" + "--:|" * (len(header) - 1)]

    def cell(cpu: float | None, wall: float | None) -> str:
        return "n/a" if cpu is None or wall is None else f"{cpu:.1f} ({wall:.1f})"

    for row in rows:
        verdict = "ok" if row.within_target else "OVER"
        c, w = row.cpu, row.wall
        lines.append(
            f"| {row.flow} | {row.tasks} | {cell(c.engine, w.engine)} | "
            f"{cell(c.baseline, w.baseline)} {row.baseline} | {cell(c.overhead, w.overhead)} | "
            f"{cell(c.expressions, w.expressions)} | {cell(c.orchestration, w.orchestration)} | "
            f"{row.overhead_us:.1f} ≤ {row.target_us:.0f} ({verdict}) |"
        )
    return "\n".join(lines)


def _load() -> str:
    try:
        return " ".join(f"{load:.1f}" for load in os.getloadavg())
    except OSError:
        return "unknown"


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
    print(
        f"\nµs per task: process CPU time (wall-clock in brackets); median of {args.repetitions} "
        f"interleaved repetitions; Python {platform.python_version()}, load average {_load()}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "repetitions": args.repetitions,
            "load_average": _load(),
            "rows": [
                asdict(row) | {"overhead_us": row.overhead_us, "within_target": row.within_target}
                for row in rows
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
