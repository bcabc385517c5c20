"""Loaded documents by (namespace, name, version), for ``run: workflow``.

Documents are compiled on first use and cached, so workflows in one catalog may run each other
(recursion is bounded at run time by ``Limits.max_depth``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from baton.engine.compiled import CompiledWorkflow
    from baton.engine.limits import Limits

__all__ = ["Catalog"]


class _HasRaw(Protocol):
    @property
    def raw(self) -> Mapping[str, Any]: ...


def _version_key(version: str) -> tuple[tuple[int, ...], str]:
    numbers = tuple(int(n) for n in re.findall(r"\d+", version.split("-", 1)[0]))
    return numbers, version


class Catalog:
    def __init__(self, documents: Iterable[_HasRaw | Mapping[str, Any]] = ()) -> None:
        self._documents: dict[tuple[str, str, str], Mapping[str, Any]] = {}
        self._compiled: dict[tuple[str, str, str, int], CompiledWorkflow] = {}
        for document in documents:
            self.add(document)

    def add(self, document: _HasRaw | Mapping[str, Any]) -> tuple[str, str, str]:
        raw: Mapping[str, Any] = document if isinstance(document, Mapping) else document.raw
        meta = raw.get("document") or {}
        key = (str(meta.get("namespace", "")), str(meta.get("name", "")), str(meta.get("version", "")))
        self._documents[key] = raw
        return key

    def _key(self, namespace: str, name: str, version: str) -> tuple[str, str, str] | None:
        if version != "latest":
            key = (namespace, name, version)
            return key if key in self._documents else None
        versions = [k for k in self._documents if k[0] == namespace and k[1] == name]
        return max(versions, key=lambda k: _version_key(k[2])) if versions else None

    def has(self, namespace: str, name: str, version: str = "latest") -> bool:
        return self._key(namespace, name, version) is not None

    def compiled(self, namespace: str, name: str, version: str, *, limits: Limits) -> CompiledWorkflow:
        from baton.engine.compiler import compile_workflow

        key = self._key(namespace, name, version)
        if key is None:
            raise KeyError(f"{namespace}/{name}:{version}")
        cache_key = (*key, id(limits))
        compiled = self._compiled.get(cache_key)
        if compiled is None:
            compiled = compile_workflow(self._documents[key], catalog=self, limits=limits)
            self._compiled[cache_key] = compiled
        return compiled
