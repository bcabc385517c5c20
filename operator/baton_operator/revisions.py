"""Content addressing: a revision is the hash of exactly what the runtime pods will read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

__all__ = ["revision_of"]

#: Ten hex digits: 40 bits, no realistic collision among one workflow's few revisions, short
#: enough for names and printer columns.
_LENGTH = 10


def revision_of(files: Mapping[str, str]) -> str:
    canonical = json.dumps(dict(sorted(files.items())), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:_LENGTH]
