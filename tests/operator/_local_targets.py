"""A target resolver for the test plane, which has no kubelet: no pod ever runs, so there are no
EndpointSlices. The test runs the runtime as a local process and names it in a JSON file
(``BATON_TEST_TARGETS_FILE``: ``{"namespace/workflow": [{"name": ..., "url": ...}]}``), read on
every call, so the operator reads it exactly as it would read ready pods."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from pathlib import Path

from baton_operator.kube import Kube
from baton_operator.scrape import Target


async def resolve(kube: Kube, namespace: str, workflow: str) -> Sequence[Target]:
    path = Path(os.environ["BATON_TEST_TARGETS_FILE"])
    try:
        listed = json.loads(await asyncio.to_thread(path.read_text)).get(f"{namespace}/{workflow}", [])
    except (OSError, ValueError):
        return []
    return [Target(str(t["name"]), str(t["url"])) for t in listed]
