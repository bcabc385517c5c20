"""The overhead benchmark keeps working (it is run by hand; this checks it, never its timings)."""

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "engine_overhead.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("engine_overhead", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module


async def test_the_benchmark_measures_both_flows_with_a_tiny_count() -> None:
    bench = _bench()
    rows = await bench.measure(set_tasks=5, http_tasks=3, repetitions=2)
    assert [row.flow for row in rows] == ["set", "call: http"]
    assert [row.tasks for row in rows] == [5, 3]
    for row in rows:
        for measure in (row.cpu, row.wall):
            assert measure.engine > 0
            assert measure.baseline > 0
        assert row.target_us in (50.0, 150.0)
    for row in rows:
        # Each flow has Baton's own part measured alone (expressions; the transport), and the
        # target is judged on the engine minus that part.
        assert row.cpu.expressions is not None
        assert row.overhead_us == row.cpu.orchestration
    assert "| set | 5 |" in bench.table(rows)


def test_the_command_prints_a_table_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _bench()
    target = tmp_path / "out" / "overhead.json"
    assert (
        bench.main(["--set-tasks", "4", "--http-tasks", "2", "--repetitions", "1", "--json", str(target)])
        == 0
    )
    payload = json.loads(target.read_text())
    assert [row["flow"] for row in payload["rows"]] == ["set", "call: http"]
    assert all(isinstance(row["overhead_us"], float) for row in payload["rows"])
    assert "| call: http | 2 |" in capsys.readouterr().out
