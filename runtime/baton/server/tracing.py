"""OpenTelemetry traces: a server span per run, a child span per task, a client span per call.

Configured by the standard ``OTEL_*`` environment variables (exporter endpoint, protocol,
headers, service name, resource attributes, sampler). Each call's client span context is what
the upstream receives as ``traceparent``, so upstream spans hang under the call that made them.

Nothing secret reaches a span: URLs lose their query and user info, every attribute, status
and event text taken from run data (URLs, hosts, paths, decisions, errors, payloads) is masked
by secret value with the engine's own ``Redactor`` (a secret substituted into a URI path would
otherwise reach ``url.full``), and task inputs and outputs are attached only when enabled
(``trace_payloads``), redacted and truncated.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from baton.engine import CallInfo, CallOutcome, RunInfo, RunResult, TaskRecord
from baton.engine.timeline import Redactor

__all__ = ["RunTracer", "Tracing", "tracing_from_env"]

_PROPAGATOR = TraceContextTextMapPropagator()
_PAYLOAD_LIMIT = 4096


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


def _safe_url(url: str, redactor: Redactor) -> str:
    parts = urlsplit(url)
    host = redactor.redact_text(parts.hostname or "")
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    path = redactor.redact_text(parts.path)
    # A path keeps reserved characters unescaped ("a/b c" reads "a/b%20c"), a spelling the
    # redactor does not know: compare decoded, and re-encode what was masked.
    decoded = unquote(path)
    masked = redactor.redact_text(decoded)
    if masked != decoded:
        path = quote(masked, safe="/*")
    return urlunsplit((parts.scheme, host, path, "", ""))


def _payload(value: Any, redactor: Redactor) -> str:
    text = redactor.redact_text(json.dumps(value, default=str, ensure_ascii=False))
    return text if len(text) <= _PAYLOAD_LIMIT else text[:_PAYLOAD_LIMIT] + "…"


class Tracing:
    """The tracer of one server, and how runs get theirs."""

    def __init__(
        self,
        provider: TracerProvider,
        *,
        trace_payloads: bool = False,
        secrets: Mapping[str, Any] | None = None,
    ) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("baton.server")
        self.trace_payloads = trace_payloads
        self.redactor = Redactor(() if secrets is None else secrets.values())

    def redact_secrets(self, secrets: Mapping[str, Any]) -> None:
        """Mask these secrets' values in every span text taken from run data.

        The server calls this with its run environment's secrets: every secret a run can read
        is one of them, so this masks at least what the engine masks in the run's timeline.
        """
        self.redactor = Redactor(secrets.values())

    def start_run(
        self,
        *,
        name: str,
        headers: Mapping[str, str],
        attributes: Mapping[str, Any],
    ) -> RunTracer:
        parent: Context = _PROPAGATOR.extract(headers)
        redact = self.redactor.redact
        span = self.tracer.start_span(
            self.redactor.redact_text(name),
            context=parent,
            kind=SpanKind.SERVER,
            attributes={attribute: redact(value) for attribute, value in attributes.items()},
        )
        return RunTracer(self, span)

    def shutdown(self) -> None:
        self.provider.shutdown()


class RunTracer:
    """The engine observer of one run: opens task and call spans under the run's server span."""

    __slots__ = ("_by_path", "_by_record", "_redactor", "_tracing", "span")

    def __init__(self, tracing: Tracing, span: Span) -> None:
        self._tracing = tracing
        self._redactor = tracing.redactor
        self.span = span
        self._by_path: dict[str, Span] = {}
        self._by_record: dict[int, Span] = {}

    @property
    def trace_id(self) -> str:
        return f"{self.span.get_span_context().trace_id:032x}"

    def _parent(self, path: str | None) -> Context:
        parent = self._by_path.get(path) if path is not None else None
        return trace.set_span_in_context(parent or self.span)

    def on_run_start(self, run: RunInfo) -> None:
        pass

    def on_task_start(self, record: TaskRecord) -> None:
        text = self._redactor.redact_text
        span = self._tracing.tracer.start_span(
            text(record.name),
            context=self._parent(record.parent),
            start_time=_ns(record.started_at),
            attributes={
                "baton.task.name": text(record.name),
                "baton.task.kind": record.kind,
                "baton.task.path": text(record.path),
            },
        )
        if self._tracing.trace_payloads:
            span.set_attribute("baton.task.input", _payload(record.input, self._redactor))
        self._by_path[record.path] = span
        self._by_record[id(record)] = span

    def on_task_end(self, record: TaskRecord) -> None:
        span = self._by_record.pop(id(record), None)
        if span is None:
            return
        text = self._redactor.redact_text
        span.set_attribute("baton.task.status", record.status)
        span.set_attribute("baton.task.attempts", record.attempts)
        if record.decision:
            span.set_attribute("baton.task.decision", text(json.dumps(record.decision, default=str)))
        if record.error:
            error_type = text(str(record.error.get("type", "")))
            span.set_attribute("error.type", error_type)
            title = text(str(record.error.get("title") or "")) or error_type
            span.set_status(Status(StatusCode.ERROR, title))
        elif self._tracing.trace_payloads and record.status == "completed":
            span.set_attribute("baton.task.output", _payload(record.output, self._redactor))
        span.end(end_time=None if record.ended_at is None else _ns(record.ended_at))

    def on_call_start(self, call: CallInfo) -> object:
        url = _safe_url(call.url, self._redactor)
        parts = urlsplit(call.url)
        attributes: dict[str, Any] = {
            "http.request.method": call.method,
            "url.full": url,
            "server.address": self._redactor.redact_text(parts.hostname or ""),
            "baton.task.path": self._redactor.redact_text(call.task),
        }
        if parts.port is not None:
            attributes["server.port"] = parts.port
        if call.timeout is not None:
            attributes["baton.call.timeout_ms"] = int(call.timeout * 1000)
        span = self._tracing.tracer.start_span(
            call.method, context=self._parent(call.task), kind=SpanKind.CLIENT, attributes=attributes
        )
        call.headers.pop("traceparent", None)
        call.headers.pop("tracestate", None)
        _PROPAGATOR.inject(call.headers, context=trace.set_span_in_context(span))
        return span

    def on_call_end(self, handle: object, outcome: CallOutcome) -> None:
        if not isinstance(handle, Span):
            return
        if outcome.status is not None:
            handle.set_attribute("http.response.status_code", outcome.status)
            if outcome.status >= 400:
                handle.set_attribute("error.type", str(outcome.status))
                handle.set_status(Status(StatusCode.ERROR))
        else:
            handle.set_attribute(
                "error.type", "timeout" if "timed out" in (outcome.error or "") else "transport"
            )
            handle.set_status(Status(StatusCode.ERROR))
        handle.end()

    def on_run_end(self, result: RunResult) -> None:
        text = self._redactor.redact_text
        for compensation in result.compensations:
            self.span.add_event(
                "compensation",
                {
                    "baton.compensation.task": text(compensation.compensated),
                    "baton.compensation.handler": text(compensation.handler),
                    "baton.compensation.status": compensation.status,
                },
            )

    def finish(self, *, outcome: str, status_code: int, error_type: str | None) -> None:
        self.span.set_attribute("baton.run.outcome", outcome)
        self.span.set_attribute("http.response.status_code", status_code)
        if error_type is not None:
            self.span.set_attribute("error.type", self._redactor.redact_text(error_type))
        if status_code >= 500:
            self.span.set_status(Status(StatusCode.ERROR))
        # Spans of tasks cut short (cancellation) must not stay open forever.
        for span in self._by_record.values():
            span.end()
        self._by_record.clear()
        self.span.end()


def _exporter_from_env(env: Mapping[str, str]) -> SpanExporter:
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    return HttpExporter()


def tracing_from_env(env: Mapping[str, str] | None = None) -> Tracing | None:
    """Tracing as the standard variables ask, or None when they ask for none.

    On when an OTLP endpoint is configured or ``OTEL_TRACES_EXPORTER=otlp``; off when
    ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none``. ``BATON_TRACE_PAYLOADS=true``
    adds (redacted, truncated) task inputs and outputs to task spans.
    """
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    exporter_name = env.get("OTEL_TRACES_EXPORTER", "").lower()
    if exporter_name == "none":
        return None
    configured = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if not configured and exporter_name != "otlp":
        return None
    provider = TracerProvider(
        resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", "baton")})
    )
    provider.add_span_processor(BatchSpanProcessor(_exporter_from_env(env)))
    # Secrets are bound by the server that uses it (Tracing.redact_secrets).
    return Tracing(provider, trace_payloads=env.get("BATON_TRACE_PAYLOADS", "").lower() == "true")
