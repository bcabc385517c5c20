"""What Baton executes. THE one place to change when the engine learns a new kind of task.

Everything else in the DSL is still validated; a document using something listed as
unsupported is reported at validate time ("not supported by Baton", severity
``unsupported``) so that nothing fails mid-run.
"""

from __future__ import annotations

__all__ = [
    "DYNAMIC_DURATIONS",
    "EVENT_CORRELATION",
    "EXTERNAL_SCHEMAS",
    "LISTEN_FOREACH",
    "SUPPORTED_AUTHENTICATIONS",
    "SUPPORTED_CALLS",
    "SUPPORTED_PROCESSES",
    "SUPPORTED_TASKS",
    "UNSUPPORTED_DOCUMENT_FEATURES",
    "is_supported",
]

#: Task kinds (the key naming the kind). ``call`` and ``run`` are refined below.
SUPPORTED_TASKS = frozenset(
    {"call", "do", "emit", "for", "fork", "listen", "raise", "run", "set", "switch", "try", "wait"}
)
#: ``listen`` waits for events emitted in the same runtime; these parts of it are not run yet.
LISTEN_FOREACH = False
EVENT_CORRELATION = False
#: ``call:`` protocols. A call of a function in ``use.functions`` is supported when the
#: function itself is a supported task.
SUPPORTED_CALLS = frozenset({"http", "openapi"})
#: ``run:`` processes: a sub-workflow from the same catalog of loaded documents.
SUPPORTED_PROCESSES = frozenset({"workflow"})
#: Authentication schemes of ``call: http`` endpoints.
SUPPORTED_AUTHENTICATIONS = frozenset({"basic", "bearer", "oauth2", "oidc"})
#: Whether durations other than ``wait``'s may be runtime expressions (timeouts, retry delays...).
DYNAMIC_DURATIONS = False
#: Whether ``input``/``output``/``export`` schemas may be fetched (``schema.resource``).
EXTERNAL_SCHEMAS = False
#: Top-level and ``use`` features with no runtime behind them yet, and why that matters.
UNSUPPORTED_DOCUMENT_FEATURES = {
    "schedule": "scheduled runs are not supported by Baton (runs start from requests)",
    "use.extensions": "extensions are not supported by Baton",
    "use.catalogs": "catalogs are not supported by Baton (functions must be in use.functions)",
}


def is_supported(kind: str, detail: str | None = None) -> bool:
    """Whether Baton runs a task of ``kind`` (``call``/``run`` with their protocol or process)."""
    if kind not in SUPPORTED_TASKS:
        return False
    if kind == "call":
        return detail is None or detail in SUPPORTED_CALLS
    if kind == "run":
        return detail in SUPPORTED_PROCESSES
    return True
