"""Typed models of the whole Serverless Workflow DSL 1.0.3 schema, one module per concern."""

from __future__ import annotations

from pydantic import BaseModel

from baton.dsl.models import calls, document, tasks
from baton.dsl.models.authentication import *  # noqa: F403
from baton.dsl.models.authentication import __all__ as _authentication
from baton.dsl.models.calls import *  # noqa: F403
from baton.dsl.models.calls import __all__ as _calls
from baton.dsl.models.data import *  # noqa: F403
from baton.dsl.models.data import __all__ as _data
from baton.dsl.models.document import *  # noqa: F403
from baton.dsl.models.document import __all__ as _document
from baton.dsl.models.durations import *  # noqa: F403
from baton.dsl.models.durations import __all__ as _durations
from baton.dsl.models.endpoints import *  # noqa: F403
from baton.dsl.models.endpoints import __all__ as _endpoints
from baton.dsl.models.errors import *  # noqa: F403
from baton.dsl.models.errors import __all__ as _errors
from baton.dsl.models.events import *  # noqa: F403
from baton.dsl.models.events import __all__ as _events
from baton.dsl.models.retries import *  # noqa: F403
from baton.dsl.models.retries import __all__ as _retries
from baton.dsl.models.task_base import *  # noqa: F403
from baton.dsl.models.task_base import __all__ as _task_base
from baton.dsl.models.tasks import *  # noqa: F403
from baton.dsl.models.tasks import __all__ as _tasks

__all__ = [
    *_authentication,
    *_calls,
    *_data,
    *_document,
    *_durations,
    *_endpoints,
    *_errors,
    *_events,
    *_retries,
    *_task_base,
    *_tasks,
]


def _complete_forward_references() -> None:
    # Call models refer to SubscriptionIterator, which lives with the tasks it contains, and
    # the document's models to tasks; all are completed here, once, rather than lazily on a
    # first validation (which would then pay for it, possibly in two threads at once).
    namespace = {**vars(calls), **vars(tasks), **vars(document)}
    pending = [
        model
        for module in (calls, tasks, document)
        for model in vars(module).values()
        if isinstance(model, type)
        and issubclass(model, BaseModel)
        and model.__module__ == module.__name__
        and not model.__pydantic_complete__
    ]
    for model in pending:
        model.model_rebuild(_types_namespace=namespace)


_complete_forward_references()
