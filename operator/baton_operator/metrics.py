"""The operator's own Prometheus metrics (served by ``main`` on the metrics port)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "API_REQUESTS",
    "IS_LEADER",
    "RECONCILES",
    "RECONCILE_SECONDS",
    "SCRAPES",
    "STATUS_WRITES",
]

RECONCILES = Counter("baton_operator_reconciles", "Workflow reconciliations by result.", ["result"])
RECONCILE_SECONDS = Histogram("baton_operator_reconcile_duration_seconds", "Time to reconcile one Workflow.")
API_REQUESTS = Counter(
    "baton_operator_api_requests", "Kubernetes API requests by method and status code.", ["method", "code"]
)
SCRAPES = Counter(
    "baton_operator_summary_scrapes", "Run summary scrapes of runtime pods by result.", ["result"]
)
STATUS_WRITES = Counter(
    "baton_operator_status_writes", "Workflow status writes, by what caused them.", ["cause"]
)
IS_LEADER = Gauge("baton_operator_leader", "1 while this replica holds the leader Lease.")
