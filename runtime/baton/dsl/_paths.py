"""JSON paths as problems print them: ``do[2].fetchUser.call``, ``use.secrets[0]``."""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["index", "key", "order"]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_$@/:-][A-Za-z0-9_$@/:+-]*$")


def key(path: str, name: object) -> str:
    """``path`` followed by a mapping key; odd keys are quoted so the path stays unambiguous."""
    text = str(name)
    part = text if _PLAIN_KEY.match(text) else f"[{json.dumps(text)}]"
    if not path:
        return part
    return path + part if part.startswith("[") else f"{path}.{part}"


def index(path: str, position: int) -> str:
    return f"{path}[{position}]"


_TOKEN = re.compile(r'\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.\[]+)')


def order(raw: Any, path: str) -> tuple[int, ...]:
    """Where ``path`` is in ``raw``, as a sort key: problems then read in document order."""
    positions: list[int] = []
    node = raw
    for match in _TOKEN.finditer(path):
        position, quoted, plain = match.groups()
        if position is not None:
            step: Any = int(position)
            positions.append(step)
        else:
            step = json.loads(quoted) if quoted is not None else plain
            keys = list(node) if isinstance(node, dict) else []
            positions.append(keys.index(step) if step in keys else len(keys))
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
    return tuple(positions)
