"""The shape of ``Workflow.status``: the CRD's status schema is generated from these models.

The operator writes plain dicts; tests check every status it writes against these models, so
what is written is what the apiserver keeps (a structural schema prunes unknown fields).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["WorkflowStatus"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StatusCondition(_Model):
    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str
    observed_generation: int | None = Field(default=None, alias="observedGeneration")
    last_transition_time: str = Field(alias="lastTransitionTime", json_schema_extra={"format": "date-time"})


class HistoryEntry(_Model):
    revision: str
    version: str
    config_map: str = Field(alias="configMap")
    generation: int
    deployed_at: str = Field(alias="deployedAt", json_schema_extra={"format": "date-time"})


class CanaryStatus(_Model):
    version: str
    weight: int


class ReplicaStatus(_Model):
    desired: int
    updated: int
    ready: int
    available: int


class RunReference(_Model):
    id: str
    version: str | None = None
    outcome: str | None = None
    trace_id: str | None = Field(default=None, alias="traceId")
    started_at: str | None = Field(default=None, alias="startedAt")
    ended_at: str | None = Field(default=None, alias="endedAt")
    duration_ms: float | None = Field(default=None, alias="durationMs")
    error_type: str | None = Field(default=None, alias="errorType")


class RunSummary(_Model):
    total: int
    failed: int
    p50_ms: float | None = Field(default=None, alias="p50Ms")
    p95_ms: float | None = Field(default=None, alias="p95Ms")
    last_run: RunReference | None = Field(default=None, alias="lastRun")
    last_failures: list[RunReference] = Field(default_factory=list, alias="lastFailures")
    #: Per-pod counters the next refresh continues from (see ``baton_operator.summary``).
    ledger: dict[str, Any] = Field(default_factory=dict)
    #: Pods whose summary could not be read at the last refresh, and why.
    scrape_problems: list[str] = Field(default_factory=list, alias="scrapeProblems")


class WorkflowStatus(_Model):
    observed_generation: int | None = Field(default=None, alias="observedGeneration")
    conditions: list[StatusCondition] = Field(default_factory=list)
    #: The revision serving now: the last generation that was valid and rendered.
    revision: str | None = None
    version: str | None = None
    endpoint: str | None = None
    canary: CanaryStatus | None = None
    replicas: ReplicaStatus | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    runs: RunSummary | None = None
