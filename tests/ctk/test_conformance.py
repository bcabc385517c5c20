"""The official Serverless Workflow conformance kit, every scenario run on Baton's engine.

One test per scenario (id ``<feature file>/<scenario name>``). A scenario whose document uses a
task kind Baton reports as not supported is skipped with that finding; every other scenario
must pass. ``tests/ctk/conftest.py`` prints the per-feature counts after the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ctk._gherkin import GherkinError, Scenario, parse_file
from tests.ctk._kit import FEATURES_DIR, feature_files
from tests.ctk._steps import compile_scenario
from tests.ctk.standins import serve_standins

SKIP_PREFIX = "not supported by Baton: "


@dataclass(frozen=True)
class Case:
    feature: Path
    scenario: Scenario | None
    broken: GherkinError | None = None


def _cases() -> list[object]:
    files = feature_files()
    if not files:
        reason = f"the conformance kit is absent ({FEATURES_DIR} not found; set BATON_SPEC_DIR)"
        return [pytest.param(None, id="kit-absent", marks=pytest.mark.skip(reason=reason))]
    cases: list[object] = []
    for path in files:
        try:
            feature = parse_file(path)
        except GherkinError as exc:
            # A file the parser refuses is one failing test, not a silently smaller suite.
            cases.append(pytest.param(Case(path, None, exc), id=f"{path.stem}/<unparsable>"))
            continue
        cases.extend(pytest.param(Case(path, s), id=f"{path.stem}/{s.name}") for s in feature.scenarios)
    return cases


@pytest.mark.parametrize("case", _cases())
async def test_the_kit_scenario_ends_as_its_feature_says(case: Case) -> None:
    # Imported here so that the parser and stand-in tests run even while the engine is broken.
    from tests.ctk._engine import Unsupported, execute

    if case.broken is not None:
        raise case.broken
    assert case.scenario is not None
    plan = compile_scenario(case.scenario)
    async with serve_standins() as host_map:
        try:
            outcome = await execute(
                plan, origin=f"{case.feature.name}:{case.scenario.line}", host_map=host_map
            )
        except Unsupported as exc:
            pytest.skip(SKIP_PREFIX + str(exc))
    for check in plan.checks:
        check(outcome)
