"""Baton's server against a hand-written aiohttp aggregator, both on one core, side by side.

Two flows, served identically by both:

* ``POST /checkout`` fans out to three upstreams (20 ms each) at once and joins their answers
  into one response;
* ``POST /chain`` makes three dependent calls (each response feeds the next request).

Layout: both servers run in their own processes pinned to core 0 for the whole run (the idle one
costs nothing); the upstream (a minimal asyncio HTTP/1.1 responder) and the load generator are
pinned to core 1. The load generator is ``wrk`` when installed (``apt-get install -y wrk``),
else a small asyncio client built in here. Each measurement is bounded in time; servers alternate
within every round (order rotated) so noise from a shared machine hits both alike, and the
figures reported are medians over rounds of Baton / baseline ratios. Both keep idle upstream
connections for the whole run (``POOL_IDLE_SECONDS``), so neither reopens connections inside
a measurement because of when the other one ran.

    python bench/server_vs_aiohttp.py [--duration 8] [--rounds 4] [--connections 16,128]
                                      [--flows checkout,chain] [--json PATH] [--profile PATH]
                                      [--no-wrk] [--tracing]

``--profile PATH`` runs Baton's server under cProfile and writes its stats to PATH. Besides
throughput and latency, each line reports the server process's CPU time per request (from
/proc), the figure least moved by other work on a shared machine.

Tracing is off unless the environment configures it (``OTEL_*``). ``--tracing`` turns it on for
Baton only, exporting over OTLP/HTTP to the upstream stand-in (which answers 200 to anything):
what a traced deployment pays per request, against the untraced baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: Both servers keep idle upstream connections for longer than any run of this benchmark: with
#: the usual 15 s, a pool that expires connections while the other server is measured reopens
#: them inside its own next measurement, and the two pools expire on different schedules
#: (aiohttp sweeps every 15 s, Baton's pool 15 s after each connection went idle) — a p99
#: difference from connection setup timing, not from the request paths compared here.
POOL_IDLE_SECONDS = 3600.0
SERVER_CORE = 0
LOAD_CORE = 1
UPSTREAM_DELAY = 0.020
FLOWS = ("checkout", "chain")
BODY = json.dumps({"customer": "c-1", "n": 0}).encode()


# --- upstream: a minimal HTTP/1.1 responder (so the load core is spent on load, not on it) -----


class _UpstreamProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            path = head.split(b" ", 2)[1].decode()
            self.loop.call_later(UPSTREAM_DELAY, self._answer, _upstream_body(path))

    def _answer(self, body: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (len(body), body)
        )


def _upstream_body(path: str) -> bytes:
    if path.startswith("/chain/"):
        n = int(path.rsplit("/", 1)[1])
        return json.dumps({"n": n + 1}).encode()
    name = path.strip("/").split("?")[0]
    return json.dumps({"service": name, "price": len(name), "ok": True}).encode()


async def _serve_upstream() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_UpstreamProtocol, "127.0.0.1", 0, backlog=1024)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


# --- the baseline: what a careful engineer writes by hand with aiohttp ------------------------


async def _serve_baseline(upstream: str) -> None:
    import aiohttp
    from aiohttp import web

    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=POOL_IDLE_SECONDS)
    )

    async def get(url: str) -> Any:
        async with session.get(url) as response:
            response.raise_for_status()
            return json.loads(await response.read())

    async def checkout(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        user, cart, stock = await asyncio.gather(
            get(upstream + "/users"), get(upstream + "/cart"), get(upstream + "/stock")
        )
        return web.json_response(
            {"customer": body["customer"], "total": user["price"] + cart["price"] + stock["price"]}
        )

    async def chain(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        n = body["n"]
        for _ in range(3):
            n = (await get(f"{upstream}/chain/{n}"))["n"]
        return web.json_response({"n": n})

    app = web.Application()
    app.router.add_post("/checkout", checkout)
    app.router.add_post("/chain", chain)
    await _run_app(app)
    await session.close()


async def _run_app(app: Any) -> None:
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock, backlog=1024).start()
    # The same process tuning Baton's server gets, so the comparison is of request paths only.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


# --- Baton: the same two flows as Workflow manifests ------------------------------------------


def _manifests(upstream: str) -> list[dict[str, Any]]:
    def call(uri: str) -> dict[str, Any]:
        return {"call": "http", "with": {"method": "get", "endpoint": {"uri": uri}}}

    def manifest(name: str, tasks: list[dict[str, Any]], output: str) -> dict[str, Any]:
        return {
            "apiVersion": "baton.dev/v1alpha1",
            "kind": "Workflow",
            "metadata": {"name": name},
            "spec": {
                "endpoint": {"method": "POST", "path": "/" + name},
                "workflow": {
                    "document": {"dsl": "1.0.3", "namespace": "bench", "name": name, "version": "1.0.0"},
                    "do": tasks,
                    "output": {"as": output},
                },
            },
        }

    checkout = manifest(
        "checkout",
        [
            {
                "gather": {
                    "fork": {
                        "branches": [
                            {"user": call(upstream + "/users")},
                            {"cart": call(upstream + "/cart")},
                            {"stock": call(upstream + "/stock")},
                        ]
                    },
                }
            }
        ],
        "${ {customer: $context.customer, total: (.[0].price + .[1].price + .[2].price)} }",
    )
    chain = manifest(
        "chain",
        [{f"step{i}": call(upstream + "/chain/{n}")} for i in range(3)],
        "${ {n: .n} }",
    )
    return [checkout, chain]


async def _serve_baton(upstream: str, folder: Path, profile: str | None) -> None:
    import yaml

    from baton.server import Server, ServerConfig, tracing_from_env
    from baton.server.lifecycle import settle_heap

    for manifest in _manifests(upstream):
        (folder / f"{manifest['metadata']['name']}.yaml").write_text(yaml.safe_dump(manifest))
    tracing = tracing_from_env()  # as `baton serve` does: on only when OTEL_* configure it
    config = ServerConfig(reload_interval=0, upstream_idle_timeout=POOL_IDLE_SECONDS)
    server = Server([folder], config=config, tracing=tracing)
    result = server.load()
    if result.problems:
        raise SystemExit("\n".join(str(p) for p in result.problems))
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    port = await server.start("127.0.0.1", 0)
    settle_heap()  # as `baton serve` does
    print(f"PORT {port}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    await server.stop()
    if tracing is not None:
        await asyncio.to_thread(tracing.shutdown)


# --- load: wrk, or a small asyncio client --------------------------------------------------


@dataclass
class Load:
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    #: The server process's CPU time (user + system) per request: the figure least disturbed by
    #: other work on a shared machine.
    cpu_us: float = 0.0


async def _asyncio_load(url: str, connections: int, duration: float) -> Load:
    host, port, path = re.match(r"http://([^:/]+):(\d+)(/.*)", url).groups()  # type: ignore[union-attr]
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + duration

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.monotonic() < deadline:
                started = time.monotonic()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
                await reader.readexactly(length)
                if not head.startswith(b"HTTP/1.1 200"):
                    errors += 1
                latencies.append(time.monotonic() - started)
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    seconds = time.monotonic() - started
    latencies.sort()
    return Load(
        requests=len(latencies),
        errors=errors,
        seconds=seconds,
        rps=len(latencies) / seconds,
        p50_ms=1000 * latencies[len(latencies) // 2],
        p99_ms=1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    )


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  io.write(string.format(
    "JSON {\\"requests\\": %%d, \\"errors\\": %%d, \\"seconds\\": %%f, \\"p50\\": %%d, \\"p99\\": %%d}\\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50), latency:percentile(99)))
end
"""


