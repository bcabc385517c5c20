"""``python -m baton_operator``: wait for the leader Lease, then run the Kopf handlers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Iterator, Sequence

import aiohttp
import kopf
from aiohttp import web
from prometheus_client import start_http_server

from baton_operator.config import OperatorConfig
from baton_operator.handlers import register
from baton_operator.kube import Kube, load_configuration
from baton_operator.leader import LeaseElector
from baton_operator.reconcile import Context
from baton_operator.scrape import load_resolver

__all__ = ["main", "run"]

log = logging.getLogger("baton_operator")

#: A pod's summary must answer quickly: a slow pod is skipped this round, never waited on.
_SCRAPE_TIMEOUT = aiohttp.ClientTimeout(total=3)


async def run(
    config: OperatorConfig, *, kubeconfig: str | None = None, stop: asyncio.Event | None = None
) -> int:
    stop = stop or asyncio.Event()
    async with (
        _health(config.health_port),
        Kube(load_configuration(kubeconfig)) as kube,
        aiohttp.ClientSession(timeout=_SCRAPE_TIMEOUT) as http,
    ):
        ctx = Context(kube=kube, config=config, http=http, resolver=load_resolver(config.target_resolver))
        elector = None
        renewing: asyncio.Task[bool] | None = None
        if config.leader_election:
            elector = LeaseElector(
                kube, name=config.lease_name, namespace=config.lease_namespace, identity=config.identity
            )
            loop = asyncio.get_running_loop()
            with _signals(loop, stop):
                if not await elector.acquire(stop):
                    return 0
            renewing = asyncio.create_task(elector.keep(stop))
        registry = kopf.OperatorRegistry()
        register(registry, status_interval=config.status_interval)
        try:
            await kopf.operator(
                registry=registry,
                clusterwide=not config.namespaces,
                namespaces=config.namespaces,
                standalone=True,
                stop_flag=stop,
                memo=kopf.Memo(ctx=ctx),
            )
        finally:
            # Leadership lost (not a signal) ends the process with 1, so its Deployment restarts
            # it as a candidate instead of leaving a replica that believes it still leads.
            lost = renewing is not None and renewing.done() and not renewing.cancelled() and renewing.result()
            if renewing is not None:
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing
            if elector is not None and not lost:
                await elector.release()
        return 1 if lost else 0


@contextlib.asynccontextmanager
async def _health(port: int) -> AsyncIterator[None]:
    """``/healthz`` for the whole process, standby included: a replica waiting for the Lease is
    healthy, and must not be restarted by its liveness probe (Kopf's own endpoint starts only
    with Kopf, that is, only on the leader)."""
    if not port:
        yield
        return

    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    app = web.Application()
    app.router.add_get("/healthz", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


@contextlib.contextmanager
def _signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> Iterator[None]:
    """SIGTERM/SIGINT stop the wait for the Lease; Kopf installs its own once it runs."""

    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="baton-operator", description="Reconcile Baton Workflows and Policies."
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, then $KUBECONFIG)")
    parser.add_argument("--verbose", action="store_true", help="debug logs")
    parser.add_argument("--log-format", choices=["json", "plain"], default="json")
    args = parser.parse_args(argv)
    try:
        config = OperatorConfig.from_env()
    except ValueError as exc:
        print(f"baton-operator: {exc}", file=sys.stderr)
        return 2
    kopf.configure(
        verbose=args.verbose,
        log_format=kopf.LogFormat.JSON if args.log_format == "json" else kopf.LogFormat.PLAIN,
    )
    if not args.verbose:
        # Kopf reports every successful timer tick at INFO: one line per workflow per interval.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    if config.metrics_port:
        start_http_server(config.metrics_port)
    try:
        return asyncio.run(run(config, kubeconfig=args.kubeconfig))
    except KeyboardInterrupt:
        return 130
