"""The host map both transports share: a public host answered by a local stand-in.

Tests, the conformance kit and the demo run workflows that name public hosts
(``petstore.swagger.io``); the map sends those requests to loopback servers while the
workflow, its URIs and its outputs keep naming the public host.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit, urlunsplit

__all__ = ["HostMap"]


class HostMap:
    """``host`` or ``host:port`` (case-blind) -> the base URL whose scheme and authority replace it."""

    __slots__ = ("_targets",)

    def __init__(self, mapping: Mapping[str, str] | None = None) -> None:
        self._targets: dict[str, SplitResult] = {k.lower(): urlsplit(v) for k, v in (mapping or {}).items()}

    def __bool__(self) -> bool:
        return bool(self._targets)

    def rewrite(self, url: str) -> str:
        """``url`` with a mapped host's scheme and authority swapped in; path and query kept."""
        if not self._targets:
            return url
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        try:
            port = parts.port
        except ValueError:
            # Not ours to judge: the transport reports the bad port as unsendable.
            return url
        mapped = self._targets.get(f"{host}:{port}") if port else None
        mapped = mapped or self._targets.get(host)
        if mapped is None:
            return url
        return urlunsplit((mapped.scheme, mapped.netloc, parts.path, parts.query, parts.fragment))
