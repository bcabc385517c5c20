"""The runtime HTTP server: serves Workflow manifests as endpoints.

``Server(paths)`` loads Workflow manifests from files and folders and serves each endpoint with
intake checks, idempotency, correlation, deadlines, run inspection, metrics and traces; see
``docs/server.md`` for the HTTP contract.
"""

from baton.server.app import Server, ServerConfig
from baton.server.errors import DefinitionError, DefinitionProblem, ServerError
from baton.server.idempotency import IdempotencyStore, InMemoryIdempotencyStore, StoredResponse
from baton.server.metrics import Metrics
from baton.server.tracing import Tracing, tracing_from_env

__all__ = [
    "DefinitionError",
    "DefinitionProblem",
    "IdempotencyStore",
    "InMemoryIdempotencyStore",
    "Metrics",
    "Server",
    "ServerConfig",
    "ServerError",
    "StoredResponse",
    "Tracing",
    "tracing_from_env",
]
