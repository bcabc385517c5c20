"""The HTTP server: one aiohttp application serving every loaded endpoint plus inspection.

The request path, in order: exact route lookup, correlation, version choice, intake (before any
upstream call), deadline, idempotency, then the run (or 202 and a background run), then the
answer by the output contract or problem+json. Everything a reload may change is read once at
the start of a request through the current ``Router``, so a run finishes on the version it
started with while a reload swaps the router under it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from baton.engine import Http1Transport, Limits, RunEnvironment, RuntimeFault
from baton.json_text import JsonTextError
from baton.server import health, inspection_views, output
from baton.server.correlation import REQUEST_ID_HEADER, RUN_ID_HEADER, Correlation, new_run_id
from baton.server.deadlines import DeadlineError, deadline_for
from baton.server.definitions import Definition, RunReport
from baton.server.flows import FlowBuilder, run_result_of
from baton.server.idempotency import (
    IDEMPOTENCY_HEADER,
    Claimed,
    Conflict,
    IdempotencyStore,
    InMemoryIdempotencyStore,
    StoredResponse,
    fingerprint,
)
from baton.server.inspection import RunRecord, RunStore
from baton.server.intake import IntakeError
from baton.server.metrics import Metrics
from baton.server.policies import PolicyDenied, PolicyOutcome
from baton.server.protocol_log import protocol_logger
from baton.server.reload import Registry, ReloadResult, watch
from baton.server.responses import (
    ERROR_TYPES,
    Problem,
    json_response,
    problem_for_error,
    problem_response,
)
from baton.server.routing import VERSION_HEADER, Router
from baton.server.tracing import RunTracer, Tracing

__all__ = ["Server", "ServerConfig"]

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]

log = logging.getLogger("baton.server")

_ASYNC_PREFERENCE = "respond-async"
#: aiohttp's transport high-water mark: an answer up to this size is taken without waiting.
_SOCKET_BUFFERED = 64 * 1024
_IDEMPOTENCY_KEY_MAX = 255


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    #: Finished runs kept for ``GET /runs`` (runs in flight are always kept).
    history: int = 1000
    #: Seconds between checks of the definition files; 0 disables watching.
    reload_interval: float = 1.0
    #: Seconds in-flight runs get to finish after shutdown starts.
    grace_period: float = 30.0
    #: Task and call metrics need an engine observer per run; off saves its cost per task.
    task_metrics: bool = True
    #: Pooled connections to upstreams (all hosts) of the environment the server makes itself.
    #: A fan-out multiplies client concurrency, so the engine's default would queue calls.
    upstream_connections: int = 1024
    #: Seconds an upstream connection may sit idle in the pool before it is closed. Keep it
    #: under the upstreams' own keep-alive timeout: a POST sent on a connection the upstream
    #: is closing fails (only idempotent requests are sent again).
    upstream_idle_timeout: float = 15.0
    #: Seconds a request's body may take to arrive once its head has. A client that stalls
    #: mid-body is answered 408 and its connection closed: otherwise it holds a handler, its
    #: buffer and a connection for as long as it likes (nginx's client_body_timeout is 60 s).
    body_timeout: float = 30.0
    #: Seconds a client may take to read an answer too large for the socket buffers. A client
    #: that stops reading is cut off: otherwise the answer (up to the payload limit) and the
    #: connection stay held for as long as it likes. Answers under 64 KiB never wait on it.
    send_timeout: float = 60.0
    #: Serve `/runs...` and `/metrics` on this port only (same host), so that the public
    #: endpoint does not expose other clients' run data. None: everything on the main port.
    admin_port: int | None = None


def _problem(status: int, title: str, detail: str, *, kind: str | None = None) -> Problem:
    return Problem(
        status=status, title=title, type=ERROR_TYPES + kind if kind else "about:blank", detail=detail
    )


class Server:
    """Serves the Workflow manifests found under ``paths``."""

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        config: ServerConfig | None = None,
        env: RunEnvironment | None = None,
        limits: Limits | None = None,
        idempotency: IdempotencyStore | None = None,
        tracing: Tracing | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config or ServerConfig()
        self.env = env or RunEnvironment(
            transport=Http1Transport(
                connection_limit=self.config.upstream_connections,
                idle_timeout=self.config.upstream_idle_timeout,
            )
        )
        self._owns_env = env is None
        self.builder = FlowBuilder(self.env, limits=limits)
        self.registry = Registry(paths, factory=self.builder.build, secrets=self.env.secrets)
        self.router = Router()
        self.idempotency = InMemoryIdempotencyStore() if idempotency is None else idempotency
        self.tracing = tracing
        if tracing is not None:
            tracing.redact_secrets(self.env.secrets)  # spans carry run data: mask what runs may read
        self.metrics = Metrics() if metrics is None else metrics
        self.runs = RunStore(capacity=self.config.history)
        self.accepting = True
        self._background: set[asyncio.Task[Any]] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._runner: web.ServerRunner | None = None
        self._admin_runner: web.ServerRunner | None = None
        #: The bound admin port once started (useful with admin_port=0).
        self.admin_port: int | None = None
        self._secret_values: tuple[str, ...] = tuple(_secret_strings(self.env.secrets))
        self._admin = self._admin_handlers()
        self._show_run = inspection_views.show_run(self)
        # With an admin port, run data and metrics are served there only; probes answer on both.
        self._admin_here = self.config.admin_port is None
        self._public = (
            self._admin if self._admin_here else {path: self._admin[path] for path in ("/healthz", "/readyz")}
        )
        self._web_server = web.Server(self._dispatch, logger=protocol_logger())

    # -- definitions ------------------------------------------------------------------------

    def load(self) -> ReloadResult:
        """(Re)load the definition files and serve what is valid; the result names what is not.

        Quiet: the caller reports the result (``baton serve`` prints refusals like
        ``baton validate``); reloads found by the file watcher are logged.
        """
        result = self.registry.load()
        self._swap(result)
        return result

    def _swap(self, result: ReloadResult) -> None:
        self.router = result.router
        self.metrics.definitions.labels().set(len(result.router.definitions))
        self.metrics.reloads.labels("refused" if result.problems else "applied").inc()

    def _apply(self, result: ReloadResult) -> None:
        self._swap(result)
        for problem in result.problems:
            log.error("definition refused: %s", problem)
        if result.changed:
            served = ", ".join(f"{d.name}@{d.version}" for d in result.router.definitions) or "nothing"
            log.info("definitions loaded from %d changed file(s); serving %s", len(result.changed), served)

    # -- application ------------------------------------------------------------------------

    def _admin_handlers(self) -> dict[str, Handler]:
        return {
            "/healthz": health.healthz(self),
            "/readyz": health.readyz(self),
            "/metrics": health.metrics(self),
            "/runs": inspection_views.list_runs(self),
            "/runs/summary": inspection_views.summary(self),
        }

    async def _dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        # aiohttp's low-level server with this exact-match dispatch instead of an Application:
        # endpoints change on reload (an Application's router is frozen once started), and the
        # URL dispatcher's per-request work is measurable against a request path this short.
        path = request.path
        handler = self._public.get(path)
        if handler is None and self._admin_here and path.startswith("/runs/"):
            handler = self._show_run
        if handler is None:
            response = await self._endpoint(request)
        else:
            response = await self._admin_request(request, handler)
        return await self._send_large(request, response)

    async def _admin_dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        handler = self._admin.get(path)
        if handler is None and path.startswith("/runs/"):
            handler = self._show_run
        if handler is None:
            return problem_response(_problem(404, "Not Found", f"{path} is not an admin path"))
        return await self._send_large(request, await self._admin_request(request, handler))

    async def _send_large(self, request: web.BaseRequest, response: web.StreamResponse) -> web.StreamResponse:
        """Write an answer that may wait on the client's reading, under ``send_timeout``.

        aiohttp writes an answer after the handler returns and waits, without a bound, for a
        client that does not read. A small answer goes straight into the socket buffers, so only
        a large one is written here, where it can be bounded; aiohttp then finds it sent.
        """
        body = response.body if isinstance(response, web.Response) else None
        if not isinstance(body, bytes | bytearray) or len(body) <= _SOCKET_BUFFERED:
            return response
        try:
            async with asyncio.timeout(self.config.send_timeout):
                await response.prepare(request)
                await response.write_eof()
        except TimeoutError:
            log.info(
                "a client did not read a %d-byte answer to %s within %gs; its connection is closed",
                len(body),
                request.path,
                self.config.send_timeout,
            )
            if request.transport is not None:
                request.transport.abort()
        return response

    async def _admin_request(self, request: web.BaseRequest, handler: Handler) -> web.StreamResponse:
        path = request.path
        if request.method not in ("GET", "HEAD"):
            return problem_response(
                _problem(405, "Method Not Allowed", f"{path} accepts GET"), headers={"Allow": "GET, HEAD"}
            )
        return await handler(request)

    async def _endpoint(self, request: web.BaseRequest) -> web.StreamResponse:
        router = self.router
        route = router.match(request.method, request.path)
        if route is None:
            if router.knows_path(request.path):
                allowed = sorted(m for (m, p) in router.routes if p == request.path)
                return problem_response(
                    _problem(405, "Method Not Allowed", f"{request.path} accepts {', '.join(allowed)}"),
                    headers={"Allow": ", ".join(allowed)},
                )
            return problem_response(_problem(404, "Not Found", f"no workflow is served at {request.path}"))
        correlation = Correlation.from_headers(request.headers)
        headers = {REQUEST_ID_HEADER: correlation.request_id}
        if not self.accepting:
            headers["Connection"] = "close"
            return problem_response(
                _problem(503, "Service Unavailable", "the server is shutting down; retry on another replica"),
                headers=headers,
            )
        requested = request.headers.get(VERSION_HEADER)
        selection = route.select(requested)
        if selection is None:
            return problem_response(
                _problem(404, "Not Found", f"version {requested!r} of workflow {route.name!r} is not served"),
                headers=headers,
            )
        definition = selection.definition
        headers[VERSION_HEADER] = definition.version
        outcomes: tuple[PolicyOutcome, ...] = ()
        if definition.gate is not None:
            try:
                outcomes = definition.gate.check(request.headers, request.remote)
            except PolicyDenied as denied:
                self.metrics.refused.labels(definition.name, denied.outcomes[-1].check).inc()
                headers.update(denied.headers)
                return problem_response(denied.problem, headers=headers)
        try:
            async with asyncio.timeout(self.config.body_timeout):
                data, raw = await definition.intake.read(request)
            deadline = deadline_for(request.headers, timeout_seconds=definition.manifest.spec.timeout_seconds)
        except TimeoutError:
            self.metrics.refused.labels(definition.name, "body-timeout").inc()
            detail = f"the request body did not arrive within {self.config.body_timeout:g}s"
            problem = _problem(408, "Request Timeout", detail, kind="timeout")
            refusal = problem_response(problem, headers=headers)
            # The rest of the body may still come, so the connection cannot carry another request:
            # it closes once aiohttp has drained what arrives of the body (its lingering time,
            # 10 s) - not at once, which would reset the connection under the answer.
            refusal.force_close()
            return refusal
        except IntakeError as exc:
            self.metrics.refused.labels(definition.name, "intake").inc()
            return problem_response(exc.problem, headers=headers)
        except DeadlineError as exc:
            self.metrics.refused.labels(definition.name, "deadline").inc()
            return problem_response(
                _problem(400, "Invalid request", str(exc), kind="validation"), headers=headers
            )
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return await self._run(
                request, definition, selection.routed_by, data, deadline, correlation, headers, outcomes
            )
        if not 0 < len(key) <= _IDEMPOTENCY_KEY_MAX or not key.isprintable():
            return problem_response(
                _problem(
                    400,
                    "Invalid request",
                    f"{IDEMPOTENCY_HEADER} must be 1-{_IDEMPOTENCY_KEY_MAX} printable characters",
                    kind="validation",
                ),
                headers=headers,
            )
        scoped = f"{route.method} {route.path}\n{key}"
        print_ = fingerprint(request.method, request.path, (requested or "").encode() + b"\n" + raw)
        claim = await self.idempotency.claim(scoped, print_)
        if isinstance(claim, StoredResponse):
            return web.Response(status=claim.status, headers=list(claim.headers), body=claim.body)
        if isinstance(claim, Conflict):
            return problem_response(
                _problem(
                    422,
                    "Unprocessable Content",
                    f"{IDEMPOTENCY_HEADER} {key!r} was already used for a different request",
                ),
                headers=headers,
            )
        assert isinstance(claim, Claimed)
        try:
            response = await self._run(
                request, definition, selection.routed_by, data, deadline, correlation, headers, outcomes
            )
        except BaseException:
            await self.idempotency.release(scoped)
            raise
        if response.status == 503 and headers.get("Connection") == "close":
            await self.idempotency.release(scoped)  # cancelled by shutdown: a retry must run again
        else:
            await self.idempotency.complete(
                scoped,
                StoredResponse(response.status, tuple(response.headers.items()), bytes(response.body or b"")),  # type: ignore[arg-type]
                ttl=definition.manifest.spec.idempotency.ttl_seconds,
            )
        return response

    async def _run(
        self,
        request: web.BaseRequest,
        definition: Definition,
        routed_by: str,
        data: Any,
        deadline: float | None,
        correlation: Correlation,
        headers: dict[str, str],
        outcomes: tuple[PolicyOutcome, ...] = (),
    ) -> web.Response:
        run_id = new_run_id()
        headers[RUN_ID_HEADER] = run_id
        record = RunRecord(
            run_id=run_id,
            workflow=definition.name,
            version=definition.version,
            routed_by=routed_by,
            request_id=correlation.request_id,
            trace_id=correlation.trace_id,
            started_at=time.time(),
            started_monotonic=time.monotonic(),
            policies=outcomes,
        )
        tracer = None
        if self.tracing is not None:
            tracer = self.tracing.start_run(
                name=f"{request.method} {definition.endpoint.path}",
                headers=request.headers,
                attributes={
                    "http.request.method": request.method,
                    "http.route": definition.endpoint.path,
                    "url.path": request.path,
                    "baton.workflow": definition.name,
                    "baton.version": definition.version,
                    "baton.routed_by": routed_by,
                    "baton.run_id": run_id,
                    "baton.request_id": correlation.request_id,
                    "baton.policies": [f"{o.policy}:{o.check}:allowed" for o in outcomes],
                },
            )
            record.trace_id = tracer.trace_id
        self.runs.started(record)
        if _ASYNC_PREFERENCE in request.headers.get("Prefer", ""):
            task = asyncio.create_task(
                self._execute(definition, data, deadline, correlation, record, tracer, dict(headers))
            )
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            location = f"/runs/{run_id}"
            headers["Location"] = location
            headers["Preference-Applied"] = _ASYNC_PREFERENCE
            return json_response(
                {"id": run_id, "outcome": "running", "location": location}, status=202, headers=headers
            )
        return await self._execute(definition, data, deadline, correlation, record, tracer, headers)

    async def _execute(
        self,
        definition: Definition,
        data: Any,
        deadline: float | None,
        correlation: Correlation,
        record: RunRecord,
        tracer: RunTracer | None,
        headers: dict[str, str],
    ) -> web.Response:
        per_version = self.metrics.for_version(definition.name, definition.version)
        observers: list[Any] = []
        if self.config.task_metrics:
            observers.append(per_version)
        if tracer is not None:
            observers.append(tracer)
        per_version.in_flight.inc()
        report: RunReport
        try:
            report = await definition.flow.run(
                data,
                run_id=record.run_id,
                deadline=deadline,
                call_headers=correlation.call_headers(),
                observers=observers,
                # The intake checked the input against the same inline schema, formats included.
                input_validated=True,
            )
        except asyncio.CancelledError:
            report = RunReport("cancelled")
            self._finish(definition, record, report, None, tracer, per_version)
            raise
        except Exception:
            log.exception(
                "run %s of %s@%s failed inside the server", record.run_id, definition.name, definition.version
            )
            report = RunReport("faulted")
        finally:
            per_version.in_flight.dec()
        problem = self._problem_of(definition, report, headers)
        if problem is None:
            try:
                response = (
                    output.envelope_response(report.output, headers)
                    if definition.endpoint.output == "envelope"
                    else json_response(report.output, headers=headers)
                )
            except JsonTextError as exc:
                # The readers refuse NaN, Infinity and unpaired surrogates at every door, but a
                # value handed in through the Python API (a secret, an embedding's environment)
                # still can reach the output: the run faults rather than answer invalid JSON.
                report = _unwritable_output(report, exc)
                problem = self._problem_of(definition, report, headers)
        if problem is not None:
            response = problem_response(problem, headers=headers)
        record.problem = problem
        self._finish(definition, record, report, response, tracer, per_version)
        return response

    def _problem_of(
        self, definition: Definition, report: RunReport, headers: dict[str, str]
    ) -> Problem | None:
        if report.status == "completed":
            return None
        if report.status == "cancelled":
            headers["Connection"] = "close"
            return _problem(503, "Service Unavailable", "the run was cancelled")
        if report.error is None:
            return _problem(500, "Internal Server Error", "The run failed.", kind="runtime")
        return problem_for_error(report.error, secrets=self._secret_values)

    def _finish(
        self,
        definition: Definition,
        record: RunRecord,
        report: RunReport,
        response: web.Response | None,
        tracer: RunTracer | None,
        per_version: Any,
    ) -> None:
        record.outcome = report.status
        record.report = report
        record.ended_at = time.time()
        record.duration = time.monotonic() - record.started_monotonic
        record.status_code = 503 if response is None else response.status
        if report.status == "completed":
            record.output = report.output
        self.runs.finished(record)
        per_version.outcomes[report.status].inc()
        per_version.duration.observe(record.duration)
        if self.config.task_metrics:
            result = run_result_of(report)
            if result is not None:
                per_version.tasks_ended(result)
        if tracer is not None:
            error_type = None if report.error is None else report.error.type
            tracer.finish(outcome=report.status, status_code=record.status_code, error_type=error_type)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 8080) -> int:
        """Start serving; returns the bound port (useful with port 0)."""
        if not self.router.definitions and not self.registry.problems:
            self.load()
        self._runner = web.ServerRunner(
            self._web_server, access_log=None, shutdown_timeout=self.config.grace_period, handle_signals=False
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        if self.config.reload_interval > 0:
            self._watcher = asyncio.create_task(
                watch(self.registry, self._apply, interval=self.config.reload_interval)
            )
        if self.config.admin_port is not None:
            admin_server = web.Server(self._admin_dispatch, logger=protocol_logger())
            self._admin_runner = web.ServerRunner(
                admin_server, access_log=None, shutdown_timeout=1.0, handle_signals=False
            )
            await self._admin_runner.setup()
            admin_site = web.TCPSite(self._admin_runner, host, self.config.admin_port, reuse_address=True)
            await admin_site.start()
            self.admin_port = _bound_port(admin_site, self.config.admin_port)
        return _bound_port(site, port)

    @property
    def in_flight(self) -> int:
        return self.runs.in_flight

    async def _drain_background(self) -> None:
        # Async runs (202) are not request handlers: aiohttp's own grace does not wait for them.
        if self._background:
            _, pending = await asyncio.wait(set(self._background), timeout=self.config.grace_period)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    async def stop(self) -> None:
        """Graceful shutdown: refuse new runs, let in-flight runs finish within the grace period."""
        self.accepting = False
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
        background = asyncio.create_task(self._drain_background())
        if self._runner is not None:
            # Closes the listener, then waits (up to the grace period) for requests in flight.
            await self._runner.cleanup()
            self._runner = None
        await background
        if self._admin_runner is not None:
            await self._admin_runner.cleanup()
            self._admin_runner = None
        if self._owns_env:
            await self.env.aclose()
        if self.tracing is not None:
            # The exporter blocks while it sends; off the loop, so a receiver on it can answer.
            await asyncio.to_thread(self.tracing.provider.force_flush)


def _unwritable_output(report: RunReport, exc: JsonTextError) -> RunReport:
    error = RuntimeFault(
        f"the workflow output cannot be written as JSON: {exc}", title="Output not JSON", instance="/output"
    )
    return RunReport("faulted", error=error, timeline=report.timeline, redact=report.redact)


def _bound_port(site: web.TCPSite, asked: int) -> int:
    sockets = getattr(site._server, "sockets", None) or ()
    return int(sockets[0].getsockname()[1]) if sockets else asked


def _secret_strings(secrets: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    stack: list[Any] = list(secrets.values())
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            out.append(str(value))
    return out
