"""Which version of which workflow answers a request: exact endpoint match, then version choice.

Routes are a plain dict keyed by (method, path): endpoint paths are literal by construction
(``baton.manifests.ENDPOINT_PATH``), so no pattern matching is needed on the hot path. A router is
immutable; a reload builds a new one and swaps it in, so a request keeps the one it started with.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from baton.definitions import RESERVED_PATHS
from baton.server.definitions import Definition
from baton.server.errors import DefinitionProblem

__all__ = ["RESERVED_PATHS", "VERSION_HEADER", "Route", "Router", "Selection", "build_router"]

#: A client pins a version with this header; every response names the version that served it.
VERSION_HEADER = "X-Baton-Version"


RoutedBy = Literal["header", "weight"]


@dataclass(frozen=True, slots=True)
class Selection:
    definition: Definition
    routed_by: RoutedBy


class Route:
    """The versions served at one endpoint, chosen by weight unless a version is asked for."""

    __slots__ = ("_by_version", "_cumulative", "_random", "_total", "method", "name", "path", "versions")

    def __init__(self, versions: Sequence[Definition], *, rng: random.Random | None = None) -> None:
        self.versions = tuple(versions)
        self.name = self.versions[0].name
        self.method = self.versions[0].endpoint.method
        self.path = self.versions[0].endpoint.path
        self._by_version = {definition.version: definition for definition in self.versions}
        running = 0
        cumulative = []
        for definition in self.versions:
            running += definition.weight
            cumulative.append(running)
        self._cumulative = cumulative
        self._total = running
        self._random = rng or random.Random()

    def select(self, requested: str | None = None) -> Selection | None:
        """The version for one request; None when the requested version is not served here."""
        if requested is not None:
            definition = self._by_version.get(requested)
            return None if definition is None else Selection(definition, "header")
        if len(self.versions) == 1 or self._total == 0:
            return Selection(self.versions[0], "weight")
        point = self._random.random() * self._total
        return Selection(self.versions[bisect.bisect_right(self._cumulative, point)], "weight")


class Router:
    __slots__ = ("_paths", "_routes", "definitions")

    def __init__(self, routes: Iterable[Route] = ()) -> None:
        self._routes: dict[tuple[str, str], Route] = {(r.method, r.path): r for r in routes}
        self._paths = {path for _, path in self._routes}
        self.definitions: tuple[Definition, ...] = tuple(
            definition for route in self._routes.values() for definition in route.versions
        )

    def match(self, method: str, path: str) -> Route | None:
        return self._routes.get((method, path))

    def knows_path(self, path: str) -> bool:
        return path in self._paths

    @property
    def routes(self) -> Mapping[tuple[str, str], Route]:
        return self._routes

    def __len__(self) -> int:
        return len(self._routes)


def build_router(
    definitions: Iterable[Definition], *, rng: random.Random | None = None
) -> tuple[Router, list[DefinitionProblem]]:
    """Group definitions into routes, refusing (not dropping silently) every conflict.

    A definition that conflicts with an earlier one is left out and named in the problems; the
    earlier one keeps serving.
    """
    problems: list[DefinitionProblem] = []
    by_endpoint: dict[tuple[str, str], list[Definition]] = {}
    for definition in definitions:
        endpoint = definition.endpoint
        where = f"metadata.name={definition.name}"
        if any(endpoint.path == p or endpoint.path.startswith(p + "/") for p in RESERVED_PATHS):
            problems.append(
                DefinitionProblem(definition.file, "spec.endpoint.path", f"{endpoint.path} is reserved")
            )
            continue
        versions = by_endpoint.setdefault((endpoint.method, endpoint.path), [])
        if versions and versions[0].name != definition.name:
            problems.append(
                DefinitionProblem(
                    definition.file,
                    "spec.endpoint",
                    f"{endpoint.method} {endpoint.path} is already served by workflow "
                    f"{versions[0].name!r} ({versions[0].file})",
                )
            )
            continue
        if any(existing.version == definition.version for existing in versions):
            problems.append(
                DefinitionProblem(
                    definition.file,
                    "spec.workflow.document.version",
                    f"version {definition.version} of {where} is loaded twice",
                )
            )
            continue
        versions.append(definition)
    return Router(Route(versions, rng=rng) for versions in by_endpoint.values()), problems
