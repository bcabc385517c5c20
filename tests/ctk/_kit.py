"""Where the conformance kit lives: ``../shared/serverless-workflow/ctk`` beside the repository.

The kit is spec data and stays outside the repository; ``BATON_SPEC_DIR`` points elsewhere
(the folder holding ``ctk/`` and ``schema/``). Without it, every kit test skips with a reason.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["FEATURES_DIR", "SPEC_DIR", "feature_files"]

_REPO = Path(__file__).resolve().parents[2]
SPEC_DIR = Path(os.environ.get("BATON_SPEC_DIR", _REPO.parent / "shared" / "serverless-workflow"))
FEATURES_DIR = SPEC_DIR / "ctk" / "features"


def feature_files() -> list[Path]:
    return sorted(FEATURES_DIR.glob("*.feature")) if FEATURES_DIR.is_dir() else []
