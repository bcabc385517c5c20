"""OpenTelemetry traces: a server span per run, a child span per task, a client span per call.

Configured by the standard ``OTEL_*`` environment variables (exporter endpoint, protocol,
headers, service name, resource attributes, sampler). Each call's client span context is what
the upstream receives as ``traceparent``, so upstream spans hang under the call that made them.

Nothing secret reaches a span: URLs lose their query and user info, every attribute, status
and event text taken from run data (URLs, hosts, paths, decisions, errors, payloads) is masked
by secret value with the engine's own ``Redactor`` (a secret substituted into a URI path would
otherwise reach ``url.full``), and task inputs and outputs are attached only when enabled
(``trace_payloads``), redacted and truncated.

Why no span is a live SDK span: one costs about 20 µs to open and close (sampler, context
objects, attribute validation under a lock, one ``set_attribute`` per late attribute), and a run
has one per task and call, all inside the request. Each span of a run is instead built once,
when it ends, as the finished ``ReadableSpan`` the SDK's tracer would have handed to the span
processors: ids from the provider's id generator, its resource, the span limits of the
``OTEL_*_LIMIT`` variables, and the sampler's decision, taken once per run on the server span
(the parent-based samplers, the default, give every child its parent's decision; the others
decide by trace id, the same for the whole trace). Not done, as the SDK would: processors'
``on_start`` (the batch processor's does nothing) and the SDK's opt-in self-metrics.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import SplitResult, quote, unquote, urlsplit, urlunsplit

from opentelemetry import trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import (
    Event,
    ReadableSpan,
    SpanLimits,
    SpanProcessor,
    SynchronousMultiSpanProcessor,
    TracerProvider,
)
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from baton.engine import CallInfo, CallOutcome, RunInfo, RunResult, TaskRecord
from baton.engine.timeline import Redactor

__all__ = ["RunTracer", "Tracing", "tracing_from_env"]

_PROPAGATOR = TraceContextTextMapPropagator()
_PAYLOAD_LIMIT = 4096
_SCOPE_NAME = "baton.server"
_UNSET = Status(StatusCode.UNSET)
_ERROR = Status(StatusCode.ERROR)
_INTERNAL = SpanKind.INTERNAL
_CLIENT = SpanKind.CLIENT
#: The W3C "random trace id" flag where the API knows it (as the SDK's tracer sets it).
_RANDOM_TRACE_ID = int(getattr(TraceFlags, "RANDOM_TRACE_ID", 0))


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


def _host(parts: SplitResult, redactor: Redactor) -> str:
    """The URL's host, secrets masked: looked for as written, since ``hostname`` lowercases."""
    written = parts.netloc.rpartition("@")[2]
    if parts.port is not None:
        written = written.rpartition(":")[0]
    written = written.removeprefix("[").removesuffix("]")
    masked = redactor.redact_text(written)
    return masked.lower() if masked != written else redactor.redact_text(parts.hostname or "")


def _safe_url(url: str, redactor: Redactor) -> str:
    parts = urlsplit(url)
    host = _host(parts, redactor)
    if ":" in host:  # an IPv6 address keeps its brackets in a URL
        host = f"[{host}]"
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


#: How many target URLs a server remembers the span attributes of (most flows call a few fixed ones).
_URL_CACHE_SIZE = 1024
#: How many task names and paths a server remembers masked (its definitions' tasks, mostly).
_NAME_CACHE_SIZE = 4096


def _url_attributes(url: str, redactor: Redactor) -> tuple[str, str, int | None]:
    """``url.full``, ``server.address`` and ``server.port`` of a call to ``url``, secrets masked."""
    parts = urlsplit(url)
    return _safe_url(url, redactor), _host(parts, redactor), parts.port


def _payload(value: Any, redactor: Redactor) -> str:
    text = redactor.redact_text(json.dumps(value, default=str, ensure_ascii=False))
    return text if len(text) <= _PAYLOAD_LIMIT else text[:_PAYLOAD_LIMIT] + "…"


class _HashedResource(Resource):
    """The provider's resource, hashed once.

    The OTLP encoder groups every span by its resource, and ``Resource.__hash__`` serializes all
    resource attributes to JSON each time: about 6 µs per span on the exporter's thread.
    """

    def __init__(self, source: Resource) -> None:
        super().__init__(source.attributes, source.schema_url)
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash


