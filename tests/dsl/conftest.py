"""Shared inputs of the DSL tests: the official schema and conformance kit (when present)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from baton.dsl import read_document

SHARED = Path(__file__).resolve().parents[3] / "shared" / "serverless-workflow"
SCHEMA_FILE = SHARED / "schema" / "workflow.yaml"
FEATURES = SHARED / "ctk" / "features"
DOCUMENTS = Path(__file__).parent / "documents"

_DEFINITION = re.compile(r'a workflow with definition:\s*\n\s*"""yaml\n(.*?)"""', re.DOTALL)


def ctk_workflows() -> list[tuple[str, str]]:
    """(id, YAML text) of every workflow defined in the conformance kit's features."""
    if not FEATURES.is_dir():
        return []
    found = []
    for feature in sorted(FEATURES.glob("*.feature")):
        for number, match in enumerate(_DEFINITION.finditer(feature.read_text()), 1):
            found.append((f"{feature.stem}-{number}", match.group(1)))
    return found


_YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def specification_examples() -> list[tuple[str, str]]:
    """(id, YAML text) of every whole workflow shown in dsl.md and dsl-reference.md."""
    found = []
    for name in ("dsl.md", "dsl-reference.md"):
        page = SHARED / name
        if not page.is_file():
            continue
        for number, match in enumerate(_YAML_BLOCK.finditer(page.read_text()), 1):
            text = match.group(1)
            if "document:" in text and "do:" in text:
                found.append((f"{page.stem}-{number}", text))
    return found


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return "T" in value.upper()


@pytest.fixture(scope="session")
def official() -> Any:
    """The official JSON Schema validator, with formats asserted (see models/_base.py for why).

    The schema is read with Baton's YAML 1.2 reader: PyYAML's YAML 1.1 rules turn the
    schema's own ``on:`` key (``schedule.on``) into ``True``.
    """
    if not SCHEMA_FILE.is_file():
        pytest.skip(f"the official schema is not at {SCHEMA_FILE}")
    jsonschema = pytest.importorskip("jsonschema")
    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(_date_time)
    schema = read_document(SCHEMA_FILE, origin=str(SCHEMA_FILE))
    validator_class = jsonschema.Draft202012Validator
    return validator_class(schema, format_checker=checker)
