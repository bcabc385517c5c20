"""What a run did, task by task: the record the CLI prints, tests assert and observers trace.

Records are cheap to make (slots, no copies): inputs and outputs are kept by reference (the
engine never mutates values) and redacted only when read, so a run that nobody inspects pays
nothing for redaction. Redaction is by value: any string holding a secret's value is masked
wherever it flowed to.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, Final
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "CompensationRecord", "Redactor", "TaskRecord", "Timeline"]

REDACTED: Final = "***"


def _spellings(secret: str) -> set[str]:
    """How a secret reads once it has flowed into a message: as it is, JSON-escaped (jq's and
    JSON's error texts quote values) and percent-encoded (URI templates, query strings)."""
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
    }


class Redactor:
    """Masks every occurrence of a secret value inside strings of a JSON-like value."""

    __slots__ = ("_exact", "_needles")

    def __init__(self, secrets: Iterable[Any] = ()) -> None:
        exact: set[str] = set()
        needles: set[str] = set()
        for leaf in _leaves(secrets):
            text = leaf if isinstance(leaf, str) else str(leaf)
            if not text:
                continue
            # Very short values would mask ordinary words; they are masked only as whole strings.
            if len(text) >= 4:
                needles.update(_spellings(text))
            else:
                exact.add(text)
        self._exact = frozenset(exact)
        self._needles = tuple(sorted(needles, key=len, reverse=True))

    def __bool__(self) -> bool:
        return bool(self._exact or self._needles)

    def redact(self, value: Any) -> Any:
        if not self:
            return value
        try:
            return self._walk(value)
        except RecursionError:
            # A jq expression can build data nested past the interpreter's stack; it must still
            # be masked (and shown) rather than break whoever reads the record.
            return self._walk_deep(value)

    def _walk_deep(self, value: Any) -> Any:
        """``_walk`` without recursion: slower, so only for values too deep for ``_walk``."""
        root: list[Any] = [None]
        stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
        while stack:
            item, parent, slot = stack.pop()
            if isinstance(item, dict):
                copy: dict[Any, Any] = {}
                parent[slot] = copy
                for key, child in item.items():
                    masked = self._walk(key) if isinstance(key, str) else key
                    copy[masked] = None  # keeps the keys' order; filled when popped
                    stack.append((child, copy, masked))
            elif isinstance(item, list):
                items: list[Any] = [None] * len(item)
                parent[slot] = items
                stack.extend((child, items, i) for i, child in enumerate(item))
            else:
                parent[slot] = self._walk(item)
        return root[0]

    def redact_text(self, text: str) -> str:
        return str(self._walk(text)) if self else text

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            if value in self._exact:
                return REDACTED
            for needle in self._needles:
                if needle in value:
                    value = value.replace(needle, REDACTED)
            return value
        if isinstance(value, dict):
            return {self._walk(k): self._walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = str(value)
            if text in self._exact or text in self._needles:
                return REDACTED
        return value


def _leaves(values: Iterable[Any]) -> Iterator[Any]:
    for value in values:
        if isinstance(value, dict):
            yield from _leaves(value.values())
        elif isinstance(value, list):
            yield from _leaves(value)
        elif value is not None and not isinstance(value, bool):
            yield value


class TaskRecord:
    """One execution of one task (a retried task keeps one record and counts ``attempts``)."""

    __slots__ = (
        "_input",
        "_output",
        "_redactor",
        "attempts",
        "decision",
        "ended_at",
        "error",
        "kind",
        "name",
        "parent",
        "path",
        "sequence",
        "started_at",
        "status",
    )

    def __init__(
        self,
        *,
        path: str,
        name: str,
        kind: str,
        parent: str | None,
        started_at: float,
        input: Any,
        redactor: Redactor,
        sequence: int,
    ) -> None:
        self.path = path
        self.name = name
        self.kind = kind
        self.parent = parent
        self.started_at = started_at
        self.ended_at: float | None = None
        self.status = "running"
        self.attempts = 1
        self._input = input
        self._output: Any = None
        self.decision: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None
        self._redactor = redactor
        self.sequence = sequence

    @property
    def input(self) -> Any:
        """The task's raw input, secrets redacted."""
        return self._redactor.redact(self._input)

    @property
    def output(self) -> Any:
        """The task's transformed output, secrets redacted."""
        return self._redactor.redact(self._output)

    @property
    def shown_error(self) -> dict[str, Any] | None:
        """The task's error (type, title, detail, status, instance), secrets redacted."""
        return None if self.error is None else self._redactor.redact(self.error)

    @property
    def duration_ms(self) -> float | None:
        return None if self.ended_at is None else (self.ended_at - self.started_at) * 1000.0

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "path": self.path,
            "name": self.name,
            "kind": self.kind,
            "parent": self.parent,
            "status": self.status,
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "attempts": self.attempts,
            "input": self.input,
            "output": self.output,
        }
        if self.decision is not None:
            record["decision"] = self._redactor.redact(self.decision)
        if self.error is not None:
            record["error"] = self.shown_error
        return record

    def __repr__(self) -> str:
        return f"TaskRecord({self.path!r}, {self.status})"


class CompensationRecord:
    """One compensation run by the saga after a fault: which task it undid, how it went."""

    __slots__ = ("_redactor", "compensated", "ended_at", "error", "handler", "output", "started_at", "status")

    def __init__(self, *, compensated: str, handler: str, started_at: float, redactor: Redactor) -> None:
        self.compensated = compensated
        self.handler = handler
        self.started_at = started_at
        self.ended_at: float | None = None
        self.status = "running"
        self.output: Any = None
        self.error: dict[str, Any] | None = None
        self._redactor = redactor

    def to_dict(self) -> dict[str, Any]:
        return {
            "compensated": self.compensated,
            "handler": self.handler,
            "status": self.status,
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "output": self._redactor.redact(self.output),
            "error": self._redactor.redact(self.error),
        }


class Timeline:
    """The ordered records of one run (in start order) and the compensations it ran."""

    __slots__ = ("_sequence", "compensations", "records", "redactor")

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.records: list[TaskRecord] = []
        self.compensations: list[CompensationRecord] = []
        self.redactor = redactor or Redactor()
        self._sequence = 0

    def start(
        self, *, path: str, name: str, kind: str, parent: str | None, at: float, input: Any
    ) -> TaskRecord:
        self._sequence += 1
        record = TaskRecord(
            path=path,
            name=name,
            kind=kind,
            parent=parent,
            started_at=at,
            input=input,
            redactor=self.redactor,
            sequence=self._sequence,
        )
        self.records.append(record)
        return record

    def __iter__(self) -> Iterator[TaskRecord]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def find(self, name_or_path: str) -> list[TaskRecord]:
        """Records whose task name or path is ``name_or_path``."""
        return [r for r in self.records if name_or_path in (r.name, r.path)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "tasks": [record.to_dict() for record in self.records],
            "compensations": [c.to_dict() for c in self.compensations],
        }