class Tracing:
    """The tracer of one server, and how runs get theirs.

    ``processor`` is the span processor the provider's tracers hand ended spans to (the
    ``active_span_processor`` it was made with): every span of a run goes to it, ended.
    """

    def __init__(
        self,
        provider: TracerProvider,
        *,
        processor: SpanProcessor,
        trace_payloads: bool = False,
        secrets: Mapping[str, Any] | None = None,
    ) -> None:
        self.provider = provider
        self.processor = processor
        self.trace_payloads = trace_payloads
        self.redactor = Redactor(() if secrets is None else secrets.values())
        self._urls: dict[str, tuple[str, str, int | None]] = {}
        self._names: dict[str, str] = {}
        # What the provider's tracers put on every span: the same scope, resource and limits.
        self._scope = InstrumentationScope(_SCOPE_NAME, "")
        self._source: Resource | None = None
        self._resource: Resource = provider.resource
        self._limits = SpanLimits()  # from the OTEL_*_LIMIT variables, as the provider's own
        #: Attribute values are cut only when a length limit is set (none by default).
        self._cuts_values = self._limits.max_span_attribute_length is not None
        self._max_attributes = self._limits.max_span_attributes

    def redact_secrets(self, secrets: Mapping[str, Any]) -> None:
        """Mask these secrets' values in every span text taken from run data.

        The server calls this with its run environment's secrets: every secret a run can read
        is one of them, so this masks at least what the engine masks in the run's timeline.
        """
        self.redactor = Redactor(secrets.values())
        self._urls = {}
        self._names = {}

    def masked_name(self, name: str) -> str:
        """A name from a definition (task name or path, route), secrets masked, remembered.

        Masking searches every spelling of every secret; a definition's names are few and come
        back in every run. Run data (errors, decisions, ids) is masked afresh each time.
        """
        found = self._names.get(name)
        if found is None:
            if len(self._names) >= _NAME_CACHE_SIZE:
                self._names.clear()
            found = self._names[name] = self.redactor.redact_text(name)
        return found

    def url_attributes(self, url: str) -> tuple[str, str, int | None]:
        """``_url_attributes`` of ``url``, remembered: parsing and masking a URL costs ~8 µs."""
        found = self._urls.get(url)
        if found is None:
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
            found = self._urls[url] = _url_attributes(url, self.redactor)
        return found

    @property
    def resource(self) -> Resource:
        source = self.provider.resource  # a new object only when the provider's changes (fork)
        if source is not self._source:
            self._resource = source if isinstance(source, _HashedResource) else _HashedResource(source)
            self._source = source
        return self._resource

    def start_run(
        self,
        *,
        name: str,
        headers: Mapping[str, str],
        attributes: Mapping[str, Any],
    ) -> RunTracer:
        """The run's tracer, its server span started now, as the SDK's tracer would start it.

        The provider's sampler decides once, here, for every span of the run: the parent-based
        samplers (the default) give children their parent's decision, and the others decide by
        trace id, the same for the whole trace.
        """
        context = _PROPAGATOR.extract(headers)
        parent: SpanContext | None = trace.get_current_span(context).get_span_context()
        ids = self.provider.id_generator
        if parent is None or not parent.is_valid:
            parent = None
            trace_id = ids.generate_trace_id()
            # (An SDK older than the W3C "random" flag has no such method: say not random.)
            random_id = bool(getattr(ids, "is_trace_id_random", bool)())
        else:
            trace_id = parent.trace_id
            random_id = bool(parent.trace_flags & _RANDOM_TRACE_ID)
        span_name = self.masked_name(name)
        redact = self.redactor.redact
        run_attributes = {attribute: redact(value) for attribute, value in attributes.items()}
        sampling = self.provider.sampler.should_sample(
            context, trace_id, span_name, SpanKind.SERVER, run_attributes, ()
        )
        flags = TraceFlags.SAMPLED if sampling.decision is Decision.RECORD_AND_SAMPLE else TraceFlags.DEFAULT
        if random_id:
            flags |= _RANDOM_TRACE_ID
        own = SpanContext(trace_id, ids.generate_span_id(), False, TraceFlags(flags), sampling.trace_state)
        if sampling.decision is Decision.DROP:
            return RunTracer(self, own)
        return _RecordingRunTracer(self, own, parent, span_name, dict(sampling.attributes))

    def shutdown(self) -> None:
        self.provider.shutdown()


