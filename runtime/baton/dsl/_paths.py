"""JSON paths as problems print them: ``do[2].fetchUser.call``, ``use.secrets[0]``."""

from __future__ import annotations

import json
import re

__all__ = ["index", "key"]

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
