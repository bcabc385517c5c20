"""Prints the conformance kit's counts, per feature, at the end of any run that included it."""

from __future__ import annotations

from collections import defaultdict

import pytest

_SCENARIO_TEST = "test_conformance.py::test_the_kit_scenario_ends_as_its_feature_says["
_OUTCOMES = ("passed", "failed", "skipped")

#: nodeid -> (feature, scenario, outcome, detail); one entry per scenario test.
_results: dict[str, tuple[str, str, str, str]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _SCENARIO_TEST not in report.nodeid:
        return
    if report.when != "call" and not (report.failed or report.skipped):
        return
    case = report.nodeid.split(_SCENARIO_TEST, 1)[1].rstrip("]")
    feature, _, scenario = case.partition("/")
    outcome = "failed" if report.failed else "skipped" if report.skipped else "passed"
    detail = ""
    if report.skipped and isinstance(report.longrepr, tuple):
        detail = str(report.longrepr[2]).removeprefix("Skipped: ")
    elif report.failed:
        lines = str(report.longrepr).strip().splitlines()
        errors = [line for line in lines if line.startswith("E ")]
        detail = (errors[0] if errors else lines[-1] if lines else "").removeprefix("E").strip()
    # A teardown failure after a passing call overrides it; a passing teardown does not.
    if report.when == "call" or outcome != "passed":
        _results[report.nodeid] = (feature, scenario, outcome, detail)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _results:
        return
    per_feature: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_OUTCOMES, 0))
    for feature, _, outcome, _ in _results.values():
        per_feature[feature][outcome] += 1
    write = terminalreporter.write_line
    terminalreporter.section("Serverless Workflow conformance kit")
    write(f"{'feature':<12} {'passed':>6} {'failed':>6} {'skipped':>7}")
    totals = dict.fromkeys(_OUTCOMES, 0)
    for feature in sorted(per_feature):
        counts = per_feature[feature]
        write(f"{feature:<12} {counts['passed']:>6} {counts['failed']:>6} {counts['skipped']:>7}")
        for outcome in _OUTCOMES:
            totals[outcome] += counts[outcome]
    write(f"{'total':<12} {totals['passed']:>6} {totals['failed']:>6} {totals['skipped']:>7}")
    for feature, scenario, outcome, detail in sorted(_results.values()):
        if outcome != "passed":
            write(f"  {outcome.upper()} {feature}/{scenario}: {detail}")