def _wrk_load(url: str, connections: int, duration: float, script: Path) -> Load:
    command = [
        "taskset", "-c", str(LOAD_CORE), "wrk", "-t1", f"-c{connections}", f"-d{duration:g}s",
        "--timeout", "10s", "-s", str(script), url,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    line = next(line for line in output.splitlines() if line.startswith("JSON "))
    data = json.loads(line[5:])
    return Load(
        requests=data["requests"],
        errors=data["errors"],
        seconds=data["seconds"],
        rps=data["requests"] / data["seconds"],
        p50_ms=data["p50"] / 1000,
        p99_ms=data["p99"] / 1000,
    )


# --- orchestration ------------------------------------------------------------------------


@contextlib.contextmanager
def _child(
    role: str, *args: str, core: int, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    command = [sys.executable, __file__, "--role", role, *args]
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: _pin(core),
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            raise SystemExit(f"{role} did not start")
        yield process, int(line.split()[1])
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pin(core: int) -> None:
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {core})


def _check_same_answers(urls: dict[str, str]) -> None:
    import urllib.request

    for flow in FLOWS:
        answers = []
        for base in urls.values():
            request = urllib.request.Request(
                base + "/" + flow, data=BODY, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                answers.append(json.loads(response.read()))
        if answers[0] != answers[1]:
            raise SystemExit(f"{flow}: the servers disagree: {answers}")


def _measure(url: str, connections: int, duration: float, wrk_script: Path | None) -> Load:
    if wrk_script is not None:
        return _wrk_load(url, connections, duration, wrk_script)
    code = (
        "import asyncio, json, sys, os\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from server_vs_aiohttp import _asyncio_load\n"
        f"os.sched_setaffinity(0, {{{LOAD_CORE}}})\n"
        f"print(json.dumps(asyncio.run(_asyncio_load({url!r}, {connections}, {duration})).__dict__))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return Load(**json.loads(output))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role", choices=("upstream", "baseline", "baton"), help=argparse.SUPPRESS)
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement (default 8)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="rounds; servers alternate within each, so an even count puts each first as often (default 4)",
    )
    parser.add_argument("--connections", default="16,128", help="comma-separated loads (default 16,128)")
    parser.add_argument(
        "--flows", default=",".join(FLOWS), help="comma-separated flows (default checkout,chain)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--profile", help="profile Baton's server into this pstats file")
    parser.add_argument("--no-wrk", action="store_true", help="use the built-in asyncio load generator")
    parser.add_argument(
        "--tracing", action="store_true", help="Baton exports OTLP traces (to the upstream stand-in)"
    )
    args = parser.parse_args()

    if args.role == "upstream":
        asyncio.run(_serve_upstream())
        return 0
    if args.role == "baseline":
        asyncio.run(_serve_baseline(args.upstream))
        return 0
    if args.role == "baton":
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(_serve_baton(args.upstream, Path(folder), args.profile))
        return 0

    if len(os.sched_getaffinity(0)) < 2:
        print("needs two cores (server on one, upstream and load on the other)", file=sys.stderr)
        return 2
    flows = [f for f in args.flows.split(",") if f]
    loads = [int(c) for c in args.connections.split(",")]
    wrk_script = None
    with tempfile.TemporaryDirectory() as scratch:
        if shutil.which("wrk") and shutil.which("taskset") and not args.no_wrk:
            wrk_script = Path(scratch) / "post.lua"
            wrk_script.write_text(_WRK_SCRIPT % BODY.decode())
        else:
            print("wrk not found (apt-get install -y wrk): using the built-in asyncio load generator")
        with _child("upstream", core=LOAD_CORE) as (_, upstream_port):
            upstream = f"http://127.0.0.1:{upstream_port}"
            profile = ["--profile", str(Path(args.profile).resolve())] if args.profile else []
            baton_env = None
            if args.tracing:
                baton_env = {
                    **os.environ,
                    "OTEL_EXPORTER_OTLP_ENDPOINT": upstream,
                    "OTEL_TRACES_EXPORTER": "otlp",
                }
                baton_env.pop("OTEL_SDK_DISABLED", None)
            with (
                _child("baseline", "--upstream", upstream, core=SERVER_CORE) as (baseline, baseline_port),
                _child("baton", "--upstream", upstream, *profile, core=SERVER_CORE, env=baton_env) as (
                    baton,
                    baton_port,
                ),
            ):
                pids = {"baseline": baseline.pid, "baton": baton.pid}
                urls = {
                    "baseline": f"http://127.0.0.1:{baseline_port}",
                    "baton": f"http://127.0.0.1:{baton_port}",
                }
                _check_same_answers(urls)
                for base in urls.values():  # warm up: connection pools, caches, code paths
                    for flow in flows:
                        _measure(f"{base}/{flow}", max(loads), 1.0, wrk_script)
                results: dict[str, dict[int, dict[str, list[Load]]]] = {
                    flow: {c: {"baseline": [], "baton": []} for c in loads} for flow in flows
                }
                for round_index in range(args.rounds):
                    for flow in flows:
                        for connections in loads:
                            order = list(urls) if round_index % 2 == 0 else list(urls)[::-1]
                            for name in order:
                                cpu = _cpu_seconds(pids[name])
                                load = _measure(
                                    f"{urls[name]}/{flow}", connections, args.duration, wrk_script
                                )
                                load.cpu_us = 1e6 * (_cpu_seconds(pids[name]) - cpu) / max(1, load.requests)
                                results[flow][connections][name].append(load)
                                print(
                                    f"round {round_index + 1} {flow:8} c={connections:<4} {name:8} "
                                    f"{load.rps:8.0f} req/s  p50 {load.p50_ms:7.2f} ms"
                                    f"  p99 {load.p99_ms:7.2f} ms"
                                    f"  cpu {load.cpu_us:6.0f} us/req  errors {load.errors}",
                                    flush=True,
                                )
    report = _report(results, loader="wrk" if wrk_script else "asyncio")
    print(report["table"])
    if args.json:
        args.json.write_text(json.dumps({k: v for k, v in report.items() if k != "table"}, indent=2))
    return 0


def _report(results: dict[str, dict[int, dict[str, list[Load]]]], *, loader: str) -> dict[str, Any]:
    rows = []
    lines = [
        f"\nmachine: {platform.processor() or platform.machine()}, python {platform.python_version()}, "
        f"load generator: {loader}; medians over rounds",
        "| flow | connections | baseline req/s | Baton req/s | throughput ratio | baseline p50/p99 ms "
        "| Baton p50/p99 ms | p99 delta ms | CPU per request, baseline / Baton |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for flow, by_load in results.items():
        for connections, runs in by_load.items():
            base, baton = runs["baseline"], runs["baton"]
            ratio = statistics.median(b.rps / a.rps for a, b in zip(base, baton, strict=True))
            delta = statistics.median(b.p99_ms - a.p99_ms for a, b in zip(base, baton, strict=True))
            row = {
                "flow": flow,
                "connections": connections,
                "baseline_rps": statistics.median(r.rps for r in base),
                "baton_rps": statistics.median(r.rps for r in baton),
                "throughput_ratio": ratio,
                "baseline_p50_ms": statistics.median(r.p50_ms for r in base),
                "baseline_p99_ms": statistics.median(r.p99_ms for r in base),
                "baton_p50_ms": statistics.median(r.p50_ms for r in baton),
                "baton_p99_ms": statistics.median(r.p99_ms for r in baton),
                "p99_delta_ms": delta,
                "baseline_cpu_us": statistics.median(r.cpu_us for r in base),
                "baton_cpu_us": statistics.median(r.cpu_us for r in baton),
                "errors": sum(r.errors for r in base + baton),
                "runs": {"baseline": [asdict(r) for r in base], "baton": [asdict(r) for r in baton]},
            }
            rows.append(row)
            lines.append(
                f"| {flow} | {connections} | {row['baseline_rps']:.0f} | {row['baton_rps']:.0f} "
                f"| {ratio:.2f}x "
                f"| {row['baseline_p50_ms']:.1f} / {row['baseline_p99_ms']:.1f} "
                f"| {row['baton_p50_ms']:.1f} / {row['baton_p99_ms']:.1f} | {delta:+.1f} "
                f"| {row['baseline_cpu_us']:.0f} / {row['baton_cpu_us']:.0f} µs |"
            )
    return {"rows": rows, "table": "\n".join(lines)}


if __name__ == "__main__":
    sys.exit(main())
