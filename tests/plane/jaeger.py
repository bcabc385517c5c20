"""Jaeger v2 for tests: in-memory store, OTLP gRPC and HTTP receivers, the query HTTP API.

Everything listens on free loopback ports. `Jaeger.existing()` wraps one the user already runs,
given by BATON_JAEGER_QUERY_URL (and optionally BATON_JAEGER_OTLP_GRPC_ENDPOINT / _HTTP_ENDPOINT).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.plane import _build
from tests.plane._procs import ManagedProcess, StartupError, free_port, wait_until

__all__ = ["Jaeger", "LocalJaeger"]

Trace = dict[str, Any]


@dataclass
class Jaeger:
    """Where to send spans and where to read them back.

    `otlp_grpc_endpoint` and `otlp_http_endpoint` are base URLs in the form OTEL_EXPORTER_OTLP_ENDPOINT
    takes (the HTTP exporter given a URL directly needs `otlp_http_traces_url`).
    """

    otlp_grpc_endpoint: str
    otlp_http_endpoint: str
    query_url: str
    local: bool
    startup_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def otlp_http_traces_url(self) -> str:
        return f"{self.otlp_http_endpoint}/v1/traces"

    def exporter_env(self, protocol: str = "grpc") -> dict[str, str]:
        """OTel SDK environment for a child process exporting to this Jaeger."""
        endpoint = self.otlp_grpc_endpoint if protocol == "grpc" else self.otlp_http_endpoint
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc" if protocol == "grpc" else "http/protobuf",
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
        }

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        url = f"{self.query_url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            exc.close()  # an error response still holds its socket
            raise

    def services(self) -> list[str]:
        return list(self._get("/api/services").get("data") or [])

    def traces(
        self,
        service: str,
        *,
        operation: str | None = None,
        tags: dict[str, str] | None = None,
        lookback: str = "1h",
        limit: int = 50,
    ) -> list[Trace]:
        """Traces of `service` as Jaeger's query API returns them (spans, processes, references)."""
        params = {"service": service, "lookback": lookback, "limit": str(limit)}
        if operation:
            params["operation"] = operation
        if tags:
            params["tags"] = json.dumps(tags)
        return list(self._get("/api/traces", params).get("data") or [])

    def get_trace(self, trace_id: str) -> Trace:
        data = self._get(f"/api/traces/{trace_id}").get("data") or []
        if not data:
            raise LookupError(f"trace {trace_id} not found in Jaeger at {self.query_url}")
        return dict(data[0])

    def find_trace(
        self,
        service: str,
        *,
        operation: str | None = None,
        tags: dict[str, str] | None = None,
        where: Callable[[Trace], bool] | None = None,
        timeout: float = 15.0,
    ) -> Trace:
        """Poll until a trace of `service` matching the filters is stored (spans arrive batched)."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            try:
                found = self.traces(service, operation=operation, tags=tags)
            except OSError:
                found = []
            seen = len(found)
            for trace in found:
                if where is None or where(trace):
                    return trace
            if time.monotonic() >= deadline:
                raise LookupError(
                    f"no trace of service {service!r} (operation={operation!r}, tags={tags!r}) matched "
                    f"within {timeout:.0f}s; {seen} trace(s) of that service seen; "
                    f"services: {self._services_or_error()}"
                )
            time.sleep(0.25)

    def _services_or_error(self) -> str:
        try:
            return ", ".join(self.services()) or "none"
        except OSError as exc:
            return f"unavailable ({exc})"

    @classmethod
    def existing(cls, query_url: str) -> Jaeger:
        host = urllib.parse.urlsplit(query_url).hostname or "127.0.0.1"
        grpc = os.environ.get("BATON_JAEGER_OTLP_GRPC_ENDPOINT", f"http://{host}:4317")
        http = os.environ.get("BATON_JAEGER_OTLP_HTTP_ENDPOINT", f"http://{host}:4318")
        return cls(
            otlp_grpc_endpoint=grpc, otlp_http_endpoint=http, query_url=query_url.rstrip("/"), local=False
        )


def _config(*, grpc: int, http: int, query: int, query_grpc: int) -> dict[str, Any]:
    return {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query"],
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["batch"],
                    "exporters": ["jaeger_storage_exporter"],
                }
            },
            # No self-telemetry: the collector's metrics endpoint would take a fixed port.
            "telemetry": {"metrics": {"level": "none"}, "logs": {"level": "info"}},
        },
        "extensions": {
            "jaeger_storage": {"backends": {"memstore": {"memory": {"max_traces": 100000}}}},
            "jaeger_query": {
                "storage": {"traces": "memstore"},
                "enable_tracing": False,
                "http": {"endpoint": f"127.0.0.1:{query}"},
                "grpc": {"endpoint": f"127.0.0.1:{query_grpc}"},
            },
        },
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"127.0.0.1:{grpc}"},
                    "http": {"endpoint": f"127.0.0.1:{http}"},
                }
            }
        },
        "processors": {"batch": {"timeout": "100ms"}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "memstore"}},
    }


class LocalJaeger:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.binary = _build.locate("jaeger", "jaeger")
        self.proc: ManagedProcess | None = None

    def start(self, *, timeout: float = 60.0) -> Jaeger:
        try:
            return self._start_once(timeout)
        except StartupError as exc:
            # Another process took a port between free_port() and the bind: once more, fresh ports.
            if "address already in use" not in str(exc).lower():
                raise
        return self._start_once(timeout)

    def _start_once(self, timeout: float) -> Jaeger:
        self.workdir.mkdir(parents=True, exist_ok=True)
        grpc, http, query, query_grpc = free_port(), free_port(), free_port(), free_port()
        config = self.workdir / "jaeger.yaml"
        config.write_text(yaml.safe_dump(_config(grpc=grpc, http=http, query=query, query_grpc=query_grpc)))
        self.proc = ManagedProcess("jaeger", [str(self.binary), f"--config={config}"], log_dir=self.workdir)
        jaeger = Jaeger(
            otlp_grpc_endpoint=f"http://127.0.0.1:{grpc}",
            otlp_http_endpoint=f"http://127.0.0.1:{http}",
            query_url=f"http://127.0.0.1:{query}",
            local=True,
        )
        try:
            jaeger.startup_seconds["jaeger"] = wait_until(
                "query API", lambda: isinstance(jaeger.services(), list), proc=self.proc, timeout=timeout
            )
            # The receivers open after the query extension on some versions; wait for both ports.
            wait_until(
                "OTLP receivers",
                lambda: _listening(grpc) and _listening(http),
                proc=self.proc,
                timeout=timeout,
            )
        except BaseException:
            self.stop()
            raise
        return jaeger

    def dead(self) -> list[str]:
        if self.proc is not None and not self.proc.alive():
            return [f"jaeger (exit {self.proc.proc.returncode}, log {self.proc.log_path})"]
        return []

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


def _listening(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0
