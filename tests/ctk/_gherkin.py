"""A strict parser of the Gherkin subset the Serverless Workflow conformance kit uses.

The kit's features use ``Feature``, ``Scenario``, the step keywords and doc strings, nothing
else. Anything beyond that (tags, backgrounds, outlines, tables, rules) would change what a
scenario means, so it is refused with the file and line rather than silently skipped: a runner
that drops what it does not understand would report conformance it never checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DocString", "Feature", "GherkinError", "Scenario", "Step", "parse_feature", "parse_file"]

STEP_KEYWORDS = ("Given", "When", "Then", "And", "But")
_DELIMITERS = ('"""', "```")
_REFUSED = re.compile(r"^(Background|Scenario Outline|Scenario Template|Examples|Scenarios|Rule|Example):")


class GherkinError(ValueError):
    """A feature file uses syntax outside the supported subset, or is malformed."""

    def __init__(self, origin: str, line: int, message: str) -> None:
        super().__init__(f"{origin}:{line}: {message}")
        self.origin = origin
        self.line = line


@dataclass(frozen=True)
class DocString:
    content: str
    media_type: str  # "" when the delimiter names none


@dataclass(frozen=True)
class Step:
    keyword: str
    text: str
    line: int
    doc_string: DocString | None = None


@dataclass
class Scenario:
    name: str
    line: int
    steps: list[Step] = field(default_factory=list)


@dataclass
class Feature:
    name: str
    origin: str
    description: str = ""
    scenarios: list[Scenario] = field(default_factory=list)


def parse_file(path: Path) -> Feature:
    return parse_feature(path.read_text(encoding="utf-8"), origin=str(path))


def parse_feature(text: str, *, origin: str = "<feature>") -> Feature:
    lines = text.splitlines()
    feature: Feature | None = None
    scenario: Scenario | None = None
    description: list[str] = []
    index = 0
    while index < len(lines):
        number = index + 1
        stripped = lines[index].strip()
        index += 1
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("@"):
            raise GherkinError(origin, number, f"tags are not supported: {stripped!r}")
        if stripped.startswith("|"):
            raise GherkinError(origin, number, "data tables are not supported")
        if stripped.startswith(_DELIMITERS):
            raise GherkinError(origin, number, "a doc string must follow a step")
        if _REFUSED.match(stripped):
            raise GherkinError(origin, number, f"{stripped.split(':', 1)[0]!r} is not supported")
        if stripped.startswith("Feature:"):
            if feature is not None:
                raise GherkinError(origin, number, "a file holds exactly one Feature")
            feature = Feature(name=_title(stripped, "Feature:", origin, number), origin=origin)
            continue
        if feature is None:
            raise GherkinError(origin, number, f"expected 'Feature:', found {stripped!r}")
        if stripped.startswith("Scenario:"):
            scenario = Scenario(name=_title(stripped, "Scenario:", origin, number), line=number)
            if any(existing.name == scenario.name for existing in feature.scenarios):
                raise GherkinError(origin, number, f"duplicate scenario name {scenario.name!r}")
            feature.scenarios.append(scenario)
            continue
        keyword = stripped.split(" ", 1)[0]
        if keyword in STEP_KEYWORDS:
            if scenario is None:
                raise GherkinError(origin, number, "a step must belong to a Scenario")
            step_text = stripped[len(keyword) :].strip()
            if not step_text:
                raise GherkinError(origin, number, f"empty {keyword!r} step")
            doc_string, index = _doc_string(lines, index, origin)
            scenario.steps.append(Step(keyword=keyword, text=step_text, line=number, doc_string=doc_string))
            continue
        if scenario is None:
            # Free text between the Feature line and the first scenario is its description.
            description.append(stripped)
            continue
        raise GherkinError(origin, number, f"unrecognised line in scenario {scenario.name!r}: {stripped!r}")
    if feature is None:
        raise GherkinError(origin, 1, "no Feature in file")
    feature.description = "\n".join(description)
    for scenario in feature.scenarios:
        if not scenario.steps:
            raise GherkinError(origin, scenario.line, f"scenario {scenario.name!r} has no steps")
    return feature


def _title(stripped: str, keyword: str, origin: str, number: int) -> str:
    title = stripped[len(keyword) :].strip()
    if not title:
        raise GherkinError(origin, number, f"{keyword} needs a name")
    return title


def _doc_string(lines: list[str], index: int, origin: str) -> tuple[DocString | None, int]:
    """Read the doc string that starts at ``lines[index]``, if one does (skipping blank lines)."""
    probe = index
    while probe < len(lines) and not lines[probe].strip():
        probe += 1
    if probe >= len(lines):
        return None, index
    opening = lines[probe]
    stripped = opening.strip()
    delimiter = next((d for d in _DELIMITERS if stripped.startswith(d)), None)
    if delimiter is None:
        return None, index
    media_type = stripped[len(delimiter) :].strip()
    if not re.fullmatch(r"[A-Za-z0-9_+.-]*", media_type):
        raise GherkinError(origin, probe + 1, f"bad doc string media type {media_type!r}")
    # Per Gherkin, the opening delimiter's indentation is removed from every content line.
    indent = len(opening) - len(opening.lstrip())
    body: list[str] = []
    cursor = probe + 1
    while cursor < len(lines):
        line = lines[cursor]
        if line.strip() == delimiter:
            return DocString(content="\n".join(body), media_type=media_type), cursor + 1
        leading = len(line) - len(line.lstrip())
        body.append(line[min(indent, leading) :])
        cursor += 1
    raise GherkinError(origin, probe + 1, "doc string is never closed")
