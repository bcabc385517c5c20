"""Phases 3-4: compile validated documents into executable graphs, and run them.

``compile_workflow(document)`` gives a ``CompiledWorkflow``; ``await compiled.run(input,
env=env)`` gives a ``RunResult`` (status, output, problem-details error, timeline). See
``docs/engine.md`` for the contract, the extensions (join policies, compensation) and limits.
"""

from baton.engine.catalog import Catalog
from baton.engine.clock import Clock, FakeClock, SystemClock
from baton.engine.compensation import COMPENSATE_KEY
from baton.engine.compiled import CompiledWorkflow, RunHandle, RunResult, RunStatus
from baton.engine.compiler import compile_workflow, pointer_to_path
from baton.engine.environment import RunEnvironment
from baton.engine.errors import (
    ERROR_TYPE_BASE,
    AuthenticationError,
    AuthorizationError,
    CommunicationError,
    CompileError,
    ConfigurationError,
    ExpressionFault,
    LimitExceeded,
    RuntimeFault,
    TimeoutFault,
    ValidationFault,
    WorkflowError,
)
from baton.engine.events import EventSink, EventSource, InMemoryEventSink, Subscription
from baton.engine.http import AiohttpTransport, Http1Transport, HttpResponse, HttpTransport, TransportError
from baton.engine.joins import JOIN_KEY, QUORUM_KEY
from baton.engine.limits import Limits
from baton.engine.observers import CallInfo, CallOutcome, RunInfo, RunObserver
from baton.engine.tasks.call_http import DEADLINE_HEADER
from baton.engine.timeline import REDACTED, CompensationRecord, TaskRecord, Timeline

__all__ = [
    "COMPENSATE_KEY",
    "DEADLINE_HEADER",
    "ERROR_TYPE_BASE",
    "JOIN_KEY",
    "QUORUM_KEY",
    "REDACTED",
    "AiohttpTransport",
    "AuthenticationError",
    "AuthorizationError",
    "CallInfo",
    "CallOutcome",
    "Catalog",
    "Clock",
    "CommunicationError",
    "CompensationRecord",
    "CompileError",
    "CompiledWorkflow",
    "ConfigurationError",
    "EventSink",
    "EventSource",
    "ExpressionFault",
    "FakeClock",
    "Http1Transport",
    "HttpResponse",
    "HttpTransport",
    "InMemoryEventSink",
    "LimitExceeded",
    "Limits",
    "RunEnvironment",
    "RunHandle",
    "RunInfo",
    "RunObserver",
    "RunResult",
    "RunStatus",
    "RuntimeFault",
    "Subscription",
    "SystemClock",
    "TaskRecord",
    "Timeline",
    "TimeoutFault",
    "TransportError",
    "ValidationFault",
    "WorkflowError",
    "compile_workflow",
    "pointer_to_path",
]