class RunTracer:
    """The engine observer of one run that is not recorded: its calls still carry its trace.

    It has only ``on_call_start``, so the engine skips every other event of the run (hooks are
    found per class). A recorded run gets the subclass that builds spans.
    """

    __slots__ = ("_new_id", "_traceparent", "_tracestate", "context")

    def __init__(self, tracing: Tracing, context: SpanContext) -> None:
        self.context = context
        self._new_id = tracing.provider.id_generator.generate_span_id
        # traceparent is "00-<trace id>-<span id>-<flags>"; only the span id differs per call.
        self._traceparent = (f"00-{context.trace_id:032x}-", f"-{context.trace_flags:02x}")
        self._tracestate = context.trace_state.to_header() if context.trace_state else None

    @property
    def trace_id(self) -> str:
        return f"{self.context.trace_id:032x}"

    def _propagate(self, headers: dict[str, str], span_id: int) -> None:
        headers.pop("traceparent", None)
        headers.pop("tracestate", None)
        prefix, suffix = self._traceparent
        headers["traceparent"] = f"{prefix}{span_id:016x}{suffix}"
        if self._tracestate:
            headers["tracestate"] = self._tracestate

    def on_call_start(self, call: CallInfo) -> object:
        # As the SDK does for a span not recorded: a fresh id, the run's flags.
        self._propagate(call.headers, self._new_id())
        return None

    def finish(self, *, outcome: str, status_code: int, error_type: str | None) -> None:
        pass


class _Call:
    """A client span in flight: what ``on_call_end`` needs to build it."""

    __slots__ = ("attributes", "context", "parent", "start")

    def __init__(
        self, context: SpanContext, parent: SpanContext, start: int, attributes: dict[str, Any]
    ) -> None:
        self.context = context
        self.parent = parent
        self.start = start
        self.attributes = attributes


