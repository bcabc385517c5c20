from __future__ import annotations

import math

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from baton_operator.errors import ScrapeError
from baton_operator.status import RunSummary
from baton_operator.summary import (
    Counts,
    Ledger,
    PodReading,
    parse_metrics,
    parse_summary,
    quantile,
    run_status,
    update_ledger,
)

BUCKETS = (0.01, 0.1, 1.0)


def exposition(durations: dict[tuple[str, str], list[float]], *, other: int = 0) -> str:
    """A runtime pod's /metrics, made by the same client library and metric names it uses."""
    registry = CollectorRegistry()
    runs = Counter("baton_runs", "runs", ["workflow", "version", "outcome"], registry=registry)
    duration = Histogram(
        "baton_run_duration_seconds", "d", ["workflow", "version"], buckets=BUCKETS, registry=registry
    )
    for (version, outcome), values in durations.items():
        for value in values:
            runs.labels("greet", version, outcome).inc()
            duration.labels("greet", version).observe(value)
    for _ in range(other):
        runs.labels("someone-else", "1", "completed").inc()
    return generate_latest(registry).decode()


def reading(target: str, counts: Counts, *, started: float | None = 1.0, **extra: object) -> PodReading:
    return PodReading(target, counts, started, extra.get("last_run"), extra.get("failures", []))  # type: ignore[arg-type]


def test_metrics_of_all_versions_of_the_workflow_are_counted_and_others_ignored() -> None:
    text = exposition({("1", "completed"): [0.005, 0.05], ("2", "faulted"): [0.5]}, other=7)
    counts, started = parse_metrics(text, workflow="greet")
    assert (counts.total, counts.failed) == (3, 1)
    assert counts.buckets == {"0.01": 1, "0.1": 2, "1.0": 3, "+Inf": 3}
    assert started is not None


def test_text_that_is_not_prometheus_is_a_scrape_error() -> None:
    with pytest.raises(ScrapeError):
        parse_metrics("this is {not metrics", workflow="greet")


def test_quantiles_interpolate_inside_the_bucket_like_histogram_quantile() -> None:
    buckets = {"0.01": 0, "0.1": 50, "1.0": 100, "+Inf": 100}
    assert quantile(0.5, buckets) == pytest.approx(0.1)
    assert quantile(0.95, buckets) == pytest.approx(0.1 + 0.9 * 45 / 50)
    assert quantile(0.5, {"+Inf": 0}) is None
    assert quantile(0.99, {"0.1": 1, "+Inf": 10}) == pytest.approx(0.1)  # beyond the last bound


def test_counts_of_several_pods_add_up() -> None:
    a = reading("pod-a", Counts(10, 1, {"0.1": 8, "+Inf": 10}))
    b = reading("pod-b", Counts(5, 2, {"0.1": 1, "+Inf": 5}))
    ledger = update_ledger(Ledger(), [a, b], now="t1")
    totals = ledger.totals()
    assert (totals.total, totals.failed) == (15, 3)
    assert totals.buckets == {"0.1": 9, "+Inf": 15}


def test_scraping_the_same_pod_twice_does_not_count_its_runs_twice() -> None:
    first = update_ledger(Ledger(), [reading("pod-a", Counts(10, 1))], now="t1")
    second = update_ledger(first, [reading("pod-a", Counts(12, 1))], now="t2")
    assert second.totals().total == 12


def test_a_restarted_pod_keeps_the_runs_it_served_before() -> None:
    before = update_ledger(Ledger(), [reading("pod-a", Counts(10, 1), started=100.0)], now="t1")
    # A new process: counters start over (and its created timestamp is new).
    after = update_ledger(before, [reading("pod-a", Counts(3, 0), started=200.0)], now="t2")
    assert (after.totals().total, after.totals().failed) == (13, 1)
    # Without created timestamps, counters going backwards tell the same story.
    blind = update_ledger(Ledger(), [reading("pod-a", Counts(10, 1), started=None)], now="t1")
    assert update_ledger(blind, [reading("pod-a", Counts(2, 0), started=None)], now="t2").totals().total == 12


