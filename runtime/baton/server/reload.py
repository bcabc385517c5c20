"""Definitions kept in step with their files: load, reload on change, keep serving on mistakes.

Watching polls modification times (one ``stat`` per file per interval: cheap, portable, and
it sees the atomic symlink swaps Kubernetes does for mounted ConfigMaps, which inotify
watchers of the file itself miss). Only changed files are re-read. A file whose new content is
refused keeps its previous definitions serving; a deleted file stops serving.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baton.server.definitions import Definition
from baton.server.errors import DefinitionProblem
from baton.server.loading import FlowFactory, LoadedFile, file_stamp, load_file, manifest_files
from baton.server.policies import build_gate, gate_problems
from baton.server.routing import Router, build_router

__all__ = ["Registry", "ReloadResult", "watch"]

log = logging.getLogger("baton.server")


@dataclass(frozen=True, slots=True)
class ReloadResult:
    changed: tuple[str, ...]
    problems: tuple[DefinitionProblem, ...]
    router: Router


class Registry:
    """The files being served and the router built from them."""

    def __init__(
        self, paths: Sequence[Path], *, factory: FlowFactory, secrets: Mapping[str, Any] | None = None
    ) -> None:
        self.paths = tuple(paths)
        self._factory = factory
        self._secrets: Mapping[str, Any] = secrets or {}
        self._files: dict[str, LoadedFile] = {}
        self._refused: dict[str, list[DefinitionProblem]] = {}
        self.problems: tuple[DefinitionProblem, ...] = ()

    def _stat(self) -> tuple[dict[str, tuple[int, int, int]], list[DefinitionProblem]]:
        files, problems = manifest_files(self.paths)
        mtimes: dict[str, tuple[int, int, int]] = {}
        for path in files:
            try:
                mtimes[str(path)] = file_stamp(path)
            except OSError:
                continue
        return mtimes, problems

    def load(self) -> ReloadResult:
        """Read every file that changed since the last load; build the router of what is valid.

        ``problems`` names every file currently refused (whether or not it changed this time)
        and every conflict between definitions.
        """
        mtimes, missing = self._stat()
        changed: list[str] = []
        for name in list(self._files):
            if name not in mtimes:
                del self._files[name]
                self._refused.pop(name, None)
                changed.append(name)
        for name, mtime in mtimes.items():
            previous = self._files.get(name)
            if previous is not None and previous.stamp == mtime:
                continue
            loaded = load_file(Path(name), factory=self._factory)
            changed.append(name)
            if loaded.problems:
                self._refused[name] = loaded.problems
                if previous is not None:
                    # Keep serving what was valid; note the refused mtime so it is not re-read.
                    previous.stamp = loaded.stamp
                    continue
            else:
                self._refused.pop(name, None)
            self._files[name] = loaded
        definitions, unbound = self._bind_policies()
        router, conflicts = build_router(definitions)
        self.problems = (
            *missing,
            *(p for found in self._refused.values() for p in found),
            *unbound,
            *conflicts,
        )
        return ReloadResult(tuple(changed), self.problems, router)

    def _bind_policies(self) -> tuple[list[Definition], list[DefinitionProblem]]:
        policies = {p.metadata.name: p for loaded in self._files.values() for p in loaded.policies}
        definitions: list[Definition] = []
        problems: list[DefinitionProblem] = []
        for loaded in self._files.values():
            for definition in loaded.definitions:
                names = definition.manifest.spec.policies
                if not names:
                    definitions.append(definition)
                    continue
                found = gate_problems(names, policies, self._secrets)
                if found:
                    problems.extend(DefinitionProblem(definition.file, "spec.policies", m) for m in found)
                    continue
                gate = build_gate(names, policies, self._secrets)
                definitions.append(dataclasses.replace(definition, gate=gate))
        return definitions, problems


async def watch(
    registry: Registry,
    apply: Callable[[ReloadResult], None],
    *,
    interval: float,
) -> None:
    """Poll until cancelled; hand every reload that changed something to ``apply``."""
    while True:
        await asyncio.sleep(interval)
        try:
            result = registry.load()
        except Exception:  # a watcher that dies silently is worse than one that logs and goes on
            log.exception("reloading definitions failed; the current definitions keep serving")
            continue
        if result.changed:
            apply(result)