class _RecordingRunTracer(RunTracer):
    """The engine observer of a recorded run: task and call spans under the run's server span."""

    __slots__ = (
        "_attributes",
        "_by_path",
        "_events",
        "_finished",
        "_name",
        "_open",
        "_parent_context",
        "_redactor",
        "_resource",
        "_start",
        "_tracing",
    )

    def __init__(
        self,
        tracing: Tracing,
        context: SpanContext,
        parent: SpanContext | None,
        name: str,
        attributes: dict[str, Any],
    ) -> None:
        super().__init__(tracing, context)
        self._tracing = tracing
        self._redactor = tracing.redactor
        self._resource = tracing.resource
        self._parent_context = parent
        self._name = name
        self._attributes = attributes
        self._start = time.time_ns()
        self._events: list[Event] = []
        #: Context of the latest span of each task path: the parent of what runs inside it.
        self._by_path: dict[str, SpanContext] = {}
        #: Tasks started and not yet ended, by record identity.
        self._open: dict[int, tuple[TaskRecord, SpanContext, SpanContext]] = {}
        self._finished = False

    def _child_context(self) -> SpanContext:
        run = self.context
        return SpanContext(run.trace_id, self._new_id(), False, run.trace_flags, run.trace_state)

    def _parent(self, path: str | None) -> SpanContext:
        parent = self._by_path.get(path) if path is not None else None
        return parent or self.context

    def _emit(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: dict[str, Any],
        status: Status,
        start: int,
        end: int,
        events: Sequence[Event] = (),
    ) -> None:
        tracing = self._tracing
        limited: Mapping[str, Any] = attributes
        most = tracing._max_attributes
        if tracing._cuts_values or (most is not None and len(attributes) > most):
            limits = tracing._limits
            limited = BoundedAttributes(
                limits.max_span_attributes, attributes, max_value_len=limits.max_span_attribute_length
            )
        span = ReadableSpan(
            name=name,
            context=context,
            parent=parent,
            resource=self._resource,
            attributes=limited,
            events=events,
            kind=kind,
            status=status,
            start_time=start,
            end_time=end,
            instrumentation_scope=tracing._scope,
        )
        tracing.processor.on_end(span)

    def on_run_start(self, run: RunInfo) -> None:
        pass

    def on_task_start(self, record: TaskRecord) -> None:
        context = self._child_context()
        self._by_path[record.path] = context
        self._open[id(record)] = (record, context, self._parent(record.parent))

    def on_task_end(self, record: TaskRecord) -> None:
        opened = self._open.pop(id(record), None)
        if opened is not None:
            self._end_task(*opened, ended=True)

    def _end_task(
        self, record: TaskRecord, context: SpanContext, parent: SpanContext, *, ended: bool
    ) -> None:
        text = self._redactor.redact_text
        payloads = self._tracing.trace_payloads
        masked_name = self._tracing.masked_name
        name = masked_name(record.name)
        attributes: dict[str, Any] = {
            "baton.task.name": name,
            "baton.task.kind": record.kind,
            "baton.task.path": masked_name(record.path),
        }
        if payloads:
            attributes["baton.task.input"] = _payload(record.input, self._redactor)
        status = _UNSET
        if ended:
            attributes["baton.task.status"] = record.status
            attributes["baton.task.attempts"] = record.attempts
            if record.decision:
                attributes["baton.task.decision"] = text(json.dumps(record.decision, default=str))
            if record.error:
                error_type = text(str(record.error.get("type", "")))
                attributes["error.type"] = error_type
                title = text(str(record.error.get("title") or "")) or error_type
                status = Status(StatusCode.ERROR, title)
            elif payloads and record.status == "completed":
                attributes["baton.task.output"] = _payload(record.output, self._redactor)
        end = time.time_ns() if not ended or record.ended_at is None else _ns(record.ended_at)
        self._emit(name, context, parent, _INTERNAL, attributes, status, _ns(record.started_at), end)

    def on_call_start(self, call: CallInfo) -> object:
        url, host, port = self._tracing.url_attributes(call.url)
        attributes: dict[str, Any] = {
            "http.request.method": call.method,
            "url.full": url,
            "server.address": host,
            "baton.task.path": self._tracing.masked_name(call.task),
        }
        if port is not None:
            attributes["server.port"] = port
        if call.timeout is not None:
            attributes["baton.call.timeout_ms"] = int(call.timeout * 1000)
        context = self._child_context()
        self._propagate(call.headers, context.span_id)
        return _Call(context, self._parent(call.task), time.time_ns(), attributes)

    def on_call_end(self, handle: object, outcome: CallOutcome) -> None:
        if not isinstance(handle, _Call):
            return
        attributes = handle.attributes
        status = _UNSET
        if outcome.status is not None:
            attributes["http.response.status_code"] = outcome.status
            if outcome.status >= 400:
                attributes["error.type"] = str(outcome.status)
                status = _ERROR
        else:
            attributes["error.type"] = "timeout" if "timed out" in (outcome.error or "") else "transport"
            status = _ERROR
        method = attributes["http.request.method"]
        end = time.time_ns()
        self._emit(method, handle.context, handle.parent, _CLIENT, attributes, status, handle.start, end)

    def on_run_end(self, result: RunResult) -> None:
        text = self._redactor.redact_text
        limits = self._tracing._limits
        for compensation in result.compensations:
            attributes = {
                "baton.compensation.task": text(compensation.compensated),
                "baton.compensation.handler": text(compensation.handler),
                "baton.compensation.status": compensation.status,
            }
            bounded = BoundedAttributes(
                limits.max_event_attributes, attributes, max_value_len=limits.max_attribute_length
            )
            self._events.append(Event("compensation", bounded))

    def finish(self, *, outcome: str, status_code: int, error_type: str | None) -> None:
        if self._finished:
            return
        self._finished = True
        attributes = self._attributes
        attributes["baton.run.outcome"] = outcome
        attributes["http.response.status_code"] = status_code
        if error_type is not None:
            attributes["error.type"] = self._redactor.redact_text(error_type)
        # Spans of tasks cut short (cancellation) must not stay open forever.
        for opened in self._open.values():
            self._end_task(*opened, ended=False)
        self._open.clear()
        events: Sequence[Event] = self._events
        max_events = self._tracing._limits.max_events
        if max_events is not None and len(events) > max_events:
            events = BoundedList.from_seq(max_events, events)  # keeps the latest, counts the rest
        status = _ERROR if status_code >= 500 else _UNSET
        self._emit(
            self._name,
            self.context,
            self._parent_context,
            SpanKind.SERVER,
            attributes,
            status,
            self._start,
            time.time_ns(),
            events,
        )


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

    ``env`` decides only these, the protocol and the service name: the exporter (endpoint,
    headers, TLS, timeout, compression), the sampler, the span limits and the batch processor
    read the process environment, as the SDK always does.
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
    # The provider's own processor, kept: task and call spans are handed to it directly.
    processor = SynchronousMultiSpanProcessor()  # type: ignore[no-untyped-call]  # SDK leaves it unannotated
    provider = TracerProvider(
        # Hashed once, and the very object on the server span too: spans of one resource group
        # by identity in the encoder instead of comparing every attribute.
        resource=_HashedResource(Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", "baton")})),
        active_span_processor=processor,
    )
    provider.add_span_processor(BatchSpanProcessor(_exporter_from_env(env)))
    # Secrets are bound by the server that uses it (Tracing.redact_secrets).
    return Tracing(
        provider,
        processor=processor,
        trace_payloads=env.get("BATON_TRACE_PAYLOADS", "").lower() == "true",
    )
