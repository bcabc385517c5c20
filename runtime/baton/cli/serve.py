"""``baton serve PATH... [--host --port]``: serve Workflow manifests as HTTP endpoints.

Exit codes: 0 after a graceful shutdown (SIGTERM/SIGINT); 2 when a definition is refused at
start (the same messages as ``baton validate``) or the command line is wrong. Once serving, a
refused change is logged and the previous definition keeps serving.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import sys
from pathlib import Path
from typing import Any

from baton import dsl
from baton.engine import Http1Transport, RunEnvironment
from baton.server import Server, ServerConfig, tracing_from_env
from baton.server.lifecycle import settle_heap, stop_on_signals

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve Workflow manifests as HTTP endpoints",
        description="Serve Workflow manifests (files or folders) as HTTP endpoints; reload on change.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="manifest file or folder")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    parser.add_argument(
        "--admin-port",
        type=int,
        help="serve /runs and /metrics on this port only (probes answer on both); default: the main port",
    )
    parser.add_argument(
        "--reload-interval",
        type=float,
        default=1.0,
        help="seconds between file checks; 0 disables (default: 1)",
    )
    parser.add_argument(
        "--grace-period",
        type=float,
        default=30.0,
        help="seconds in-flight runs get on shutdown (default: 30)",
    )
    parser.add_argument(
        "--history", type=int, default=1000, help="finished runs kept for /runs (default: 1000)"
    )
    parser.add_argument("--secrets", type=Path, help="JSON/YAML file mapping secret names to values")
    parser.add_argument(
        "--secrets-dir",
        type=Path,
        help="folder of mounted Kubernetes Secrets: DIR/<secret>/<key> files become $secrets.<secret>.<key>",
    )
    parser.add_argument(
        "--map-host",
        action="append",
        default=[],
        metavar="HOST=URL",
        help="send requests for HOST to URL instead (e.g. users.internal=http://127.0.0.1:9001)",
    )
    parser.add_argument(
        "--upstream-connections", type=int, default=1024, help="pooled upstream connections (default: 1024)"
    )
    parser.add_argument(
        "--upstream-idle-timeout",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="close upstream connections idle this long, under the upstreams' keep-alive (default: 15)",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="answer 408 and close when a request body takes longer to arrive (default: 30)",
    )
    parser.add_argument(
        "--send-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="close the connection of a client that takes longer to read a large answer (default: 60)",
    )
    parser.add_argument("--no-task-metrics", action="store_true", help="skip per-task and per-call metrics")
    parser.set_defaults(func=_main)


def _fail(message: str) -> int:
    print(f"baton serve: {message}", file=sys.stderr)
    return 2


def _secrets(args: argparse.Namespace) -> dict[str, Any]:
    secrets: dict[str, Any] = {}
    if args.secrets is not None:
        # The reader of the manifests (YAML 1.2, bounded), so ``on``/``yes`` stay the strings written.
        try:
            found = dsl.read_documents(args.secrets, origin=str(args.secrets))
        except dsl.DocumentError as exc:
            raise ValueError(f"cannot read --secrets: {exc}") from exc
        loaded = found[0] if len(found) == 1 else None
        if not isinstance(loaded, dict):
            raise ValueError("--secrets must hold an object of names to values")
        secrets.update(loaded)
    if args.secrets_dir is not None:
        if not args.secrets_dir.is_dir():
            raise ValueError(f"--secrets-dir {args.secrets_dir} is not a folder")
        for folder in sorted(
            p for p in args.secrets_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
        ):
            secrets[folder.name] = {
                f.name: f.read_text().strip()
                for f in sorted(folder.iterdir())
                if f.is_file() and not f.name.startswith(".")
            }
    return secrets


def _host_map(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for mapping in values:
        host, sep, url = mapping.partition("=")
        if not sep or not host or not url.startswith(("http://", "https://")):
            raise ValueError(f"--map-host expects HOST=http(s)://..., got {mapping!r}")
        out[host] = url
    return out


def _main(args: argparse.Namespace) -> int:
    try:
        secrets = _secrets(args)
        host_map = _host_map(args.map_host)
    except ValueError as exc:
        return _fail(str(exc))
    for flag in ("upstream_idle_timeout", "body_timeout", "send_timeout"):
        value = getattr(args, flag)
        if not 0 < value < math.inf:
            option = "--" + flag.replace("_", "-")
            return _fail(f"{option} must be a positive number of seconds, got {value}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = ServerConfig(
        history=args.history,
        reload_interval=args.reload_interval,
        grace_period=args.grace_period,
        task_metrics=not args.no_task_metrics,
        upstream_connections=args.upstream_connections,
        upstream_idle_timeout=args.upstream_idle_timeout,
        body_timeout=args.body_timeout,
        send_timeout=args.send_timeout,
        admin_port=args.admin_port,
    )
    return asyncio.run(_serve(args, config, secrets, host_map))


async def _serve(
    args: argparse.Namespace, config: ServerConfig, secrets: dict[str, Any], host_map: dict[str, str]
) -> int:
    transport = Http1Transport(
        host_map=host_map,
        connection_limit=config.upstream_connections,
        idle_timeout=config.upstream_idle_timeout,
    )
    env = RunEnvironment(secrets=secrets, transport=transport)
    tracing = tracing_from_env()
    server = Server(args.paths, config=config, env=env, tracing=tracing)
    result = server.load()
    if result.problems or not result.router.definitions:
        for problem in result.problems:
            print(problem, file=sys.stderr)
        if not result.problems:
            print("baton serve: no Workflow manifests found", file=sys.stderr)
        await env.aclose()
        return 2
    try:
        port = await server.start(args.host, args.port)
    except OSError as exc:
        await env.aclose()
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror}")
    print(
        json.dumps(
            {
                "listening": f"http://{args.host}:{port}",
                "admin": None if server.admin_port is None else f"http://{args.host}:{server.admin_port}",
                "serving": [
                    {
                        "method": d.endpoint.method,
                        "path": d.endpoint.path,
                        "workflow": d.name,
                        "version": d.version,
                    }
                    for d in result.router.definitions
                ],
            }
        ),
        flush=True,
    )
    settle_heap()
    stop = asyncio.Event()
    stop_on_signals(stop)
    await stop.wait()
    logging.getLogger("baton.server").info("shutting down; %d run(s) in flight", server.in_flight)
    await server.stop()
    await env.aclose()
    if tracing is not None:
        await asyncio.to_thread(tracing.shutdown)
    return 0
