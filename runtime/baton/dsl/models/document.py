"""The workflow document: its header, reusable components, tasks, timeout, output and schedule."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import PrivateAttr, WrapSerializer, model_validator

from baton.dsl.models._base import DnsName, Model, SemVer
from baton.dsl.models.authentication import AuthenticationPolicy
from baton.dsl.models.data import Input, Output
from baton.dsl.models.durations import Duration, Timeout, TimeoutOrReference
from baton.dsl.models.endpoints import Catalog
from baton.dsl.models.errors import Error
from baton.dsl.models.events import EventConsumptionStrategy
from baton.dsl.models.retries import RetryPolicy
from baton.dsl.models.tasks import Task, TaskList, _single_entry, entries

__all__ = ["Document", "DocumentInfo", "Evaluate", "Extension", "ExtensionItem", "Schedule", "Use"]


class DocumentInfo(Model):
    """The ``document`` header: which workflow this is and which DSL version it is written in."""

    dsl: SemVer
    namespace: DnsName
    name: DnsName
    version: SemVer
    title: str | None = None
    summary: str | None = None
    tags: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


class Extension(Model):
    extend: Literal[
        "call", "composite", "emit", "for", "listen", "raise", "run", "set", "switch", "try", "wait", "all"
    ]  # fmt: skip
    when: str | None = None
    before: TaskList | None = None
    after: TaskList | None = None


class ExtensionItem(Model):
    """One ``- name: extension`` entry of ``use.extensions``."""

    name: str
    extension: Extension

    @model_validator(mode="before")
    @classmethod
    def _from_entry(cls, value: Any) -> Any:
        name, body = _single_entry(value, "extension")
        return {"name": name, "extension": body}


class Use(Model):
    """Reusable components, referenced by name from tasks."""

    authentications: dict[str, AuthenticationPolicy] | None = None
    errors: dict[str, Error] | None = None
    extensions: Annotated[list[ExtensionItem], WrapSerializer(entries)] | None = None
    functions: dict[str, Task] | None = None
    retries: dict[str, RetryPolicy] | None = None
    secrets: list[str] | None = None
    timeouts: dict[str, Timeout] | None = None
    catalogs: dict[str, Catalog] | None = None


class Schedule(Model):
    every: Duration | None = None
    cron: str | None = None
    after: Duration | None = None
    on: EventConsumptionStrategy | None = None


class Evaluate(Model):
    """How runtime expressions are told apart and run (``dsl-reference.md``; not in the 1.0.3 schema).

    ``strict``: only strings wholly in ``${ }`` are expressions. ``loose``: every string is
    tried as one, and stands for itself when it is not.
    """

    language: str = "jq"
    mode: Literal["strict", "loose"] = "strict"


class Document(Model):
    """A whole Serverless Workflow DSL 1.0 document.

    Unknown top-level keys are rejected although the schema tolerates them: at the top of a
    document an unknown key is almost always a misspelt ``do`` or ``use``, and ignoring it
    would silently drop the author's tasks.
    """

    document: DocumentInfo
    input: Input | None = None
    use: Use | None = None
    do: TaskList
    timeout: TimeoutOrReference | None = None
    output: Output | None = None
    schedule: Schedule | None = None
    evaluate: Evaluate | None = None

    _raw: dict[str, Any] | None = PrivateAttr(default=None)

    @property
    def raw(self) -> dict[str, Any]:
        """The plain data the document was validated from (JSON types only)."""
        if self._raw is None:
            self._raw = self.model_dump(mode="json", exclude_unset=True)
        return self._raw

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Document:
        """Validate plain data (``raises pydantic.ValidationError``) and keep it as ``raw``."""
        document = cls.model_validate(raw)
        document._raw = raw
        return document
