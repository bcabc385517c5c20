"""Spans exported with the OpenTelemetry SDK's OTLP exporters come back through Jaeger's query API."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.plane.jaeger import Jaeger

pytestmark = pytest.mark.plane


def _exporter(jaeger: Jaeger, protocol: str) -> Any:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter(endpoint=jaeger.otlp_grpc_endpoint, insecure=True)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    return HttpExporter(endpoint=jaeger.otlp_http_traces_url)


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_a_span_exported_over_otlp_is_found_through_the_query_api(jaeger: Jaeger, protocol: str) -> None:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    service = f"plane-test-{protocol}-{uuid.uuid4().hex[:8]}"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(_exporter(jaeger, protocol)))
    tracer = provider.get_tracer("tests.plane")
    with tracer.start_as_current_span("run") as parent:
        parent.set_attribute("baton.workflow", "order-flow")
        with tracer.start_as_current_span("call fetch-user"):
            pass
    trace_id = format(parent.get_span_context().trace_id, "032x")
    assert provider.force_flush(10_000)
    provider.shutdown()

    found = jaeger.find_trace(service, operation="run", tags={"baton.workflow": "order-flow"})
    assert found["traceID"] == trace_id
    spans = {s["operationName"]: s for s in jaeger.get_trace(trace_id)["spans"]}
    assert set(spans) == {"run", "call fetch-user"}
    child_refs = spans["call fetch-user"]["references"]
    assert [(r["refType"], r["spanID"]) for r in child_refs] == [("CHILD_OF", spans["run"]["spanID"])]
    assert service in jaeger.services()


def test_find_trace_names_the_service_it_could_not_find(jaeger: Jaeger) -> None:
    with pytest.raises(LookupError, match="no trace of service 'never-sent'"):
        jaeger.find_trace("never-sent", timeout=0.5)