def test_a_pod_that_is_gone_or_unreadable_keeps_its_last_counts() -> None:
    ledger = update_ledger(
        Ledger(), [reading("pod-a", Counts(10, 1)), reading("pod-b", Counts(4, 0))], now="t1"
    )
    ledger = update_ledger(ledger, [reading("pod-b", Counts(6, 0))], now="t2")
    assert ledger.totals().total == 16


def test_the_ledger_survives_a_round_trip_through_the_status() -> None:
    ledger = update_ledger(
        Ledger(),
        [
            reading(
                "pod-a",
                Counts(4, 1, {"0.1": 3, "+Inf": 4}),
                last_run={"id": "r4", "endedAt": "2026-01-01T00:00:04.000Z", "traceId": "t4"},
                failures=[{"id": "r2", "endedAt": "2026-01-01T00:00:02.000Z", "traceId": "t2"}],
            )
        ],
        now="t1",
    )
    status = run_status(ledger)
    RunSummary.model_validate(status)  # what the CRD's status schema keeps
    restored = Ledger.from_status(status)
    assert restored.totals() == ledger.totals()
    assert (
        update_ledger(restored, [reading("pod-a", Counts(5, 1, {"0.1": 4, "+Inf": 5}))], now="t2")
        .totals()
        .total
        == 5
    )
    assert status["lastRun"]["traceId"] == "t4"
    assert status["lastFailures"][0]["traceId"] == "t2"


def test_the_newest_run_and_failures_win_across_pods() -> None:
    a = reading(
        "a",
        Counts(),
        last_run={"id": "1", "endedAt": "2026-01-01T00:00:01Z"},
        failures=[{"id": f"fa{i}", "endedAt": f"2026-01-01T00:00:0{i}Z"} for i in range(4)],
    )
    b = reading(
        "b",
        Counts(),
        last_run={"id": "2", "endedAt": "2026-01-01T00:00:09Z"},
        failures=[{"id": f"fb{i}", "endedAt": f"2026-01-01T00:01:0{i}Z"} for i in range(3)],
    )
    ledger = update_ledger(Ledger(), [a, b], now="t")
    assert ledger.last_run is not None
    assert ledger.last_run["id"] == "2"
    assert [f["id"] for f in ledger.failures] == ["fb2", "fb1", "fb0", "fa3", "fa2"]


def test_many_short_lived_pods_fold_into_the_base_without_losing_runs() -> None:
    ledger = Ledger()
    for i in range(50):
        ledger = update_ledger(ledger, [reading(f"pod-{i:02d}", Counts(1, 0))], now=f"t{i:02d}")
    assert len(ledger.pods) == 32
    assert ledger.totals().total == 50


def test_a_pod_summary_gives_the_last_run_and_failures_with_trace_ids() -> None:
    last, failures = parse_summary(
        {
            "total": 3,
            "lastRun": {
                "id": "r3",
                "outcome": "completed",
                "traceId": "abc",
                "endedAt": "x",
                "workflow": "greet",
            },
            "recentFailures": [
                {
                    "id": "r2",
                    "outcome": "faulted",
                    "traceId": "def",
                    "error": {"type": "https://e/timeout", "status": 504},
                }
            ],
        }
    )
    assert last == {"id": "r3", "outcome": "completed", "traceId": "abc", "endedAt": "x"}
    assert failures == [
        {"id": "r2", "outcome": "faulted", "traceId": "def", "errorType": "https://e/timeout"}
    ]
    with pytest.raises(ScrapeError):
        parse_summary(["not", "an", "object"])


def test_no_runs_give_no_percentiles() -> None:
    status = run_status(Ledger())
    assert status["total"] == 0
    assert status["p50Ms"] is None
    assert not math.isnan(float(status["failed"]))
